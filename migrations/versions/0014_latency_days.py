"""The voice bot's latency summary (issue 13): each UTC day's latencies per group, sorted.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

GET /api/voicebot/latency answers exact nearest-rank percentiles, which need every value: over
90 days that was a scan and join of some 450,000 turns per request. `voicebot.latency_days`
holds, per enterprise, UTC day of the calls' start, scenario and prompt version, how many turns
those calls have and each component's values over them: sorted, packed into a BYTEA of 16-bit
words, one per value in [0, 32767] and four per any other (format and why:
sinks/voicebot/latency_components.py); `turn` is llm + tts of a bot turn. The stream keeps each row
what the stored calls and turns make (sinks/voicebot/latency_days.py), so the rows are
identical after any replay, reordering or duplication; the API merges the rows of the whole
days of a range.

The upgrade fills the table from the calls and turns already stored, with the sink's own
statement as it stands at this revision (migrations import no product code; the equality is
tests/integration/sinks/voicebot_latency/test_latency_days.py's).

Scenario and prompt version may be null, and null is a group of its own: NULLS NOT DISTINCT
(PostgreSQL 15) keeps one row per group; its index serves the (enterprise_id, day) reads.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


_BOT = "t.speaker = 'bot'"
_VALUES = {
    "stt": ("t.stt_latency_ms", "t.speaker = 'customer' AND t.stt_latency_ms IS NOT NULL"),
    "llm": ("t.llm_latency_ms", f"{_BOT} AND t.llm_latency_ms IS NOT NULL"),
    "tts": ("t.tts_latency_ms", f"{_BOT} AND t.tts_latency_ms IS NOT NULL"),
    "turn": (
        "t.llm_latency_ms::bigint + t.tts_latency_ms",
        f"{_BOT} AND t.llm_latency_ms IS NOT NULL AND t.tts_latency_ms IS NOT NULL",
    ),
}
# A value in one 16-bit word, or outside [0, 32767] in four with their high bits set, each
# 15 bits of the value plus 2**59.
_WIDE_SHIFTS = (45, 30, 15, 0)


def _word(value: str) -> str:
    wide = " || ".join(
        f"int2send(((((({value})::bigint + {1 << 59}) >> {shift}) & 32767) - 32768)::smallint)"
        for shift in _WIDE_SHIFTS
    )
    narrow = f"int2send(({value})::smallint)"
    return f"CASE WHEN ({value}) BETWEEN 0 AND 32767 THEN {narrow} ELSE {wide} END"


_ARRAYS = ", ".join(
    f"coalesce(string_agg({_word(value)}, ''::bytea ORDER BY {value})"
    f" FILTER (WHERE {which}), ''::bytea)"
    for value, which in _VALUES.values()
)
_BACKFILL = f"""
INSERT INTO voicebot.latency_days
    (enterprise_id, day, scenario, prompt_version, turns, stt, llm, tts, turn)
SELECT c.enterprise_id, (c.started_at AT TIME ZONE 'UTC')::date, c.scenario, c.prompt_version,
    count(*), {_ARRAYS}
FROM voicebot.calls c
JOIN voicebot.call_turns t ON t.enterprise_id = c.enterprise_id AND t.call_id = c.id
    AND t.created_at >= c.started_at - interval '1 day'
    AND t.created_at < c.started_at + interval '1 day'
GROUP BY 1, 2, 3, 4
"""


def upgrade() -> None:
    op.execute("""
CREATE TABLE voicebot.latency_days (
    enterprise_id TEXT NOT NULL,
    day DATE NOT NULL,
    scenario TEXT,
    prompt_version TEXT,
    turns INTEGER NOT NULL,
    stt BYTEA NOT NULL,
    llm BYTEA NOT NULL,
    tts BYTEA NOT NULL,
    turn BYTEA NOT NULL,
    UNIQUE NULLS NOT DISTINCT (enterprise_id, day, scenario, prompt_version)
)""")
    # Reading the values is the route's cost. Latencies hardly compress, so they are stored as
    # they are, and in the row up to a page: a day's group of a few hundred turns is then read
    # with its row rather than fetched value by value from the TOAST table.
    for column in ("stt", "llm", "tts", "turn"):
        op.execute(f"ALTER TABLE voicebot.latency_days ALTER COLUMN {column} SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE voicebot.latency_days SET (toast_tuple_target = 8160)")
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.execute("DROP TABLE voicebot.latency_days")
