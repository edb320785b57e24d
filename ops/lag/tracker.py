"""What the sampler remembers between samples, and its verdict on each: per partition a window
of (time, committed, end) samples judged by Burrow's rules, and a history of end offsets for
`lagSec`. Pure: it is handed offsets, whoever read them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ops.lag.lag_seconds import EndHistory
from streams.runtime.lag_status import LagStatus, Sample, evaluate_polled, trim

Partition = tuple[str, int]

# Points of end-offset history per partition. Equal ends share two points, so an idle
# partition keeps hours of history; a busy one sampled every 5 s keeps about 20 minutes, and
# older lags are extrapolated (ops.lag.lag_seconds).
HISTORY_POINTS = 240


@dataclass(frozen=True, slots=True)
class PartitionVerdict:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int
    lag_sec: float
    status: LagStatus


class EndTracker:
    """End-offset histories of a set of partitions, whoever consumes them."""

    def __init__(self) -> None:
        self._ends: dict[Partition, EndHistory] = {}

    def observe(
        self, now: float, ends: Mapping[Partition, int], known: Iterable[Partition]
    ) -> None:
        """Adds the `ends` read now; partitions not `known` to the broker any more are
        forgotten (one missing from `ends` only did not answer in time)."""
        for partition, end in ends.items():
            self._ends.setdefault(partition, EndHistory(HISTORY_POINTS)).add(now, end)
        for gone in set(self._ends) - set(known):
            del self._ends[gone]

    def lag_seconds(self, partition: Partition, committed: int | None, *, now: float) -> float:
        history = self._ends.get(partition)
        return 0.0 if history is None else history.lag_seconds(committed, now=now)

    def last_growth(self, partitions: Iterable[Partition]) -> float | None:
        """When the newest growth of any of `partitions`' end offsets was seen."""
        times = [
            grew
            for p in partitions
            if p in self._ends and (grew := self._ends[p].grew_at()) is not None
        ]
        return max(times, default=None)


class GroupTracker:
    """The samples of one consumer group's partitions, across samples."""

    def __init__(self, group: str, window_sec: float) -> None:
        self.group = group
        self.window_sec = window_sec
        self._samples: dict[Partition, list[Sample]] = {}
        self.ends = EndTracker()

    def observe(
        self,
        now: float,
        committed: Mapping[Partition, int | None],
        ends: Mapping[Partition, int],
        *,
        worker_beating: bool = True,
    ) -> list[PartitionVerdict]:
        """Adds one sample of every partition in `ends` and judges each. `committed` names
        every partition the broker knows (None: no commit); the others are forgotten, so a
        deleted topic does not stay stalled forever."""
        self.ends.observe(now, ends, committed)
        verdicts = []
        for partition in sorted(ends):
            offset = committed.get(partition)
            samples = self._samples.setdefault(partition, [])
            samples.append(Sample(now, offset, ends[partition]))
            # STOP needs the offset seen unmoved for more than two windows
            # (lag_status.evaluate_polled): three are kept.
            trim(samples, now=now, window_sec=3 * self.window_sec)
            status = evaluate_polled(
                samples, now=now, window_sec=self.window_sec, worker_beating=worker_beating
            )
            verdicts.append(
                PartitionVerdict(
                    self.group,
                    *partition,
                    offset,
                    ends[partition],
                    samples[-1].lag,
                    round(self.ends.lag_seconds(partition, offset, now=now), 3),
                    status,
                )
            )
        for gone in set(self._samples) - set(committed):
            del self._samples[gone]
        return verdicts
