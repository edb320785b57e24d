"""`python -m bench.import_queue_log`: `import asterisk-queue-log` speed in lines per second.

The import reads, parses and publishes a queue_log (to a Tansu broker of its own, with the
built-in registry); the baseline reads and parses the same file and publishes nothing, so the
ratio is the cost of encoding and producing. The file is generated: calls through a few queues
(answered, abandoned, blocked, timed out) and agents who log in, pause and unpause.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from bench.command import import_bench_command
from bench.report import ImportRate, ImportReport, Rate
from bench.stack import DEFAULT_ADMIN_URL, embedded_stack
from schemas.queue_log import parse_queue_log
from switchboard.imports.queue_log import import_queue_log, read_lines
from switchboard.settings import Settings

START = 1341306000  # 2012-07-03 09:00 UTC: history, as imports are
QUEUES = ("support", "sales", "billing")
AGENTS = tuple(f"SIP/{100 + n}" for n in range(20))


def queue_log_lines(calls: int, seed: int) -> Iterator[str]:
    """A plausible queue_log of `calls` calls, one a few seconds after the other."""
    rng = random.Random(seed)
    for agent in AGENTS:
        for queue in QUEUES:
            yield f"{START}|NONE|{queue}|{agent}|ADDMEMBER|"
    at = START
    for n in range(calls):
        at += rng.randint(1, 6)
        call, queue, agent = f"{at}.{n}", rng.choice(QUEUES), rng.choice(AGENTS)
        roll = rng.random()
        if roll < 0.03:
            yield f"{at}|{call}|{queue}|NONE|JOINEMPTY|1|1|0"
            continue
        yield f"{at}|{call}|{queue}|NONE|ENTERQUEUE||02912{n:05d}|1"
        wait = rng.randint(1, 90)
        if roll < 0.80:
            yield f"{at + wait}|{call}|{queue}|{agent}|CONNECT|{wait}|{at + wait}.9|{wait // 3}"
            talk = rng.randint(20, 400)
            yield f"{at + wait + talk}|{call}|{queue}|{agent}|COMPLETECALLER|{wait}|{talk}|1"
        elif roll < 0.95:
            yield f"{at + wait}|{call}|{queue}|NONE|ABANDON|1|1|{wait}"
        else:
            yield f"{at + wait}|{call}|{queue}|NONE|EXITWITHTIMEOUT|1|1|{wait}"
        if n % 50 == 0:
            yield f"{at}|NONE|{queue}|{agent}|PAUSE|break"
            yield f"{at + 300}|NONE|{queue}|{agent}|UNPAUSE|"


def read_and_parse(path: Path) -> Rate:
    started = time.perf_counter()
    lines = read_lines(str(path))
    for _ in parse_queue_log(lines, enterprise_id="bench", tz=UTC):
        pass
    return Rate(len(lines), time.perf_counter() - started)


def run(calls: int, seed: int, admin_url: str = DEFAULT_ADMIN_URL) -> ImportReport:
    with tempfile.TemporaryDirectory(prefix="bench-queue-log-") as tmp:
        workdir = Path(tmp)
        path = workdir / "queue_log"
        path.write_text("\n".join(queue_log_lines(calls, seed)) + "\n")
        passes = [read_and_parse(path) for _ in range(3)]
        with embedded_stack(workdir, admin_url) as stack:
            settings = Settings(
                kafka_bootstrap_servers=stack.bootstrap, schema_registry_url=stack.registry_url
            )
            started = time.perf_counter()
            status = asyncio.run(
                import_queue_log(settings, str(path), enterprise_id="bench", tz="UTC")
            )
            seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"the import exited with status {status}")
    return ImportReport((ImportRate.of("queue_log", "lines", passes, seconds),))


main = import_bench_command(
    run,
    what="Calls in the generated log.",
    seed=7,
    doc="`import asterisk-queue-log` speed in lines per second.",
)


if __name__ == "__main__":
    main()
