"""A tenant's token never shows another tenant's data: not on any page, not when the other
tenant is asked for by name (that answers as a missing enterprise does)."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.stack import OTHER, THIRD, Stack
from tests.support.browser import PAGES, Console, error_text, route_url, show, sign_in

# An enterprise nobody has: what "missing" looks like.
MISSING = "9999"


def identifiers_of(stack: Stack, token: str) -> set[str]:
    """The queue, agent and deal ids another tenant's token sees."""
    found = {q["queueId"] for q in stack.get("/api/wallboard", token)["queues"]}
    found |= {a["agentId"] for a in stack.get("/api/operators", token)["operators"]}
    for deal in stack.get("/masterdeal", token, limit=200)["deals"]:
        found |= {deal["master_deal_id"], deal["deal_id"]}
    return found


def test_a_tenant_sees_none_of_another_tenants_data_on_any_page(
    stack: Stack, tab: Page, console: Console
) -> None:
    theirs = identifiers_of(stack, stack.other)
    assert theirs, "the other tenant has data: the test proves something"
    sign_in(tab, stack.api_url, stack.tenant)
    for name in PAGES:
        if name == "operations":
            tab.goto(route_url(stack.api_url, name))
            tab.wait_for_selector('main[data-page="operations"][data-state="error"]')
            assert "admin" in error_text(tab)
        else:
            show(tab, stack.api_url, name)
        page = tab.content()
        leaked = sorted(i for i in theirs if i in page)
        leaked += [prefix for prefix in (f"{OTHER}-", f"{THIRD}-") if prefix in page]
        assert not leaked, f"{name} shows another tenant's {leaked[:10]}"

    # Asked for by name, the other tenant is refused exactly as a missing enterprise is.
    console.expect(403, 404)
    for name in PAGES:
        if name == "operations":
            continue
        refused = refusal(tab, stack, name, OTHER, theirs)
        assert refused == refusal(tab, stack, name, MISSING, theirs), name


def refusal(tab: Page, stack: Stack, name: str, enterprise: str, theirs: set[str]) -> str:
    """What page `name` says when asked for `enterprise`, the id itself left out; it shows no
    row of data, and none of `theirs`."""
    tab.goto(route_url(stack.api_url, name, enterprise=enterprise, refresh=1))
    tab.wait_for_selector(f'main[data-page="{name}"][data-state="error"]')
    assert tab.locator("main[data-page] [data-row]").count() == 0, name
    assert not [i for i in theirs if i in tab.content()], name
    said = error_text(tab)
    assert said, name
    return said.replace(enterprise, "E")
