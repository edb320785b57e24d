"""One `switchboard up` with traffic for the whole package (it is slow to start), one Chromium,
and a fresh tab per test whose console must stay free of errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from switchboard.runtime.embedded import start_broker
from tests.browser.stack import Stack, running_stack
from tests.support.browser import CHROMIUM, Console, launch, viewer

NO_CHROMIUM = f"no {CHROMIUM}: install Debian's chromium (`apt-get install chromium`)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.integration)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`up` on a broker of its own, as the `up` tests do: the session's broker carries other
    tests' traffic, which `up`'s consumer group would read into the pages mid-comparison."""
    workdir = tmp_path_factory.mktemp("dashboard")
    broker = start_broker(log_path=workdir / "tansu.log")
    try:
        with running_stack(broker.bootstrap, workdir) as running:
            yield running
    finally:
        broker.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def console() -> Iterator[Console]:
    watched = Console()
    yield watched
    assert watched.errors == [], "console errors:\n" + "\n".join(watched.errors)


@pytest.fixture
def tab(browser: Browser, console: Console) -> Iterator[Page]:
    """A tab of its own: nobody signed in yet."""
    with viewer(browser, console) as page:
        yield page
