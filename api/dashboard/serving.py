"""GET / and GET /assets/{name}: the dashboard's static build (contract 11).

The build (`npm run build` in web/, run by `make install` and the image's node stage) writes
static/index.html and static/assets/, whose names carry a hash of their content: the page is
never cached, so a new build is picked up at the next load, and the assets are cached for good.
Both routes are public: the files hold no data; the page's own requests carry the token.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import hdrs, web
from pydantic import BaseModel, Field

from api.contract.replies import INVALID_PARAMETER, NOT_FOUND, error_reply
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import ApiError

# The build's directory; tests point an app at another one.
STATIC = Path(__file__).parent / "static"
STATIC_DIR = web.AppKey("dashboard_static", Path)

# The page runs only its own script and talks only to this API; `data:` is its empty favicon.
# Inline styles stay allowed: the chart library sizes its canvas through them.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
NO_CACHE = "no-cache"
FOREVER = "public, max-age=31536000, immutable"
# What the build emits; anything else is served as bytes, never guessed from the host's tables.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
BYTES = "application/octet-stream"

NOT_BUILT = error_reply("The dashboard was not built (`dashboard_not_built`): run make install.")


class AssetPath(BaseModel):
    name: str = Field(description="A file name of the build's assets, e.g. `app-3F2A9C1B.js`.")


@endpoint(
    "GET",
    "/",
    operation_id="dashboard",
    tag="dashboard",
    summary="The web dashboard",
    description="The dashboard's page (contract 11); sign in with a bearer token, or follow"
    " `/#token=TOKEN`. Its figures come from the API's own routes.",
    responses={200: Reply("The page.", str, "text/html"), 503: NOT_BUILT},
    public=True,
)
async def index(request: web.Request) -> web.StreamResponse:
    """The page, revalidated on every load so that a new build shows at once."""
    page = request.config_dict[STATIC_DIR] / "index.html"
    if not page.is_file():
        raise ApiError(503, "dashboard_not_built", "run make install")
    return web.FileResponse(
        page,
        headers={
            hdrs.CONTENT_TYPE: "text/html; charset=utf-8",
            hdrs.CACHE_CONTROL: NO_CACHE,
            "Content-Security-Policy": PAGE_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@endpoint(
    "GET",
    "/assets/{name}",
    operation_id="dashboardAsset",
    tag="dashboard",
    summary="A script, style sheet or image of the dashboard",
    description="Names carry a hash of their content, so an answer may be cached for good.",
    responses={
        200: Reply("The file, with its media type (JavaScript, CSS, ...)."),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
    },
    public=True,
)
async def asset(request: web.Request, path: AssetPath) -> web.StreamResponse:
    """One file of static/assets, looked up by name among those the build wrote."""
    found = _asset(request.config_dict[STATIC_DIR] / "assets", path.name)
    if found is None:
        raise ApiError(404, "not_found", "no such asset")
    content_type = CONTENT_TYPES.get(found.suffix, BYTES)
    return web.FileResponse(
        found,
        headers={
            hdrs.CONTENT_TYPE: content_type,
            hdrs.CACHE_CONTROL: FOREVER,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _asset(assets: Path, name: str) -> Path | None:
    # Matching against the directory's own listing, never joining the name into a path,
    # leaves nothing to traverse with: `..`, separators and encodings all simply match nothing.
    if not assets.is_dir():
        return None
    found = next((entry for entry in assets.iterdir() if entry.name == name), None)
    return found if found is not None and found.is_file() else None


def setup(app: web.Application) -> None:
    """Mounts the dashboard's routes on `app`, serving the build in `STATIC`."""
    app[STATIC_DIR] = STATIC
    add_endpoints(app, index, asset)
