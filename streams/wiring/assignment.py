"""What the worker does when its partitions change hands: it forgets what it kept in memory.

State a worker keeps for the entities of its partitions (the sinks' open calls and deals) is
only right while it is their one writer. On a rebalance a partition may move to another worker
and come back later, written meanwhile: so every rebalance forgets it all, and the next batches
read it back from PostgreSQL. Faust (eager rebalancing, faust-streaming 0.x) signals the
revocation of the whole assignment first, then the new assignment; both forget, so nothing that
ran between them survives either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust


def forget_on_rebalance(app: faust.App, *forgets: Callable[[], None]) -> None:
    """Calls each of `forgets` whenever partitions are revoked or assigned."""

    # Faust sends (app, partitions, signal=...): which partitions does not matter here.
    def forget(_: Any, /, *__: Any, signal: Any, **___: Any) -> None:
        for each in forgets:
            each()

    app.on_partitions_revoked.connect(forget)
    app.on_partitions_assigned.connect(forget)
