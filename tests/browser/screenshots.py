"""The README's screenshots, one per page, from the same stack the browser tests run:

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]

A broker of its own, `switchboard up` with simulated traffic, Debian's Chromium at 1440x900
(the wallboard also on a 1920x1080 TV). Run by hand when the pages change; tests never write
into the repository.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from switchboard.runtime.embedded import start_broker
from tests.browser.stack import TENANT, Stack, running_stack
from tests.support.browser import LAPTOP, PAGES, TV, Console, figures, launch, show, viewer
from tests.support.paths import REPO
from tests.support.stack import wait_until
from tests.support.up import second_terminal

# The view of each page worth showing: a chart of calls, the deal with the longest history.
TRENDS = {"metric": "offered", "interval": "15m"}


def save_all(stack: Stack, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    saved = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        with viewer(browser, console, LAPTOP) as tab:
            tab.goto(stack.dashboard_url)
            for name in PAGES:
                show(tab, stack.api_url, name, **_options(stack, name))
                if name == "wallboard":
                    _callers_waiting(tab)
                saved.append(_shoot(tab, out / f"{name}.png"))
        with viewer(browser, console, TV) as tv:
            tv.goto(stack.dashboard_url)
            show(tv, stack.api_url, "wallboard", tv=1, enterprise=TENANT)
            saved.append(_shoot(tv, out / "wallboard-tv.png"))
        browser.close()
    assert console.errors == [], console.errors
    return saved


def _options(stack: Stack, name: str) -> dict[str, str | int | None]:
    if name == "trends":
        return dict(TRENDS)
    if name in ("wallboard", "integrations"):
        return {"enterprise": TENANT}
    if name == "deals":
        # Breached deals where there are: a short list, the deal's history right below it.
        breached = stack.get("/masterdeal", stack.admin, breached="true", limit=50)["deals"]
        deals = breached or stack.get("/masterdeal", stack.admin, limit=10)["deals"]
        ids = [deal["master_deal_id"] for deal in deals]
        longest = max(ids, key=lambda i: len(stack.get(f"/masterdeal/{i}", stack.admin)["history"]))
        return {"breached": "true" if breached else None, "deal": longest}
    return {}


@contextmanager
def live_traffic(stack: Stack) -> Iterator[None]:
    """A contact centre running in real time, so that the wallboard has callers waiting and
    agents at work: the tests' traffic has finished by the time they look."""
    simulation = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "switchboard",
            "simulate",
            "--scenario",
            "contact-centre",
            "--enterprise",
            TENANT,
            "--duration",
            "600",
            "--seed",
            "5",
            "--calls-per-hour",
            "3000",
            "--agents",
            "4",
        ],
        env=second_terminal(stack.home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(
            lambda: any(q["waiting"] for q in stack.get("/api/wallboard", stack.tenant)["queues"]),
            timeout=180,
            what="callers waiting",
        )
        yield
    finally:
        # Traffic for a picture: its calls in flight need no finishing.
        simulation.kill()
        simulation.wait(timeout=60)


def _callers_waiting(tab: Page) -> None:
    """Until the wallboard shows a queue with callers waiting, for a while; else as it is."""
    with suppress(AssertionError):
        wait_until(
            lambda: any(f.value for f in figures(tab) if f.name == "waiting"),
            timeout=90,
            what="callers waiting",
        )


def _shoot(tab: Page, path: Path) -> Path:
    # Charts draw on the next frame after their data; fonts settle with them.
    wait_until(
        lambda: tab.evaluate("() => document.fonts.status === 'loaded'"),
        timeout=30,
        what="fonts",
    )
    tab.wait_for_timeout(600)
    # The deal's history sits below the fold.
    tab.screenshot(path=str(path), full_page=path.stem == "deals")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="screenshots-") as workdir:
        broker = start_broker(log_path=Path(workdir) / "tansu.log")
        try:
            with running_stack(broker.bootstrap, Path(workdir)) as stack, live_traffic(stack):
                for path in save_all(stack, args.out):
                    print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
