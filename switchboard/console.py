"""What a command tells its user on stderr, and its exit status: 0 done, 1 failed, 2 misused.

`produce`, `simulate`, the imports and `reconcile` share these words, so a script that drives
any of them reads one convention. Log lines are the logging module's business, not this one's.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def report_failure(context: str, reason: str) -> None:
    """`context: reason`, e.g. `line 4: not JSON ...`: what failed and why."""
    print(f"{context}: {reason}", file=sys.stderr)


def usage_error(message: str) -> int:
    """`error: message` on stderr; returns the usage status."""
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE
