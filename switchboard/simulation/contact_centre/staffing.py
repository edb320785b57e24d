"""The roster: how many agents, their skills, shifts and breaks, as workforce management plans them.

Staffing follows the forecast the way a planner would: Erlang C gives the agents each hour needs
to answer 80% of calls within 20 s; the early and late shifts cover the ends of the day and the
middle shift tops up the peak. Breaks are not planned for, so they dent the service level, as they
do in real centres. A live run keeps everyone logged in for its whole window.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.simulation.contact_centre.config import (
    DAY_SHAPE,
    Behaviour,
    QueueProfile,
    Window,
)
from switchboard.simulation.contact_centre.engine import HOUR, MINUTE, SECOND

_FIRST_NAMES = (
    "Anna", "Pavel", "Olga", "Dmitry", "Irina", "Sergei", "Maria", "Alexei", "Elena", "Ivan",
    "Natalia", "Andrei", "Tatiana", "Mikhail", "Svetlana", "Yuri", "Ksenia", "Artem", "Daria",
    "Viktor",
)  # fmt: skip
_LAST_NAMES = (
    "Kovalenko", "Petrova", "Ivanov", "Sidorova", "Novik", "Zhuk", "Kozlova", "Moroz",
    "Volkova", "Lebedev", "Karpovich", "Shevchenko", "Bondar", "Melnik", "Savchenko",
    "Kravets", "Tkachuk", "Orlova", "Gromov", "Yakovleva", "Belsky", "Dubrova", "Rusak",
)  # fmt: skip

# Shift patterns of a day, (start, end) relative to the opening hours: early from just before
# opening, middle, and late until closing (None: the last 8.5 hours).
_SHIFTS: tuple[tuple[int | None, int | None], ...] = (
    (-10 * MINUTE, 8 * HOUR + 20 * MINUTE),
    (1 * HOUR + 50 * MINUTE, 10 * HOUR + 20 * MINUTE),
    (None, None),
)
_LATE_SHIFT = 8 * HOUR + 30 * MINUTE
_SERVICE_LEVEL = 0.8
_SERVICE_TIME_SEC = 20.0
_RING_SEC = 5.0


@dataclass(frozen=True)
class Break:
    at_ms: int
    duration_ms: int
    reason: str


@dataclass(frozen=True)
class AgentProfile:
    agent_id: str
    name: str
    extension: str
    department: str
    skills: tuple[str, ...]  # queue ids, the primary one first
    login_ms: int
    logout_ms: int  # planned: work in hand is finished first
    breaks: tuple[Break, ...]


def handle_time_sec(queues: Sequence[QueueProfile], behaviour: Behaviour) -> float:
    """The expected time an agent spends on a call: ring, talk and wrap-up."""
    total = sum(q.weight for q in queues)
    talk = sum(q.weight * q.talk_median_sec for q in queues) / total * _LOGNORMAL_MEAN
    return _RING_SEC + talk + behaviour.wrapup_median_sec * _LOGNORMAL_MEAN


# Mean over median of the log-normal times used (sigma 0.6).
_LOGNORMAL_MEAN = math.exp(0.6**2 / 2)


def erlang_c_agents(calls_per_hour: float, handle_sec: float) -> int:
    """The fewest agents that answer 80% of calls within 20 s (Erlang C)."""
    load = calls_per_hour * handle_sec / 3600.0
    if load <= 0:
        return 1
    agents = max(1, math.floor(load) + 1)
    while True:
        if _service_level(load, agents, handle_sec) >= _SERVICE_LEVEL:
            return agents
        agents += 1


def _service_level(load: float, agents: int, handle_sec: float) -> float:
    # Erlang B by its stable recursion, then Erlang C from it.
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = load * blocking / (n + load * blocking)
    waiting = agents * blocking / (agents - load * (1 - blocking))
    return 1.0 - waiting * math.exp(-(agents - load) * _SERVICE_TIME_SEC / handle_sec)


def shift_sizes(
    calls_per_hour: float,
    window: Window,
    queues: Sequence[QueueProfile],
    behaviour: Behaviour,
    agents: int | None = None,
) -> list[int]:
    """Agents per shift pattern (one pattern for a live run): what each hour's forecast needs,
    or `agents` shared out in those proportions."""
    handle = handle_time_sec(queues, behaviour)
    if not window.shaped:
        return [agents or max(1, math.ceil(erlang_c_agents(calls_per_hour, handle) * 1.05))]
    shifts = _day_shifts(window)
    need, cover = [], []
    for hour, intensity in enumerate(DAY_SHAPE):
        middle = window.open_ms + hour * HOUR + 30 * MINUTE
        need.append(erlang_c_agents(calls_per_hour * intensity, handle))
        cover.append({n for n, (start, end) in enumerate(shifts) if start <= middle < end})
    # The early and the late shift alone cover the ends of the day; the middle one tops up.
    early = max((n for n, c in zip(need, cover, strict=True) if c == {0}), default=1)
    late = max((n for n, c in zip(need, cover, strict=True) if c == {2}), default=1)
    middle = max(
        (
            n - early * (0 in c) - late * (2 in c)
            for n, c in zip(need, cover, strict=True)
            if 1 in c
        ),
        default=0,
    )
    sizes = [early, max(middle, 0), late]
    if agents is None:
        return sizes
    shares = [agents * size / sum(sizes) for size in sizes]
    rounded = [math.floor(share) for share in shares]
    for n in sorted(range(3), key=lambda n: rounded[n] - shares[n])[: agents - sum(rounded)]:
        rounded[n] += 1
    return rounded


def _day_shifts(window: Window) -> list[tuple[int, int]]:
    shifts = []
    for start, end in _SHIFTS:
        if start is None or end is None:
            shifts.append((window.close_ms - _LATE_SHIFT, window.close_ms))
        else:
            shifts.append((window.open_ms + start, window.open_ms + end))
    return shifts


def plan_roster(
    enterprise_id: str,
    queue_ids: Sequence[str],
    queues: Sequence[QueueProfile],
    sizes: Sequence[int],
    window: Window,
    rng: random.Random,
) -> list[AgentProfile]:
    """`sum(sizes)` agents, so many on each shift pattern, with skills, shifts and breaks."""
    count = sum(sizes)
    skills = _skills(queue_ids, queues, count, rng)
    shifts = _assign_shifts(sizes, window, rng)
    department = {qid: q.department for qid, q in zip(queue_ids, queues, strict=True)}
    roster = []
    for n in range(count):
        login, logout = shifts[n]
        # Names depend on the tenant and the seat only, so that HR's rows stay the same.
        name_index = zlib.crc32(enterprise_id.encode()) % 1000 + n
        name = (
            f"{_FIRST_NAMES[name_index % len(_FIRST_NAMES)]}"
            f" {_LAST_NAMES[(name_index // len(_FIRST_NAMES) + n) % len(_LAST_NAMES)]}"
        )
        roster.append(
            AgentProfile(
                agent_id=f"{enterprise_id}-a{n + 1:03d}",
                name=name,
                extension=str(2001 + n),
                department=department[skills[n][0]],
                skills=skills[n],
                login_ms=login,
                logout_ms=logout,
                breaks=_breaks(login, logout, rng),
            )
        )
    return roster


def _skills(
    queue_ids: Sequence[str], queues: Sequence[QueueProfile], count: int, rng: random.Random
) -> list[tuple[str, ...]]:
    # A small team takes every queue; a larger one has a primary queue per agent, in proportion
    # to the queues' traffic, and often a second or third skill to help out.
    if count < 2 * len(queue_ids):
        return [tuple(rng.sample(list(queue_ids), len(queue_ids))) for _ in range(count)]
    total = sum(q.weight for q in queues)
    bounds = [sum(q.weight for q in queues[: i + 1]) / total for i in range(len(queues))]
    skills = []
    for n in range(count):
        point = (n + 0.5) / count
        primary = next(
            i for i, bound in enumerate(bounds) if point <= bound or i == len(bounds) - 1
        )
        others = [qid for i, qid in enumerate(queue_ids) if i != primary]
        extra = rng.choices((0, 1, 2), (0.4, 0.4, 0.2))[0]
        skills.append((queue_ids[primary], *rng.sample(others, min(extra, len(others)))))
    for qid in queue_ids:  # no queue may be left without anyone to answer it
        if not any(qid in s for s in skills):
            fewest = min(range(count), key=lambda n: (len(skills[n]), n))
            skills[fewest] = (*skills[fewest], qid)
    return skills


def _assign_shifts(
    sizes: Sequence[int], window: Window, rng: random.Random
) -> list[tuple[int, int]]:
    count = sum(sizes)
    if not window.shaped:
        # A live run: everyone logs in within the first seconds and stays to the end.
        return [(rng.randrange(0, 5 * SECOND), window.close_ms) for _ in range(count)]
    if count < 3:
        return [(max(0, window.open_ms - 15 * MINUTE), window.close_ms) for _ in range(count)]
    planned: list[tuple[int, int]] = []
    for (start, end), size in zip(_day_shifts(window), sizes, strict=True):
        for _ in range(size):
            # Logins spread over a few minutes around the shift's start.
            login = max(0, start + rng.randrange(-8 * MINUTE, 5 * MINUTE))
            planned.append((login, min(end + rng.randrange(0, 3 * MINUTE), window.close_ms)))
    # Mix the patterns, so that every queue's skills are spread across the shifts.
    rng.shuffle(planned)
    return planned


def _breaks(login: int, logout: int, rng: random.Random) -> tuple[Break, ...]:
    """Two short breaks and lunch, as far as the shift is long enough for them."""
    planned = []
    for offset, duration, reason in (
        (2 * HOUR, 15 * MINUTE, "break"),
        (4 * HOUR, 30 * MINUTE, "lunch"),
        (6 * HOUR + 15 * MINUTE, 15 * MINUTE, "break"),
    ):
        at = login + offset + rng.randrange(-15 * MINUTE, 15 * MINUTE)
        if at + duration + 30 * MINUTE <= logout:
            planned.append(Break(at, duration + rng.randrange(-2 * MINUTE, 3 * MINUTE), reason))
    return tuple(planned)
