"""`switchboard verify TRUTH`: the API's figures against `simulate --expected` ground truth.

`compare` is the one comparison: the command and the end-to-end day test both use it. The
voice bot's section ("voicebot") is checked by switchboard.cli.verify_voicebot.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from switchboard.cli.api_reads import EnterpriseReads
from switchboard.cli.mismatch import ApiRefused, Mismatch
from switchboard.cli.verify_voicebot import verify_bot
from switchboard.settings import Settings, read_runtime

COUNTS = ("offered", "answered", "abandoned", "shortAbandoned", "flowOut", "blocked")
FIGURES = ("asaSec", "avgWaitSec", "slaPct", "abandonRatePct", "ahtSec", "responseSec")
OPERATOR_EXTRAS = ("talkSec", "wrapUpSec", "loginSec", "readySec", "notReadySec")
OPERATOR_COUNTS = ("ringNoAnswer",)
CHANNELS = ("voice", "chat", "email")
# Seconds and percentages are rounded by the API; counts must be exact.
TOLERANCE = 0.01


def _differs(name: str, want: Any, got: Any) -> bool:
    if name in (*COUNTS, *OPERATOR_COUNTS) or want is None or got is None:
        return bool(want != got)
    return not math.isclose(float(want), float(got), abs_tol=TOLERANCE)


def compare_figures(
    where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> Iterator[Mismatch]:
    for name in (*COUNTS, *OPERATOR_COUNTS, *FIGURES, *OPERATOR_EXTRAS):
        if name in expected and _differs(name, expected[name], actual.get(name)):
            yield Mismatch(where, name, expected[name], actual.get(name))


def _compare_depth(
    where: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> Iterator[Mismatch]:
    got = {sample["ts"]: sample for sample in actual}
    for want in expected:
        sample = got.get(want["ts"], {})
        for name in ("waiting", "oldestWaitSec"):
            if _differs(name, want[name], sample.get(name)):
                yield Mismatch(f"{where} depth {want['ts']}", name, want[name], sample.get(name))
    for ts in sorted(set(got) - {w["ts"] for w in expected}):
        yield Mismatch(f"{where} depth {ts}", "sample", None, got[ts])


def compare(enterprise: str, expected: Mapping[str, Any], api: Mapping[str, Any]) -> list[Mismatch]:
    """Every difference between one enterprise's truth and the API's answers for it (`api` as
    `read_api` returns them)."""
    found = [*compare_figures(f"{enterprise} kpis", expected["kpis"], api["kpis"])]
    found += _compare_depth(
        f"{enterprise} kpis", expected["queueDepthTrend"], api["kpis"].get("queueDepthTrend", [])
    )
    queues = {row["queueId"]: row for row in api["queues"]["queues"]}
    for queue_id, figures in expected["queues"].items():
        where = f"{enterprise} queue {queue_id}"
        found += compare_figures(where, figures, queues.get(queue_id, {}))
    for queue_id in sorted(set(queues) - set(expected["queues"])):
        found.append(Mismatch(f"{enterprise} queue {queue_id}", "queue", None, "present"))
    operators = {row["agentId"]: row for row in api["operators"]["operators"]}
    for agent_id, figures in expected["operators"].items():
        where = f"{enterprise} agent {agent_id}"
        found += compare_figures(where, figures, operators.get(agent_id, {}))
    for channel, figures in expected["channels"].items():
        where = f"{enterprise} channel {channel}"
        found += compare_figures(where, figures, api["channels"].get(channel, {}))
    for bucket in expected["timeseries"]["1h"]:
        for metric, points in api["timeseries"].items():
            if metric in bucket:
                value = next((p["value"] for p in points if p["ts"] == bucket["ts"]), None)
                found += compare_figures(
                    f"{enterprise} {bucket['ts']}", {metric: bucket[metric]}, {metric: value}
                )
    return found


async def read_api(
    session: aiohttp.ClientSession,
    base_url: str,
    token: str,
    enterprise: str,
    truth: Mapping[str, Any],
) -> dict[str, Any]:
    """The API's answers for one enterprise over the truth's range."""
    get = EnterpriseReads(session, base_url, token, enterprise, truth).get
    answers: dict[str, Any] = {
        "kpis": await get("/api/kpis"),
        "queues": await get("/api/queues"),
        "operators": await get("/api/operators"),
        "channels": {channel: await get("/api/kpis", channel=channel) for channel in CHANNELS},
        "timeseries": {
            metric: await get("/api/timeseries", metric=metric, interval="1h")
            for metric in (*COUNTS, *FIGURES)
        },
    }
    return answers


async def verify(truth: Mapping[str, Any], base_url: str, token: str) -> list[Mismatch]:
    found: list[Mismatch] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for enterprise, expected in truth.get("enterprises", {}).items():
            api = await read_api(session, base_url, token, enterprise, truth)
            found += compare(enterprise, expected, api)
        if "voicebot" in truth:
            found += await verify_bot(session, truth["voicebot"], base_url, token)
    return found


def enterprises_of(truth: Mapping[str, Any]) -> set[str]:
    """The enterprises a truth file speaks of, in either section."""
    return set(truth.get("enterprises", {})) | set(truth.get("voicebot", {}).get("enterprises", {}))


def run_verify(settings: Settings, truth_path: Path, token: str | None) -> int:
    """Prints each mismatch and a summary; 0 when the API agrees with the truth, 1 when not,
    2 when it cannot be asked."""
    token = token or read_runtime().get("token")
    if not token:
        print("no token: pass --token or start `switchboard up`", flush=True)
        return 2
    truth = orjson.loads(truth_path.read_bytes())
    try:
        found = asyncio.run(verify(truth, settings.api_url, token))
    except (ApiRefused, aiohttp.ClientError, OSError) as error:
        print(f"cannot ask the API at {settings.api_url}: {error}", flush=True)
        return 2
    for mismatch in found:
        print(mismatch)
    plural = "" if len(found) == 1 else "es"
    verdict = f"{len(found)} mismatch{plural}" if found else "every figure matches"
    print(f"{verdict} ({len(enterprises_of(truth))} enterprises, {truth_path})", flush=True)
    return 1 if found else 0
