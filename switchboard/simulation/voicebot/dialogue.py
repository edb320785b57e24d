"""One call to the voice bot, decided turn by turn: what is said, how long each component takes,
which tools run and whether they fail, whether the caller ends up with an operator, what it costs.

The result is the call's generative record (`BotCall`): the ground truth is computed from the
events rendered from it, never from the worker's tables. Times are whole milliseconds since the
simulation's start, as Avro keeps them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchboard.simulation.contact_centre.engine import lognormal_ms, ms
from switchboard.simulation.voicebot import catalogue as cat
from switchboard.simulation.voicebot.catalogue import Prompt, Scenario

# Speech: about 14 characters a second, plus the pauses people leave before they answer.
SPEECH_MS_PER_CHAR = 70
GREETING_PICKUP_MS = (600, 1200)
HANGUP_MS = (800, 2500)
TRANSFER_RING_MS = (300, 1500)


@dataclass(frozen=True, slots=True)
class Turn:
    number: int
    speaker: str  # customer or bot
    at_ms: int  # created_at: a customer turn when its transcript is ready, a bot turn when spoken
    content: str
    stt_confidence: float | None = None
    stt_latency_ms: int | None = None
    llm_latency_ms: int | None = None
    tts_latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ToolUse:
    turn_number: int
    at_ms: int  # when the result (or the timeout) came back
    tool_name: str
    args: dict[str, Any]
    result: dict[str, Any] | None
    duration_ms: int
    success: bool


@dataclass
class BotCall:
    """Everything one call did."""

    call_id: str
    enterprise_id: str
    caller_id: str
    customer_id: str | None
    started_ms: int
    scenario: Scenario
    prompt: Prompt
    ended_ms: int = 0
    transferred: bool = False
    transfer_reason: str | None = None
    handoff_ms: int | None = None  # when the caller enters the operators' queue
    order_id: str | None = None
    fitting_booking_id: str | None = None
    quality: float = 0.0
    costs: dict[str, float] = field(default_factory=dict)
    turns: list[Turn] = field(default_factory=list)
    tools: list[ToolUse] = field(default_factory=list)

    @property
    def duration_seconds(self) -> int:
        return (self.ended_ms - self.started_ms) // 1000

    @property
    def total_cost(self) -> float:
        return round(math.fsum(self.costs.values()), cat.COST_DIGITS)


@dataclass(frozen=True)
class _Slots:
    """The particulars one call talks about."""

    size: str
    season: str
    brand: str
    station: str
    order: str

    def fill(self, line: str) -> str:
        return line.format(
            size=self.size,
            season=self.season,
            brand=self.brand,
            station=self.station,
            order=self.order,
        )


class Conversation:
    """Plays one call; `name(kind)` makes the ids (order, booking) stable under the run."""

    def __init__(
        self,
        rng: random.Random,
        call: BotCall,
        *,
        operators_open: Callable[[int], bool],
        name: Callable[[str], str],
    ) -> None:
        self._rng = rng
        self._call = call
        self._open = operators_open
        self._name = name
        self._now = call.started_ms
        self._slots = _Slots(
            rng.choice(cat.SIZES),
            rng.choice(cat.SEASONS),
            rng.choice(cat.BRANDS),
            rng.choice(cat.STATIONS),
            f"TC-{rng.randrange(10**6):06d}",
        )
        self._customer_audio_ms = 0
        self._llm_input_tokens = 0
        self._llm_output_tokens = 0
        self._tts_characters = 0
        self._failures = 0
        self._closed_line = False
        self._number = 0  # the next turn's number

    def play(self) -> BotCall:
        rng, call, scenario = self._rng, self._call, self._call.scenario
        self._now += rng.randint(*GREETING_PICKUP_MS)
        self._bot(cat.GREETING, pre_recorded=True)
        exchanges = rng.randint(*scenario.exchanges)
        wants_operator = rng.random() < min(scenario.transfer * call.prompt.transfer_factor, 1.0)
        # The caller asks for an operator after hearing the bot out for a while.
        ask_at = rng.randint(1, exchanges) if wants_operator else 0
        low_in_a_row = 0
        for exchange in range(1, exchanges + 1):
            confidence = self._customer(self._line(cat.CUSTOMER_LINES, exchange))
            low_in_a_row = low_in_a_row + 1 if confidence < cat.LOW_CONFIDENCE_BELOW else 0
            if low_in_a_row >= 2 and self._transfer(cat.LOW_CONFIDENCE):
                return self._end()
            if exchange == ask_at:
                reasons, weights = zip(*scenario.transfer_reasons, strict=True)
                if self._transfer(rng.choices(reasons, weights)[0]):
                    return self._end()
            failed = self._tools(exchange)
            if failed and rng.random() < 0.45 and self._transfer(cat.TOOL_FAILURE):
                return self._end()
            line = self._line(cat.BOT_LINES, exchange)
            if failed:
                line = "Sorry, I couldn't get that information right now. " + line
            self._bot(line)
        self._created()
        self._bot(cat.GOODBYE)
        self._now += rng.randint(*HANGUP_MS)
        return self._end()

    # -- turns -----------------------------------------------------------------------------

    def _line(self, lines: dict[str, tuple[str, ...]], exchange: int) -> str:
        options = lines[self._call.scenario.name]
        return self._slots.fill(options[min(exchange, len(options)) - 1])

    def _customer(self, content: str) -> float:
        rng = self._rng
        self._now += rng.randint(300, 1500)  # the pause before they speak
        speech = len(content) * SPEECH_MS_PER_CHAR + rng.randint(0, 800)
        self._now += speech
        self._customer_audio_ms += speech
        stt = lognormal_ms(rng, cat.STT_MEDIAN_MS / 1000, cat.STT_SIGMA, *cat.STT_RANGE)
        self._now += stt
        if rng.random() < 0.05:  # noise, an accent, a bad line
            confidence = round(rng.uniform(0.35, 0.7), 3)
        else:
            confidence = round(min(rng.gauss(0.93, 0.03), 0.999), 3)
        self._call.turns.append(
            Turn(self._number, "customer", self._now, content, confidence, stt_latency_ms=stt)
        )
        self._number += 1
        return confidence

    def _bot(self, content: str, *, pre_recorded: bool = False) -> None:
        """The bot thinks, speaks, and its turn is created when the first audio plays; a
        pre-recorded line (the greeting) needs neither the LLM nor the TTS."""
        rng, prompt = self._rng, self._call.prompt
        llm = tts = None
        if not pre_recorded:
            llm = lognormal_ms(
                rng, cat.LLM_MEDIAN_MS * prompt.llm_factor / 1000, cat.LLM_SIGMA, *cat.LLM_RANGE
            )
            tts = lognormal_ms(rng, cat.TTS_MEDIAN_MS / 1000, cat.TTS_SIGMA, *cat.TTS_RANGE)
            self._now += llm + tts
            self._llm_input_tokens += prompt.prompt_tokens + 45 * self._number
            self._llm_output_tokens += len(content) // 4 + 1
            self._tts_characters += len(content)
        self._call.turns.append(
            Turn(self._number, "bot", self._now, content, llm_latency_ms=llm, tts_latency_ms=tts)
        )
        self._number += 1
        self._now += len(content) * SPEECH_MS_PER_CHAR

    def _tools(self, exchange: int) -> bool:
        """The tool this exchange needs, if any, run before the bot answers; True if it failed
        (once retried for a search, which is cheap)."""
        tools = self._call.scenario.tools
        if exchange > len(tools):
            return False
        name = tools[exchange - 1]
        ok = self._tool(name)
        if not ok and name.startswith("search"):
            ok = self._tool(name)
        if not ok:
            self._failures += 1
        return not ok

    def _tool(self, name: str) -> bool:
        """One invocation, numbered as the bot turn it serves (the next one)."""
        rng, tool = self._rng, cat.TOOLS[name]
        self._now += rng.randint(80, 250)  # the LLM decides to call it
        args = self._args(name)
        if rng.random() < tool.failure:
            timeout = rng.random() < 0.7
            duration = (
                tool.timeout_ms + rng.randint(0, 40) if timeout else ms(rng.uniform(0.05, 0.6))
            )
            result: dict[str, Any] | None = None if timeout else {"error": "upstream returned 503"}
            success = False
        else:
            duration = lognormal_ms(rng, tool.median_ms / 1000, tool.sigma, 20, tool.timeout_ms)
            result, success = self._result(name), True
        self._now += duration
        self._call.tools.append(
            ToolUse(self._number, self._now, name, args, result, duration, success)
        )
        self._llm_input_tokens += 120  # the result goes back into the context
        return success

    def _args(self, name: str) -> dict[str, Any]:
        s = self._slots
        args: dict[str, dict[str, Any]] = {
            "search_tires": {"size": s.size, "season": s.season},
            "check_stock": {"brand": s.brand, "size": s.size, "station": s.station},
            "create_order": {"brand": s.brand, "size": s.size, "quantity": 4},
            "get_order_status": {"order_number": s.order},
            "find_fitting_slots": {"station": s.station, "days": 2},
            "book_fitting": {"station": s.station, "slot": "09:30", "size": s.size},
            "search_knowledge": {"query": self._call.scenario.name.replace("_", " ")},
        }
        return args[name]

    def _result(self, name: str) -> dict[str, Any]:
        rng, s = self._rng, self._slots
        if name == "search_tires":
            return {"found": rng.randint(2, 14), "cheapest": rng.randrange(4800, 9000, 100)}
        if name == "check_stock":
            return {"station": s.station, "in_stock": rng.randint(0, 16)}
        if name == "create_order":
            return {"order_id": self._name("order"), "total": rng.randrange(19200, 36000, 400)}
        if name == "get_order_status":
            return {"status": rng.choice(("processing", "shipped", "ready_for_pickup"))}
        if name == "find_fitting_slots":
            return {"slots": ["09:30", "11:00", "14:30"][: rng.randint(1, 3)]}
        if name == "book_fitting":
            return {"booking_id": self._name("booking"), "slot": "09:30"}
        return {"articles": [f"kb-{rng.randint(1, 12):02d}"]}

    def _transfer(self, reason: str) -> bool:
        """Hands the caller over if the operators are in; otherwise says when they are."""
        if not self._open(self._now):
            if not self._closed_line:
                self._closed_line = True
                self._bot(cat.CLOSED_LINE)
            return False
        self._bot(cat.TRANSFER_LINE)
        call = self._call
        call.transferred, call.transfer_reason = True, reason
        return True

    def _created(self) -> None:
        """A good call ends with what the caller came for."""
        call = self._call
        creates = call.scenario.creates
        made = {t.tool_name: t for t in call.tools if t.success}
        if creates == "order" and "create_order" in made:
            result = made["create_order"].result or {}
            call.order_id = result.get("order_id")
        elif creates == "fitting_booking" and "book_fitting" in made:
            result = made["book_fitting"].result or {}
            call.fitting_booking_id = result.get("booking_id")

    # -- the end ---------------------------------------------------------------------------

    def _end(self) -> BotCall:
        rng, call = self._rng, self._call
        # The bot's leg lasts whole seconds, as the PBX reports a duration: the end and the
        # duration then agree whichever of the two a reader uses.
        seconds = -(-(self._now - call.started_ms) // 1000)
        call.ended_ms = call.started_ms + seconds * 1000
        if call.transferred:
            call.handoff_ms = call.ended_ms + rng.randint(*TRANSFER_RING_MS)
        call.quality = self._quality()
        call.costs = self._costs(seconds)
        return call

    def _quality(self) -> float:
        """What the LLM judge scores the call: the scenario's and prompt's level, less for
        failures, hand-overs the caller did not ask for and a closed line."""
        call = self._call
        mean = call.scenario.quality + call.prompt.quality_shift - 0.1 * self._failures
        if call.transferred and call.transfer_reason in (cat.TOOL_FAILURE, cat.LOW_CONFIDENCE):
            mean -= 0.08
        if self._closed_line:
            mean -= 0.06
        return round(min(max(self._rng.gauss(mean, 0.08), 0.05), 0.99), 3)

    def _costs(self, seconds: int) -> dict[str, float]:
        digits = cat.COST_DIGITS
        llm = (
            self._llm_input_tokens * cat.LLM_PER_INPUT_TOKEN
            + self._llm_output_tokens * cat.LLM_PER_OUTPUT_TOKEN
        )
        return {
            "stt": round(self._customer_audio_ms / 60_000 * cat.STT_PER_MINUTE, digits),
            "llm": round(llm, digits),
            "tts": round(self._tts_characters * cat.TTS_PER_CHARACTER, digits),
            "telephony": round(seconds / 60 * cat.TELEPHONY_PER_MINUTE, digits),
        }
