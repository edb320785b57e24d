"""The dashboard follows the stream by itself: new queue events show on the wallboard, and a
stopped worker turns the operations page red within its stall window, then back to OK."""

from __future__ import annotations

import os
import signal
from typing import Any

from playwright.sync_api import Page

from tests.browser.stack import TENANT, Stack, simulate, switchboard
from tests.support.browser import eventually_matches, figures, show, sign_in
from tests.support.paths import REPO
from tests.support.stack import wait_until

RED = ("STALL", "STOP")


def offered(stack: Stack) -> int:
    queues = stack.get("/api/wallboard", stack.tenant)["queues"]
    return sum(queue["offered"] for queue in queues)


def test_the_wallboard_shows_new_calls_without_a_reload(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "wallboard")
    queues = lambda: {q["queueId"]: q for q in stack.get("/api/wallboard", stack.tenant)["queues"]}  # noqa: E731
    eventually_matches(tab, "main[data-page=wallboard]", queues)
    before = offered(stack)

    simulate(
        stack.home,
        31,
        *("--scenario", "contact-centre", "--enterprise", TENANT, "--calls-per-hour", "7200"),
    )

    wait_until(lambda: offered(stack) > before, timeout=120, what="the new calls in the API")
    shown = eventually_matches(tab, "main[data-page=wallboard]", queues, timeout=60)
    assert sum(f.value for f in shown if f.name == "offered") > before


def group_status(tab: Page) -> tuple[Any, str]:
    """The operations page's group status figure: its value and its classes."""
    element = tab.locator("[data-banner] [data-figure=status]")
    [status] = [f.value for f in figures(tab, "[data-banner]")]
    return status, element.get_attribute("class") or ""


def test_a_stopped_worker_turns_the_operations_page_red_then_ok(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.admin)
    show(tab, stack.api_url, "operations")
    wait_until(lambda: group_status(tab)[0] == "OK", timeout=120, what="the group to be OK")

    workers = stack.worker_pids()
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        switchboard(stack.home, "produce", "telephony.calls", str(REPO / "examples/calls.jsonl"))
        red = wait_until(
            lambda: group_status(tab)[0] in RED and group_status(tab),
            timeout=90,
            what="the page to show STALL or STOP",
        )
        assert "bad" in red[1].split()
        assert "bad" in (tab.locator("[data-banner]").get_attribute("class") or "").split()
        stuck = tab.locator("[data-table=partitions] [data-row].bad")
        assert stuck.count() > 0
        assert {s for s in stuck.evaluate_all("rows => rows.map(r => r.dataset.status)")} <= set(
            RED
        )
        assert stack.get("/api/lag", stack.admin)["status"] in RED
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)

    wait_until(lambda: group_status(tab)[0] == "OK", timeout=180, what="the group to recover")
    assert "bad" not in group_status(tab)[1].split()
    assert tab.locator("[data-table=partitions] [data-row].bad").count() == 0
