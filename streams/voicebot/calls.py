"""Which version of a voice-bot call counts.

A bot sends each call when it starts and again when it ends. The version with the newest
`occurred_at` wins, ties to the larger event key, so the winner is a function of the *set* of
versions: a late older event, a duplicate or a replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from streams.voicebot.events import BotCallEvent


def newest(events: Iterable[BotCallEvent]) -> BotCallEvent:
    """The winning version among `events` (at least one): max by (occurred_at, event_key)."""
    winner: BotCallEvent | None = None
    for event in events:
        if winner is None or event.version > winner.version:
            winner = event
    if winner is None:
        raise ValueError("newest() needs at least one version of the call")
    return winner


def supersedes(candidate: BotCallEvent, stored: BotCallEvent | None) -> bool:
    """Whether `candidate` replaces the stored version (or there is none yet)."""
    return stored is None or candidate.version > stored.version
