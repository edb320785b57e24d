"""What a tyre shop's voice bot does: its scenarios, tools, prompt versions and prices.

A fixed catalogue, the same for every seed, so that the prompt rows and the tools a run reports
stay the same between runs. Latencies are log-normal around medians measured on production
voice agents (streaming STT, a small hosted LLM, streaming TTS); prices are list prices per unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Tool:
    """A function the bot may call, how long it takes and how often it fails."""

    name: str
    median_ms: float
    sigma: float
    failure: float  # share of the calls that fail (a timeout or an error answer)
    timeout_ms: int  # a failed call is usually a timeout: it lasts about this long


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool("search_tires", 420.0, 0.45, 0.03, 3000),
        Tool("check_stock", 260.0, 0.4, 0.04, 2500),
        Tool("create_order", 650.0, 0.35, 0.05, 4000),
        Tool("get_order_status", 380.0, 0.5, 0.09, 3000),
        Tool("find_fitting_slots", 520.0, 0.4, 0.06, 3500),
        Tool("book_fitting", 700.0, 0.35, 0.07, 4000),
        Tool("search_knowledge", 140.0, 0.3, 0.01, 1500),
    )
}


@dataclass(frozen=True)
class Scenario:
    """One thing callers ring about: how often, how long the talk is, which tools it needs
    (in order, one per bot turn from the second on), and why it may go to an operator."""

    name: str
    weight: float
    exchanges: tuple[int, int]  # customer/bot exchanges after the greeting, inclusive range
    tools: tuple[str, ...]
    transfer: float  # odds the caller wants an operator anyway (prompt A)
    transfer_reasons: tuple[tuple[str, float], ...]
    quality: float  # the mean quality score of a call handled without trouble (prompt A)
    queue: str  # the contact-centre queue (its slug) a transfer goes to
    creates: str | None = None  # "order" or "fitting_booking": what a good call ends with


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "tire_search",
        0.36,
        (4, 9),
        ("search_tires", "check_stock", "create_order"),
        0.12,
        (("customer_request", 3.0), ("complex_request", 2.0)),
        0.74,
        "sales",
        creates="order",
    ),
    Scenario(
        "order_status",
        0.24,
        (2, 5),
        ("get_order_status",),
        0.08,
        (("customer_request", 2.0), ("complaint", 1.0)),
        0.80,
        "support",
    ),
    Scenario(
        "fitting_booking",
        0.2,
        (4, 8),
        ("find_fitting_slots", "book_fitting"),
        0.07,
        (("customer_request", 2.0), ("complex_request", 1.0)),
        0.77,
        "sales",
        creates="fitting_booking",
    ),
    Scenario(
        "delivery_info",
        0.1,
        (2, 4),
        ("search_knowledge",),
        0.05,
        (("customer_request", 1.0),),
        0.82,
        "support",
    ),
    Scenario(
        "warranty_claim",
        0.06,
        (3, 6),
        ("search_knowledge", "get_order_status"),
        0.55,
        (("warranty_claim", 4.0), ("complaint", 1.0)),
        0.66,
        "support",
    ),
    Scenario(
        "other",
        0.04,
        (1, 4),
        (),
        0.35,
        (("unrecognized_intent", 3.0), ("customer_request", 1.0)),
        0.6,
        "support",
    ),
)
# Why a call goes to an operator when something went wrong rather than because it was asked.
TOOL_FAILURE = "tool_failure"
LOW_CONFIDENCE = "low_stt_confidence"
# A caller whose speech the STT hears this badly twice in a row is handed over.
LOW_CONFIDENCE_BELOW = 0.6


@dataclass(frozen=True)
class Prompt:
    """A system prompt version and what it changes: quality, how often callers still ask for
    an operator, how long the LLM thinks (a longer prompt is slower and dearer)."""

    name: str
    variant: str  # "A", "B", or "" for a version outside the A/B test
    share: float  # of the calls
    quality_shift: float
    transfer_factor: float
    prompt_tokens: int
    llm_factor: float
    text: str


PROMPTS: tuple[Prompt, ...] = (
    Prompt(
        "tyres-v3.1",
        "A",
        0.475,
        0.0,
        1.0,
        1800,
        1.0,
        "You are the voice assistant of a tyre shop. Help the caller find tyres, check an"
        " order or book a fitting. Be brief. Hand over to an operator when asked.",
    ),
    Prompt(
        "tyres-v3.2",
        "B",
        0.475,
        0.055,
        0.75,
        2350,
        1.12,
        "You are the voice assistant of a tyre shop. Greet the caller by name when known,"
        " confirm each tyre size back, offer the nearest fitting slot, and summarise before"
        " ending. Hand over to an operator only when the caller insists or a tool fails twice.",
    ),
    # The legacy version still answers the shop's old number: outside the test.
    Prompt(
        "tyres-v3.0",
        "",
        0.05,
        -0.04,
        1.1,
        1500,
        0.95,
        "You are a tyre shop's assistant. Answer questions about tyres and orders.",
    ),
)
AB_TEST = "tyres-v3.2-vs-v3.1"
LLM_MODEL = "gpt-4o-mini"

# Latency medians (ms) and spreads of the three components of a voice pipeline.
STT_MEDIAN_MS, STT_SIGMA, STT_RANGE = 190.0, 0.35, (60, 2500)
LLM_MEDIAN_MS, LLM_SIGMA, LLM_RANGE = 620.0, 0.45, (150, 9000)
TTS_MEDIAN_MS, TTS_SIGMA, TTS_RANGE = 210.0, 0.3, (60, 3000)

# Prices in USD: STT per audio minute, LLM per token, TTS per character, the line per minute.
STT_PER_MINUTE = 0.0043
LLM_PER_INPUT_TOKEN = 0.15 / 1_000_000
LLM_PER_OUTPUT_TOKEN = 0.60 / 1_000_000
TTS_PER_CHARACTER = 0.000018
TELEPHONY_PER_MINUTE = 0.0085
# Costs are reported to the micro-dollar, as the providers' invoices are.
COST_DIGITS = 6

GREETING = "Hello, this is the Tyre Centre's assistant. How can I help you?"
TRANSFER_LINE = "I am connecting you to an operator now, please stay on the line."
CLOSED_LINE = "Our operators are available from eight to eight; I will help you as best I can."
GOODBYE = "Thank you for calling the Tyre Centre. Goodbye!"

SIZES = ("195/65 R15", "205/55 R16", "215/60 R16", "225/45 R17", "235/55 R18", "185/65 R14")
SEASONS = ("winter", "summer", "all-season")
BRANDS = ("Nokian", "Michelin", "Continental", "Pirelli", "Hankook", "Cordiant")
STATIONS = ("Central", "North", "Riverside", "Airport Road")

# What callers say and the bot answers, per scenario: the n-th exchange takes the n-th line
# (the last one repeats).
CUSTOMER_LINES: dict[str, tuple[str, ...]] = {
    "tire_search": (
        "I need {season} tyres, size {size}.",
        "What do you have from {brand}?",
        "How much is a set of four?",
        "Are they in stock at the {station} shop?",
        "OK, I'll take them.",
    ),
    "order_status": (
        "I'd like to know where my order is, number {order}.",
        "When will it be delivered?",
        "Can I pick it up myself instead?",
    ),
    "fitting_booking": (
        "I want to book a tyre fitting.",
        "At the {station} station, if possible.",
        "Tomorrow morning would be best.",
        "It's {size}, a passenger car.",
        "Yes, book it.",
    ),
    "delivery_info": (
        "Do you deliver tyres to the suburbs?",
        "How much does the delivery cost?",
        "And how long does it take?",
    ),
    "warranty_claim": (
        "One of the tyres I bought has a bulge on the sidewall.",
        "I bought it in spring, order {order}.",
        "I want a replacement under warranty.",
    ),
    "other": (
        "Hello? Is this the car service?",
        "I wanted to ask about something else.",
    ),
}
BOT_LINES: dict[str, tuple[str, ...]] = {
    "tire_search": (
        "We have {season} tyres in {size} from several brands. Any preference?",
        "{brand} has two models in that size, from 6,400 roubles per tyre.",
        "A set of four is 25,600 roubles, fitting included.",
        "Yes, the {station} shop has eight in stock.",
        "Done: your order is placed, you will get a text with the details.",
    ),
    "order_status": (
        "Let me check order {order}.",
        "It left our warehouse this morning and arrives tomorrow between 10 and 14.",
        "Of course, I've changed it to pick-up at the {station} shop.",
    ),
    "fitting_booking": (
        "Sure. Which fitting station suits you?",
        "Let me look at the free slots at {station}.",
        "Tomorrow at 9:30 is free. Shall I book it?",
        "Noted: {size}, passenger car.",
        "Booked: tomorrow 9:30 at {station}. We'll send a reminder.",
    ),
    "delivery_info": (
        "Yes, we deliver within 50 km of the city.",
        "Delivery is free from four tyres, otherwise 500 roubles.",
        "Usually one to two days.",
    ),
    "warranty_claim": (
        "I'm sorry to hear that. Let me check the warranty terms.",
        "I found order {order}.",
        "A warranty claim needs an inspection at a shop.",
    ),
    "other": (
        "This is the Tyre Centre. We sell tyres and do fittings.",
        "I can help with tyres, orders, fitting and delivery.",
    ),
}


def tools_config() -> str:
    """The JSON text of the tools every prompt version enables."""
    return orjson.dumps({"tools": sorted(TOOLS), "model": LLM_MODEL}).decode()


def prompt_metadata(prompt: Prompt) -> str:
    return orjson.dumps(
        {"variant": prompt.variant or None, "model": LLM_MODEL, "tokens": prompt.prompt_tokens}
    ).decode()
