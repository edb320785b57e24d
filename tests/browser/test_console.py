"""Every page, on a laptop and on the wallboard TV, without a console error or an uncaught
exception (the `console` fixture fails any test that logged one)."""

from __future__ import annotations

from playwright.sync_api import Browser

from tests.browser.stack import Stack
from tests.support.browser import PAGES, TV, Console, show, sign_in, viewer


def test_every_page_renders_without_a_console_error(
    stack: Stack, browser: Browser, console: Console
) -> None:
    with viewer(browser, console) as tab:
        tab.goto(stack.dashboard_url)
        for name in PAGES:
            show(tab, stack.api_url, name)
            # A few refreshes each: errors of a refresh, not only of the first render.
            first = tab.get_attribute("main[data-page]", "data-refreshed-at")
            tab.wait_for_function(
                "(first) => document.querySelector('main[data-page]')"
                ".getAttribute('data-refreshed-at') !== first",
                arg=first,
            )
    with viewer(browser, console, TV) as tv:
        sign_in(tv, stack.api_url, stack.admin)
        show(tv, stack.api_url, "wallboard", tv=1)
        assert tv.locator("nav").count() == 0, "TV mode hides the navigation"
    assert console.errors == []
