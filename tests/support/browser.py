"""Real headless Chromium on the dashboard: Debian's browser driven by Playwright, the page's
figures read as the dashboard conventions lay them out, and its console watched.

Playwright's own browser download cannot work here: it drives /usr/bin/chromium (CI installs
Debian's `chromium`). Every figure on a page is an element with `data-figure` (the API field)
and `data-value` (that field's JSON, exactly as the API sent it), its row key on an ancestor's
`data-row`; each page's root is `main[data-page][data-state]`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.stack import wait_until

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PAGES = ("wallboard", "trends", "operators", "deals", "voicebot", "integrations", "operations")
TOKEN_KEY = "switchboard.token"
LAPTOP = {"width": 1440, "height": 900}
TV = {"width": 1920, "height": 1080}
# Chromium logs every 4xx answer to fetch() as a console error of its own making.
_FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")
_FIGURES_JS = """
(scope) => Array.from(document.querySelectorAll(`${scope} [data-figure]`)).map(e => ({
  row: e.closest('[data-row]')?.getAttribute('data-row') ?? null,
  name: e.getAttribute('data-figure'),
  value: e.getAttribute('data-value'),
  kind: e.getAttribute('data-format'),
  text: e.textContent.trim(),
}))
"""


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)


@dataclass(frozen=True)
class Figure:
    row: str | None
    name: str
    value: Any
    # How the page formatted it (`data-format`: count, sec, pct, ...); None: unsaid.
    kind: str | None
    text: str


@dataclass
class Console:
    """Every console error and uncaught exception of the pages it watches. A 4xx answer the
    test provoked on purpose (`expect`) is no error."""

    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def expect(self, *statuses: int) -> None:
        self.expected_statuses.update(statuses)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = _FAILED_LOAD.match(message.text)
        if failed and int(failed.group(1)) in self.expected_statuses:
            return
        self.errors.append(f"{message.text} ({message.location.get('url')})")


@contextmanager
def viewer(
    browser: Browser, console: Console, viewport: Mapping[str, int] = LAPTOP
) -> Iterator[Page]:
    """A fresh tab in its own context (its own session storage: nobody signed in)."""
    context: BrowserContext = browser.new_context(viewport=dict(viewport))  # type: ignore[arg-type]
    try:
        page = context.new_page()
        console.watch(page)
        yield page
    finally:
        context.close()


def route_url(base_url: str, page: str, **params: str | int | None) -> str:
    """The dashboard's hash route: `#/trends?metric=asaSec&interval=1h`."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base_url}/#/{page}" + (f"?{query}" if query else "")


def sign_in(page: Page, base_url: str, token: str) -> None:
    """Through the link `up` prints; the dashboard keeps the token for the tab."""
    page.goto(f"{base_url}/#token={token}")
    wait_until(lambda: "token=" not in page.url, timeout=30, what="the token to leave the URL")


def show(page: Page, base_url: str, name: str, **params: str | int | None) -> None:
    """Opens page `name`, refreshing every second, and waits until it has its data."""
    page.goto(route_url(base_url, name, refresh=1, **params))
    wait_ready(page, name)


def wait_ready(page: Page, name: str, timeout: float = 30) -> None:
    try:
        page.wait_for_selector(
            f'main[data-page="{name}"][data-state="ready"]',
            timeout=timeout * 1000,
            state="attached",
        )
    except PlaywrightTimeoutError:
        raise AssertionError(f"page {name} not ready: {_state(page)}") from None


def _state(page: Page) -> str:
    """What the page shows instead of its figures: its state and error, for the report."""
    return str(
        page.evaluate(
            """() => ({
  url: location.href,
  state: document.querySelector('main[data-page]')?.getAttribute('data-state') ?? null,
  page: document.querySelector('main[data-page]')?.getAttribute('data-page') ?? null,
  errors: Array.from(document.querySelectorAll('[data-error]')).map(e => e.textContent.trim()),
})"""
        )
    )


def refreshed_at(page: Page) -> str | None:
    return page.get_attribute("main[data-page]", "data-refreshed-at")


def figures(page: Page, scope: str = "main[data-page]") -> list[Figure]:
    """Every figure shown inside `scope` (a CSS selector), its `data-value` decoded."""
    found = page.evaluate(_FIGURES_JS, scope)
    return [
        Figure(f["row"], f["name"], json.loads(f["value"]), f["kind"], f["text"])
        for f in found
        if f["value"] is not None
    ]


def error_text(page: Page) -> str:
    """What `[data-error]` elements say (a failed request's message)."""
    shown: list[str] = page.eval_on_selector_all(
        "[data-error]", "els => els.map(e => e.textContent.trim()).filter(Boolean)"
    )
    return " / ".join(shown)


def field_of(record: Any, name: str) -> Any:
    """`name`'s value in an API record; a dotted name walks into nested objects, whose own
    keys may hold dots (topic names)."""
    if not isinstance(record, Mapping):
        raise KeyError(name)
    if name in record:
        return record[name]
    for dot in (i for i, c in enumerate(name) if c == "."):
        if name[:dot] in record:
            try:
                return field_of(record[name[:dot]], name[dot + 1 :])
            except KeyError:
                continue
    raise KeyError(name)


def mismatches(
    shown: list[Figure],
    rows: Mapping[str | None, Any],
    *,
    rows_only: bool = False,
    moving: frozenset[str] = frozenset(),
    worded: frozenset[str] = frozenset(),
) -> list[str]:
    """How the page's figures differ from the API's records: `rows` maps each row key to its
    record (None: the page-level record). Empty when every figure matches and every API row is
    on the page; a figure's text must show its value (`—` for null). A `moving` figure (an age
    the API measures at the instant it answers) need only be there, a number, on both. A
    `worded` figure's text puts its value in words (an A/B test's verdict)."""
    problems = []
    for figure in shown:
        if rows_only and figure.row is None:
            continue
        if figure.row not in rows:
            problems.append(f"row {figure.row!r} is on the page, not in the API's answer")
            continue
        try:
            expected = field_of(rows[figure.row], figure.name)
        except KeyError:
            problems.append(f"{figure.row}/{figure.name}: no such field in the API's answer")
            continue
        if figure.name in moving and figure.value != expected:
            if not all(isinstance(v, int | float) for v in (figure.value, expected)):
                problems.append(f"{figure.row}/{figure.name}: {figure.value!r}, API {expected!r}")
        elif figure.value != expected:
            problems.append(f"{figure.row}/{figure.name}: page {figure.value!r}, API {expected!r}")
        if figure.name not in worded and figure.text != formatted(figure.value, figure.kind):
            problems.append(
                f"{figure.row}/{figure.name}: text {figure.text!r} for {figure.value!r}"
            )
    on_page = {figure.row for figure in shown}
    problems += [f"row {row!r} of the API is not on the page" for row in rows if row not in on_page]
    return problems


def eventually_matches(
    page: Page,
    scope: str,
    api: Callable[[], Mapping[str | None, Any]],
    *,
    timeout: float = 30,
    rows_only: bool = False,
    moving: frozenset[str] = frozenset(),
    worded: frozenset[str] = frozenset(),
) -> list[Figure]:
    """Polls until the page shows exactly what the API answers now, both read within the same
    poll: live figures (waiting now, oldest wait) move between two reads. Returns the figures;
    fails with the last differences."""
    last: list[str] = []

    def agree() -> list[Figure] | None:
        nonlocal last
        shown = figures(page, scope)
        if not shown:
            last = [f"no figure in {scope}"]
            return None
        last = mismatches(shown, api(), rows_only=rows_only, moving=moving, worded=worded)
        return shown if not last else None

    try:
        return wait_until(agree, timeout=timeout, interval=0.5, what="the page to match the API")
    except AssertionError:
        raise AssertionError(f"{scope} differs from the API:\n" + "\n".join(last[:40])) from None


def formatted(value: Any, kind: str | None) -> str:
    """The text a figure of this `data-format` shows, as the dashboard's lib/format.js writes it
    (JavaScript's rounding: half away from zero on the double's exact value)."""
    if value is None:
        return MISSING
    if kind is None:
        return _text(value)
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "time":
        return _utc_time(value)
    if kind == "text" or isinstance(value, bool) or not isinstance(value, int | float):
        return _text(value)
    return _NUMBER_FORMATS.get(kind, _text)(value)


MISSING = "—"


def _fixed(value: float, digits: int) -> str:
    """JavaScript's Number.prototype.toFixed."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{exact:.{digits}f}"


def _grouped(value: float) -> str:
    """Intl.NumberFormat("en-US", {maximumFractionDigits: 1}): it rounds the shortest decimal
    that reads back as the double, where toFixed rounds the double's exact value."""
    text = f"{Decimal(repr(value)).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,.1f}"
    return text.removesuffix(".0")


def _seconds(value: float) -> str:
    if value < 10:
        return f"{_fixed(value, 1)} s"
    whole = math.floor(value + 0.5)
    if whole < 60:
        return f"{whole} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _usd(value: float) -> str:
    return "$" + (_fixed(value, 4) if abs(value) < 1 else _fixed(value, 2))


def _pvalue(value: float) -> str:
    return "< 0.001" if value < 0.001 else _fixed(value, 3)


def _text(value: Any) -> str:
    """Lists read "a, b, c"; mappings "key → value, ..." in JavaScript's key order."""
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} → {_text(value[key])}" for key in _js_key_order(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _js_key_order(mapping: dict[str, Any]) -> list[str]:
    """Object.entries' order: array-index keys ascending, then the others as inserted."""
    indices = [k for k in mapping if k.isdigit() and (k == "0" or not k.startswith("0"))]
    indices = [k for k in indices if int(k) < 2**32 - 1]
    return sorted(indices, key=int) + [k for k in mapping if k not in indices]


def _utc_time(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


_NUMBER_FORMATS: dict[str, Callable[[Any], str]] = {
    "count": _grouped,
    "sec": _seconds,
    "pct": lambda v: f"{_fixed(v, 1)}%",
    "ms": lambda v: f"{_grouped(math.floor(v + 0.5))} ms",
    "usd": _usd,
    "score": lambda v: _fixed(v, 2),
    "pvalue": _pvalue,
}
