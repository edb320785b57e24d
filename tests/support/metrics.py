"""A running worker's Prometheus counters, read from its /metrics page."""

from __future__ import annotations

import urllib.request


def metric(port: int, name: str) -> float:
    """The sum of a counter over its labels; a worker not serving yet has counted nothing."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )
