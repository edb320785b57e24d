"""What a latency component is, in SQL over a call `c` (voicebot.calls) and its turns `t`
(voicebot.call_turns): the one definition the stream's summary (sinks.voicebot.latency_days)
and the API's scan of the turns (api.analytics.voicebot.latency) both use, so that the two
cannot disagree on which turn counts.

`stt` is the STT latency of the customer's turns, `llm` and `tts` those of the bot's, `turn`
llm + tts of each bot turn that has both, in BIGINT (two INTEGERs may overflow one).

A group's values of a component are packed, sorted, into a BYTEA of 16-bit big-endian words:
a value in [0, 32767], as latencies in milliseconds are, is one word, its high bit clear;
any other, four words with their high bits set, each 15 bits of the value plus 2**59 (so
[-2**59, 2**59), which holds the sum of two INTEGERs), most significant first. A run of set high
bits is thus whole values of four words. Unlike an INTEGER[] (whose `array_send`, or asyncpg's
list of Python ints, costs a call per element: a third of a second over 90 days), the packed
values of many rows join as bytes and numpy reads them as they come
(api.analytics.voicebot.packed_values); at two bytes a value rather than four or eight, a 90-day
request moves 1.8 MB instead of 4.4 (BENCHMARKS.md).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

COMPONENTS = ("stt", "llm", "tts", "turn")
NARROW_MAX = 0x7FFF
WIDE_BIAS = 1 << 59
WIDE_BITS = 0x7FFF
WIDE_FLAG = 0x8000
# The shifts of a wide value's four words, most significant first.
WIDE_SHIFTS = (45, 30, 15, 0)

_BOT = "t.speaker = 'bot'"
# Per component: the value of a turn, and which turns have one.
VALUES = {
    "stt": ("t.stt_latency_ms", "t.speaker = 'customer' AND t.stt_latency_ms IS NOT NULL"),
    "llm": ("t.llm_latency_ms", f"{_BOT} AND t.llm_latency_ms IS NOT NULL"),
    "tts": ("t.tts_latency_ms", f"{_BOT} AND t.tts_latency_ms IS NOT NULL"),
    "turn": (
        "t.llm_latency_ms::bigint + t.tts_latency_ms",
        f"{_BOT} AND t.llm_latency_ms IS NOT NULL AND t.tts_latency_ms IS NOT NULL",
    ),
}

# A turn is stored by its own created_at (the partition key), and counts with its call when
# within a day of the call's start: a bound the turn's partitions can be pruned by, which holds
# for any range the call is counted in, so a call's turns never depend on the range asked.
TURN_WINDOW = "interval '1 day'"
TURNS_OF_CALL = (
    "t.enterprise_id = c.enterprise_id AND t.call_id = c.id"
    f" AND t.created_at >= c.started_at - {TURN_WINDOW}"
    f" AND t.created_at < c.started_at + {TURN_WINDOW}"
)


def packed_values() -> str:
    """Each component's values over a group's turns, sorted and packed (empty without any),
    named after it."""
    return ", ".join(
        f"coalesce(string_agg({_word(value)}, ''::bytea ORDER BY {value})"
        f" FILTER (WHERE {which}), ''::bytea) AS {name}"
        for name, (value, which) in VALUES.items()
    )


def _word(value: str) -> str:
    # A word with its high bit set is, as a SMALLINT, its low 15 bits minus 2**15.
    wide = " || ".join(
        f"int2send(((((({value})::bigint + {WIDE_BIAS}) >> {shift}) & {WIDE_BITS})"
        f" - {WIDE_FLAG})::smallint)"
        for shift in WIDE_SHIFTS
    )
    return (
        f"CASE WHEN ({value}) BETWEEN 0 AND {NARROW_MAX}"
        f" THEN int2send(({value})::smallint) ELSE {wide} END"
    )


def unpack(packed: bytes) -> list[int]:
    """A component's packed values, in their order."""
    words = struct.unpack(f">{len(packed) // 2}H", packed)
    if all(word <= NARROW_MAX for word in words):
        return list(words)
    values: list[int] = []
    at = 0
    while at < len(words):
        if words[at] <= NARROW_MAX:
            values.append(words[at])
            at += 1
            continue
        biased = 0
        for word in words[at : at + len(WIDE_SHIFTS)]:
            biased = biased << 15 | word & WIDE_BITS
        values.append(biased - WIDE_BIAS)
        at += len(WIDE_SHIFTS)
    return values


def pack(values: Iterable[int]) -> bytes:
    """A component's values, sorted and packed as `packed_values` packs them."""
    ordered = sorted(values)
    if all(0 <= value <= NARROW_MAX for value in ordered):
        return struct.pack(f">{len(ordered)}H", *ordered)
    words: list[int] = []
    for value in ordered:
        if 0 <= value <= NARROW_MAX:
            words.append(value)
        else:
            words.extend(
                WIDE_FLAG | (value + WIDE_BIAS) >> shift & WIDE_BITS for shift in WIDE_SHIFTS
            )
    return struct.pack(f">{len(words)}H", *words)
