"""What a simulated contact centre looks like: its queues, its scale, its opening hours.

The queues and their service levels are a fixed catalogue, the same for every seed, so that the
dimension rows a run publishes (sla_threshold_sec, short_abandon_sec) stay the same between runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.simulation.contact_centre.engine import HOUR, MINUTE


@dataclass(frozen=True)
class QueueProfile:
    """An ACD queue as routing configures it, and how its callers behave."""

    slug: str
    name: str
    department: str  # the department slug (see DEPARTMENTS)
    sla_threshold_sec: int
    short_abandon_sec: int
    max_wait_sec: int  # then the caller is sent to voicemail: exit_timeout
    weight: float  # share of the arrivals
    talk_median_sec: float
    topics: tuple[str, ...]  # CRM topic slugs (see TOPICS) of its interactions
    outcomes: tuple[tuple[str, float], ...]  # CRM outcomes and their weights


_SERVICE = (("resolved", 6.0), ("follow_up", 2.0), ("escalated", 1.0))
_SALES = (("sale", 3.0), ("no_sale", 4.0), ("callback", 2.0))

CATALOGUE: tuple[QueueProfile, ...] = (
    QueueProfile(
        "sales", "Sales", "sales", 20, 5, 180, 0.30, 170.0, ("new-connection", "tariff"), _SALES
    ),
    QueueProfile(
        "support",
        "Customer Support",
        "care",
        30,
        10,
        300,
        0.35,
        150.0,
        ("order-status", "technical", "complaint"),
        _SERVICE,
    ),
    QueueProfile(
        "billing", "Billing", "finance", 20, 8, 240, 0.15, 130.0, ("invoice", "payment"), _SERVICE
    ),
    QueueProfile(
        "retention",
        "Retention",
        "sales",
        15,
        5,
        120,
        0.08,
        240.0,
        ("cancellation",),
        (("retained", 4.0), ("cancelled", 3.0), ("callback", 1.0)),
    ),
    QueueProfile(
        "tech-l2",
        "Technical Support L2",
        "tech",
        60,
        10,
        600,
        0.07,
        300.0,
        ("technical",),
        _SERVICE,
    ),
    QueueProfile(
        "vip", "VIP Line", "care", 10, 3, 90, 0.05, 200.0, ("complaint", "tariff"), _SERVICE
    ),
)

DEPARTMENTS: dict[str, str] = {
    "sales": "Sales",
    "care": "Customer Care",
    "finance": "Finance",
    "tech": "Technical Support",
}
TOPICS: dict[str, str] = {
    "new-connection": "New connection",
    "tariff": "Tariff change",
    "order-status": "Order status",
    "technical": "Technical issue",
    "complaint": "Complaint",
    "invoice": "Invoice question",
    "payment": "Payment",
    "cancellation": "Cancellation",
}
CHANNELS: dict[str, str] = {"voice": "Voice", "chat": "Web chat", "email": "E-mail"}


def queue_profiles(count: int) -> tuple[QueueProfile, ...]:
    """The first `count` queues of the catalogue; beyond it, generic overflow queues."""
    if count < 1:
        raise ValueError(f"a contact centre needs at least one queue, got {count}")
    extra = tuple(
        QueueProfile(
            f"overflow-{n}",
            f"Overflow {n}",
            "care",
            20,
            10,
            240,
            0.05,
            150.0,
            ("order-status",),
            _SERVICE,
        )
        for n in range(1, count - len(CATALOGUE) + 1)
    )
    return (CATALOGUE + extra)[:count]


# The arrival rate over a day, per hour from 08:00 to 20:00: a late-morning peak, a dip at lunch,
# a smaller afternoon peak, a quiet evening. The mean is 1, so `calls_per_hour` is the average.
DAY_OPEN = 8 * HOUR
DAY_CLOSE = 20 * HOUR
DAY_SHAPE = (0.55, 0.85, 1.2, 1.35, 1.25, 1.1, 1.15, 1.2, 1.05, 0.95, 0.75, 0.6)


@dataclass(frozen=True)
class Window:
    """When the centre takes new calls and conversations (ms since the simulation's start), and
    how the arrival rate varies over that time: shaped by the hour of the day, or flat."""

    open_ms: int
    close_ms: int
    shaped: bool

    @classmethod
    def day(cls) -> Window:
        """Opening hours of a simulated UTC day that starts at 00:00."""
        return cls(DAY_OPEN, DAY_CLOSE, shaped=True)

    @classmethod
    def live(cls, seconds: float) -> Window:
        """Open from the start for `seconds`, at a constant rate."""
        return cls(0, round(seconds * 1000), shaped=False)

    def intensity(self, at_ms: int) -> float:
        """The arrival rate at `at_ms` relative to the average over the opening hours."""
        if not self.open_ms <= at_ms < self.close_ms:
            return 0.0
        if not self.shaped:
            return 1.0
        hour = (at_ms - self.open_ms) * len(DAY_SHAPE) // (self.close_ms - self.open_ms)
        return DAY_SHAPE[hour]

    @property
    def peak_intensity(self) -> float:
        return max(DAY_SHAPE) if self.shaped else 1.0

    @property
    def hours(self) -> float:
        return (self.close_ms - self.open_ms) / HOUR


@dataclass(frozen=True)
class Handoff:
    """A caller put through to a queue from outside the ACD (a voice bot's transfer): the
    same call, already on the PBX, entering `queue_slug`'s queue at `at_ms`."""

    enterprise_id: str
    call_id: str
    phone_number: str
    queue_slug: str
    at_ms: int


@dataclass(frozen=True)
class Behaviour:
    """How often callers, agents and customers do each thing (probabilities, medians in s)."""

    ivr_hangup: float = 0.03  # the caller hangs up in the IVR, before any queue
    quick_hangup: float = 0.06  # impatient callers: their patience is a few seconds
    patience_median_sec: float = 120.0
    exit_key: float = 0.03  # the caller presses a key to leave for a callback
    ring_no_answer: float = 0.04  # the rung agent does not pick up
    transfer: float = 0.07  # an answered call is transferred to another queue
    complete_by_caller: float = 0.55  # who hangs up: the caller, else the agent
    wrapup_median_sec: float = 20.0
    voice_outcome: float = 0.7  # share of handled calls the agent records in the CRM
    digital_outcome: float = 0.6
    email_share: float = 0.25  # of the digital conversations; the rest are chats
    bot_greeting: float = 0.6  # a chat bot greets the customer first
    bot_only: float = 0.2  # ... and settles the chat without an agent
    chat_response_median_sec: float = 35.0
    email_response_median_sec: float = 45 * 60.0


@dataclass(frozen=True)
class CentreConfig:
    """The scale of each enterprise's contact centre."""

    queues: int = 3
    # Agents on the roster; None: as many as the arrival rate needs (see staffing).
    agents: int | None = None
    # New calls per hour of simulated time, averaged over the opening hours.
    calls_per_hour: float = 120.0
    # New chats and e-mails per hour; None: a third of `calls_per_hour`.
    conversations_per_hour: float | None = None
    behaviour: Behaviour = Behaviour()

    def __post_init__(self) -> None:
        if self.queues < 1:
            raise ValueError(f"queues must be at least 1, got {self.queues}")
        if self.agents is not None and self.agents < 1:
            raise ValueError(f"agents must be at least 1, got {self.agents}")
        if self.calls_per_hour < 0:
            raise ValueError(f"calls per hour must not be negative, got {self.calls_per_hour}")
        if self.conversations_per_hour is not None and self.conversations_per_hour < 0:
            raise ValueError("conversations per hour must not be negative")

    @property
    def digital_per_hour(self) -> float:
        if self.conversations_per_hour is None:
            return self.calls_per_hour / 3.0
        return self.conversations_per_hour


# Every answered call ends within these bounds, so a day's last session ends well before midnight.
MAX_TALK = 40 * MINUTE
