"""Signing in: the link `up` prints, the form, a refused token, signing out."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.stack import Stack
from tests.support.browser import TOKEN_KEY, Console, error_text, show, wait_ready


def stored_token(tab: Page) -> str | None:
    token: str | None = tab.evaluate(f"() => sessionStorage.getItem({TOKEN_KEY!r})")
    return token


def test_the_link_up_prints_signs_in_and_leaves_the_address_bar(stack: Stack, tab: Page) -> None:
    printed = (stack.home / "up.out").read_text()
    [link] = [line.split()[-1] for line in printed.splitlines() if line.startswith("  dashboard ")]
    assert link == stack.dashboard_url
    assert link.startswith(f"{stack.api_url}/#token=sbt_")

    tab.goto(link)
    wait_ready(tab, "wallboard")
    assert "token" not in tab.url and tab.url.endswith("#/wallboard")
    assert stored_token(tab) == link.split("#token=")[1]
    # Nor is it in the tab's history: back leads to where the tab was before the link.
    tab.go_back()
    assert "token" not in tab.url
    tab.go_forward()
    wait_ready(tab, "wallboard")
    # The link's token is an admin's: the operations page opens with it.
    show(tab, stack.api_url, "operations")


def test_the_form_signs_in_and_sign_out_forgets_the_token(stack: Stack, tab: Page) -> None:
    tab.goto(f"{stack.api_url}/")
    tab.fill("[data-signin] input", stack.tenant)
    tab.click("[data-signin] button[type=submit]")
    wait_ready(tab, "wallboard")
    assert stored_token(tab) == stack.tenant

    tab.click("[data-action=sign-out]")
    tab.wait_for_selector("[data-signin]")
    assert stored_token(tab) is None
    tab.reload()
    tab.wait_for_selector("[data-signin]")


def test_a_refused_token_shows_the_sign_in_form_with_a_message(
    stack: Stack, tab: Page, console: Console
) -> None:
    console.expect(401)
    tab.goto(f"{stack.api_url}/#token=sbt_not-a-token")
    tab.wait_for_selector("[data-signin] [data-error]")
    assert "401" in error_text(tab)
    assert stored_token(tab) is None
    assert "token" not in tab.url
