"""What the `/api/voicebot/...` routes answer (contract section 9, camelCase as it spells them).

Field names are the answers' own: the analytics modules (api/analytics/voicebot) build exactly
these keys, and tests/unit/api/routes/voicebot checks that they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


def _count(description: str) -> Any:
    return Field(ge=0, description=description)


def _json(description: str) -> Any:
    return Field(description=f"{description} JSON as stored.")


class Day(BaseModel):
    """One day's figures (streams.voicebot.daily.DailyStats): the calls that started in it."""

    date: date
    totalCalls: int = _count("Calls that started on the day.")
    resolvedByBot: int = _count("Calls not transferred to an operator.")
    transferred: int = _count("Calls transferred to an operator.")
    containmentPct: float | None = Field(description="resolvedByBot ÷ totalCalls * 100.")
    avgDurationSec: float | None = Field(description="Mean duration of the calls that have one.")
    avgQualityScore: float | None = Field(
        description="Mean quality score (0..1) of the calls that have one."
    )
    totalCostUsd: float = Field(description="Σ total_cost_usd of the calls.")
    scenarioBreakdown: dict[str, int] = Field(description="{scenario: calls}.")
    transferReasons: dict[str, int] = Field(description="{reason: transferred calls}.")
    hourlyDistribution: dict[str, int] = Field(
        description='{"0".."23": calls that started in that hour (of `tz`)}.'
    )


class Days(BaseModel):
    days: list[Day] = Field(description="Days with at least one call, in date order.")


class BotCall(BaseModel):
    """A call's winning version (newest occurred_at)."""

    callId: str = Field(description="The Asterisk channel uuid.")
    enterpriseId: str
    startedAt: datetime
    endedAt: datetime | None
    durationSeconds: int | None
    callerId: str | None
    customerId: str | None
    scenario: str | None
    transferredToOperator: bool
    transferReason: str | None
    orderId: str | None
    fittingBookingId: str | None
    promptVersion: str | None
    qualityScore: float | None = Field(description="0..1.")
    costBreakdown: dict[str, float] = Field(description="USD per component (stt, llm, tts, ...).")
    totalCostUsd: float | None


class Turn(BaseModel):
    turnNumber: int
    speaker: Literal["customer", "bot"]
    content: str | None = Field(
        description="What was said; null once older than the transcript retention (90 days)."
    )
    sttConfidence: float | None
    sttLatencyMs: int | None
    llmLatencyMs: int | None
    ttsLatencyMs: int | None
    createdAt: datetime


class ToolCall(BaseModel):
    turnNumber: int
    toolName: str
    toolArgs: Any = _json("The tool's arguments.")
    toolResult: Any = _json("Its result, null if none.")
    durationMs: int
    success: bool
    createdAt: datetime


class BotCallDetail(BotCall):
    turns: list[Turn] = Field(description="In turn_number order (then time, speaker).")
    toolCalls: list[ToolCall] = Field(description="In turn_number order (then time).")


class BotCallPage(BaseModel):
    calls: list[BotCall] = Field(description="Newest first, by startedAt.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last one."
    )


class Distribution(BaseModel):
    """Nearest-rank percentiles in ms; null when there are no values."""

    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    count: int = _count("How many values.")


class Components(BaseModel):
    stt: Distribution = Field(description="stt_latency_ms of the customer's turns.")
    llm: Distribution = Field(description="llm_latency_ms of the bot's turns.")
    tts: Distribution = Field(description="tts_latency_ms of the bot's turns.")
    turn: Distribution = Field(description="llm + tts of each bot turn that has both.")


class Latency(BaseModel):
    components: Components


GroupKey = str | None


class LatencyGroup(BaseModel):
    key: GroupKey = Field(
        description="The day (YYYY-MM-DD), scenario or prompt version; null for calls without"
        " a scenario or prompt version."
    )
    components: Components


class LatencyGroups(BaseModel):
    groups: list[LatencyGroup] = Field(description="In key order, null last.")


class Costs(BaseModel):
    totalUsd: float = Field(description="Σ of every component of every call's cost_breakdown.")
    perCallUsd: float | None = Field(
        description="totalUsd ÷ the calls that carry a cost_breakdown; null for none."
    )
    byComponent: dict[str, float] = Field(description="{component: USD}.")


class CostGroup(Costs):
    key: GroupKey = Field(
        description="The day (YYYY-MM-DD), scenario or prompt version; null for calls without"
        " a scenario or prompt version."
    )


class CostGroups(BaseModel):
    groups: list[CostGroup] = Field(description="In key order, null last.")


class Tool(BaseModel):
    toolName: str
    calls: int = _count("Tool calls.")
    successPct: float | None = Field(description="Successful ÷ calls * 100.")
    p95Ms: float | None = Field(description="Nearest-rank p95 of duration_ms.")


class Tools(BaseModel):
    tools: list[Tool] = Field(description="By toolName.")


class AbTest(BaseModel):
    testName: str
    enterpriseId: str
    variantA: str = Field(description="Prompt version name of variant A.")
    variantB: str = Field(description="Prompt version name of variant B.")
    status: Literal["running", "stopped", "finished"]
    startedAt: datetime
    endedAt: datetime | None
    callsA: int = _count("Calls of variant A during the test.")
    qualityA: float | None = Field(description="Mean quality score of A's calls that have one.")
    transferPctA: float | None = Field(description="A's calls transferred ÷ A's calls * 100.")
    costPerCallA: float | None = Field(description="Mean total_cost_usd of A's calls with one.")
    callsB: int = _count("Calls of variant B during the test.")
    qualityB: float | None
    transferPctB: float | None
    costPerCallB: float | None
    qualityPValue: float | None = Field(description="Welch's t-test, two-sided.")
    transferPValue: float | None = Field(description="Two-proportion z-test, two-sided.")
    winner: Literal["A", "B"] | None = Field(
        description="The variant with the higher mean quality once qualityPValue < 0.05."
    )


class AbTests(BaseModel):
    tests: list[AbTest] = Field(description="Newest first.")


class Handoffs(BaseModel):
    handoffs: int = _count("Calls the bot transferred to an operator.")
    answered: int = _count("... whose queue session was answered.")
    abandoned: int = _count("... abandoned after short_abandon_sec.")
    shortAbandoned: int = _count("... abandoned within short_abandon_sec.")
    flowOut: int = _count("... that left the queue by timeout, empty queue, key or transfer.")
    blocked: int = _count("... refused entry to the queue.")
    waiting: int = _count("... whose queue session has no outcome yet.")
    unmatched: int = _count("... without a queue session.")
    asaSec: float | None = Field(description="Σ wait of answered ÷ answered.")
