"""Each page shows exactly what the API answers for the same query and the same token: every
`data-value` against the API's JSON, every text against that value formatted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page

from tests.browser.stack import TENANT, Stack
from tests.support.browser import eventually_matches, show, sign_in

# The pages' list sizes (api/dashboard/web/src/pages/deals.js, integrations.js).
DEALS_LISTED = 50
LOGS_LISTED = 50


def keyed(records: list[dict[str, Any]], key: str) -> dict[str | None, Any]:
    return {str(record[key]): record for record in records}


def whole(record: dict[str, Any]) -> dict[str | None, Any]:
    """A record whose figures stand outside any row (a page's summary tiles)."""
    return {None: record}


def today() -> tuple[str, str]:
    """The trends page's default range: today, UTC, as whole days."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_wallboard_shows_each_queue_as_the_api_does(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "wallboard")
    shown = eventually_matches(
        tab,
        "main[data-page=wallboard]",
        lambda: keyed(stack.get("/api/wallboard", stack.tenant)["queues"], "queueId"),
    )
    names = {figure.name for figure in shown}
    assert {"waiting", "oldestWaitSec", "offered", "answered", "abandoned"} <= names
    assert {"asaSec", "slaPct"} <= names and any(n.startswith("agents.") for n in names)
    assert {figure.row for figure in shown} >= {f"{TENANT}-cc-billing", f"{TENANT}-cc-support"}


def test_trends_chart_the_api_timeseries(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    start, end = today()
    for metric, interval in (("offered", "1h"), ("asaSec", "15m")):
        show(tab, stack.api_url, "trends", metric=metric, interval=interval)

        def series(metric: str = metric, interval: str = interval) -> dict[str | None, Any]:
            query = {"metric": metric, "interval": interval, "from": start, "to": end}
            return keyed(stack.get("/api/timeseries", stack.tenant, **query), "ts")

        points = series()
        eventually_matches(tab, "[data-table=timeseries]", series)
        chart = tab.locator(f'[data-chart="{metric}"]')
        assert chart.get_attribute("data-points") == str(len(points))
        assert sum(p["value"] is not None for p in points.values()) > 0, metric
        # uPlot draws its axis titles on the canvas; the container names them, units included.
        axes = chart.get_attribute("aria-label") or ""
        assert axes.endswith(" by Time (UTC)") and axes.count("(") == 2, axes


def test_operators_and_queues_match_the_api(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "operators")
    agents = eventually_matches(
        tab,
        "[data-table=operators]",
        lambda: keyed(stack.get("/api/operators", stack.tenant)["operators"], "agentId"),
    )
    assert agents
    eventually_matches(
        tab,
        "[data-table=queues]",
        lambda: keyed(stack.get("/api/queues", stack.tenant)["queues"], "queueId"),
    )


def test_the_deal_funnel_and_one_deals_history_match_the_api(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "deals")
    funnel = stack.get("/api/deals/funnel", stack.tenant)
    assert funnel["total"] > 0, funnel
    eventually_matches(
        tab,
        "main[data-page=deals] > .stats-row",
        lambda: whole(stack.get("/api/deals/funnel", stack.tenant)),
    )
    eventually_matches(
        tab,
        "[data-table=funnel]",
        lambda: keyed(stack.get("/api/deals/funnel", stack.tenant)["stages"], "stage"),
    )
    newest = lambda: keyed(  # noqa: E731
        stack.get("/masterdeal", stack.tenant, limit=DEALS_LISTED)["deals"], "master_deal_id"
    )
    eventually_matches(tab, "[data-table=deals]", newest)

    # The deal with the longest history, opened as a supervisor does: a click on its row.
    deals = stack.get("/masterdeal", stack.tenant, limit=DEALS_LISTED)["deals"]
    histories = {
        d["master_deal_id"]: stack.get(f"/masterdeal/{d['master_deal_id']}", stack.tenant)
        for d in deals
    }
    chosen = max(histories, key=lambda d: len(histories[d]["history"]))
    tab.locator(f'[data-table=deals] [data-row="{chosen}"]').click()
    tab.wait_for_selector(f'[data-deal="{chosen}"][data-state="ready"]')
    deal = lambda: stack.get(f"/masterdeal/{chosen}", stack.tenant)  # noqa: E731
    eventually_matches(tab, f'[data-deal="{chosen}"] > .stats-row', lambda: whole(deal()))
    history = eventually_matches(
        tab, "[data-table=history]", lambda: keyed(deal()["history"], "event_key")
    )
    assert len({figure.row for figure in history}) == len(histories[chosen]["history"]) > 1
    eventually_matches(
        tab, "[data-table=sla-targets]", lambda: keyed(deal()["sla"]["targets"], "target")
    )
    eventually_matches(tab, "[data-table=domains]", lambda: keyed(deal()["domains"], "domain"))


def test_the_voice_bot_page_matches_the_api(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "voicebot")

    def api(path: str) -> Any:
        return stack.get(f"/api/voicebot/{path}", stack.tenant)

    days = eventually_matches(
        tab, "[data-table=daily-stats]", lambda: keyed(api("daily-stats")["days"], "date")
    )
    assert days
    eventually_matches(tab, "[data-table=handoffs]", lambda: whole(api("handoffs")))
    eventually_matches(tab, "[data-table=costs]", lambda: whole(api("costs")))
    eventually_matches(
        tab,
        "[data-table=costs-by-component]",
        lambda: _by_component(api("costs")),
    )
    eventually_matches(
        tab,
        "[data-table=latency]",
        lambda: dict(api("latency")["components"].items()),
    )
    eventually_matches(
        tab,
        "[data-table=ab-tests]",
        lambda: {
            f"{t['enterpriseId']}:{t['testName']}" if t.get("enterpriseId") else t["testName"]: t
            for t in api("ab-tests")["tests"]
        },
        worded=frozenset({"winner"}),
    )
    eventually_matches(tab, "[data-table=tools]", lambda: keyed(api("tools")["tools"], "toolName"))


def test_the_integrations_page_matches_the_api(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.tenant)
    show(tab, stack.api_url, "integrations", enterprise=TENANT)
    path = f"/api/integrations/{TENANT}"
    settings = eventually_matches(
        tab, "dl.settings", lambda: dict(stack.get(path, stack.tenant)["integrations"].items())
    )
    assert {figure.row for figure in settings} == {"retailcrm"}
    logs = eventually_matches(
        tab,
        "[data-table=logs]",
        lambda: keyed(stack.get(f"{path}/logs", stack.tenant, limit=LOGS_LISTED)["logs"], "id"),
        timeout=60,
    )
    assert logs, "the simulated calls of the tenant reached its CRM"


def test_the_operations_page_matches_the_lag_api(stack: Stack, tab: Page) -> None:
    sign_in(tab, stack.api_url, stack.admin)
    show(tab, stack.api_url, "operations")
    lag = lambda: stack.get("/api/lag", stack.admin)  # noqa: E731
    eventually_matches(tab, "[data-banner]", lambda: whole(lag()))
    eventually_matches(
        tab,
        "main[data-page=operations] > .stats-row",
        lambda: whole(lag()),
        moving=frozenset({"sampleAgeSec"}),
    )
    eventually_matches(tab, "[data-table=partitions]", lambda: _partitions(lag()))
    eventually_matches(
        tab,
        "div[data-table=outbox]",
        lambda: whole(lag()),
        moving=frozenset({"outbox.oldestPendingAgeSec"}),
    )
    eventually_matches(tab, "div[data-table=publication]", lambda: whole(lag()))
    eventually_matches(
        tab,
        "table[data-table=publication]",
        lambda: keyed(lag()["publication"]["topics"], "topic"),
        moving=frozenset({"lastPublishedAgeSec"}),
    )
    ages = lag()["newestProcessedEventAgeSec"]
    eventually_matches(
        tab,
        "table[data-table=freshness]",
        lambda: {topic: {"topic": topic, **lag()} for topic in ages},
        moving=frozenset(f"newestProcessedEventAgeSec.{topic}" for topic in ages),
    )
    rows = tab.locator("[data-table=partitions] [data-row][data-status]")
    assert rows.count() == len(lag()["partitions"])


def _partitions(lag: dict[str, Any]) -> dict[str | None, Any]:
    return {f"{p['topic']}:{p['partition']}": p for p in lag["partitions"]}


def _by_component(costs: dict[str, Any]) -> dict[str | None, Any]:
    """The costs table's rows: one per component, its name beside the API's figure."""
    return {
        component: {"component": component, "byComponent": costs["byComponent"]}
        for component in costs["byComponent"]
    }
