"""GET / and GET /assets/{name}: the dashboard's build, served by the API without a token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from yarl import URL

from api.app import create_app
from api.auth import create_token
from api.dashboard.serving import STATIC, STATIC_DIR
from tests.support.api import bearer, serve, settings_for

pytestmark = pytest.mark.integration

PAGE = '<!doctype html><div id="root"></div><script src="/assets/app-1A2B3C4D.js"></script>'
SCRIPT = b"console.log('app');"
STYLE = b"body{color:#fff}"


def dashboard_app(database_url: str, static: Path) -> web.Application:
    app = create_app(settings_for(database_url))
    app[STATIC_DIR] = static
    return app


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A build's layout, with a file beside the assets that must never be served from there."""
    static = tmp_path / "static"
    (static / "assets" / "nested").mkdir(parents=True)
    (static / "index.html").write_text(PAGE)
    (static / "assets" / "app-1A2B3C4D.js").write_bytes(SCRIPT)
    (static / "assets" / "app-5E6F7A8B.css").write_bytes(STYLE)
    (static / "assets" / "nested" / "inner.js").write_bytes(SCRIPT)
    (tmp_path / "secret.txt").write_text("not for the web")
    return static


async def test_the_page_needs_no_token_and_is_never_cached(database_url: str, build: Path) -> None:
    async with serve(dashboard_app(database_url, build)) as client:
        response = await client.get("/")
        body = await response.text()
        head = await client.head("/")

    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self';" in response.headers["Content-Security-Policy"]
    assert body == PAGE
    assert head.status == 200
    assert head.headers["Content-Type"] == "text/html; charset=utf-8"


async def test_assets_carry_their_media_type_and_are_cached_for_good(
    database_url: str, build: Path
) -> None:
    async with serve(dashboard_app(database_url, build)) as client:
        script = await client.get("/assets/app-1A2B3C4D.js")
        script_body = await script.read()
        style = await client.get("/assets/app-5E6F7A8B.css")
        style_body = await style.read()
        head = await client.head("/assets/app-1A2B3C4D.js")

    assert (script.status, script_body) == (200, SCRIPT)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (style.status, style_body) == (200, STYLE)
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(SCRIPT))


async def test_a_missing_build_answers_503_json_naming_the_fix(
    database_url: str, tmp_path: Path
) -> None:
    async with serve(dashboard_app(database_url, tmp_path / "never-built")) as client:
        page = await client.get("/")
        page_body = await page.json()
        asset = await client.get("/assets/app-1A2B3C4D.js")
        asset_body = await asset.json()

    assert page.status == 503
    assert page_body == {"error": {"code": "dashboard_not_built", "message": "run make install"}}
    assert asset.status == 404
    assert asset_body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/..%2Findex.html",
        "/assets/%2e%2e%2findex.html",
        "/assets/..%2F..%2Fsecret.txt",
        "/assets/%2E%2E%5Csecret.txt",
        "/assets/.",
        "/assets/nested",
        "/assets/nested%2Finner.js",
        "/assets/%00",
        "/assets/app-1A2B3C4D.js%00.css",
        "/assets/%2Fetc%2Fpasswd",
    ],
)
async def test_no_name_reaches_outside_the_assets(
    database_url: str, build: Path, path: str
) -> None:
    async with serve(dashboard_app(database_url, build)) as client:
        response = await client.get(URL(path, encoded=True))
        body = await response.read()

    assert 400 <= response.status < 500, (path, response.status)
    assert response.headers["Content-Type"].startswith("application/json"), path
    assert b"not for the web" not in body
    assert b"root" not in body
    assert SCRIPT not in body


async def test_the_built_dashboard_serves_every_asset_its_page_names(database_url: str) -> None:
    """The real build (`make install` runs `npm run build`): the page and what it loads."""
    async with serve(create_app(settings_for(database_url))) as client:
        page = await client.get("/")
        html = await page.text()
        names = re.findall(r'"/assets/([^"]+)"', html)
        served = {name: await client.get(f"/assets/{name}") for name in names}
        types = {name: response.headers["Content-Type"] for name, response in served.items()}

    assert page.status == 200, f"no build in {STATIC}: run make install"
    assert '<link rel="icon"' in html  # the browser asks for no favicon, so logs no 404
    assert {name.rsplit(".", 1)[1] for name in names} == {"js", "css"}
    assert all(response.status == 200 for response in served.values()), served
    assert all(re.fullmatch(r"app-[A-Z0-9]{8}\.(js|css)", name) for name in names), (
        names
    )  # content-hashed, hence cacheable for good
    assert {t.split(";")[0] for t in types.values()} == {"text/javascript", "text/css"}


async def test_both_routes_are_public_in_the_openapi_document(
    database_url: str, build: Path
) -> None:
    token = await create_token(database_url, ["e1"], None)
    async with serve(dashboard_app(database_url, build)) as client:
        document = await (await client.get("/api/openapi.json", headers=bearer(token))).json()

    page = document["paths"]["/"]["get"]
    asset = document["paths"]["/assets/{name}"]["get"]
    assert page["security"] == [] and asset["security"] == []
    assert "text/html" in page["responses"]["200"]["content"]
    assert set(page["responses"]) == {"200", "503"}
    assert set(asset["responses"]) == {"200", "400", "404"}
