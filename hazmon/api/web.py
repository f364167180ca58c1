"""The monitoring-centre web page: static HTML, CSS and JS modules shipped in the package
(hazmon/api/static), served at `/` and `/static/...` without a token. The page asks for
an API token and sends it as `Authorization: Bearer` on every call; nothing here reads
data. Assets come only from this origin (CSP), so the page works on a closed network.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

PathLike = str | os.PathLike[str]

STATIC_DIR = Path(__file__).parent / "static"

# Only this origin; SVG is built through the DOM, so no inline script or style is needed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> Response:
    # no-cache: a new release's page is picked up at the next load
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/index.html")
async def index_alias() -> Response:
    return RedirectResponse("/", status_code=308)


# Browsers run a module script only when it is served as JavaScript (strictly, with nosniff);
# pinned here rather than left to the host's MIME table, which may map .js to text/plain.
# .mjs is the vendored ECharts module (vendor/README.md), kept under its published name.
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
               ".css": "text/css; charset=utf-8", ".json": "application/json"}

_EXTRA = [(k.lower().encode(), v.encode())
          for k, v in {**SECURITY_HEADERS, "Cache-Control": "no-cache"}.items()]


class _Static(StaticFiles):
    """StaticFiles with the page's security headers, pinned media types and revalidation
    on every load (no-cache: each module is revalidated by its ETag, so a release's modules
    never mix with a cached older one)."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        kind = MEDIA_TYPES.get(Path(full_path).suffix)
        if kind is not None and "content-type" in response.headers:  # not on a 304
            response.headers["content-type"] = kind
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_EXTRA]
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Serve the page at / and its assets at /static."""
    app.include_router(router)
    app.mount("/static", _Static(directory=STATIC_DIR, check_dir=False), name="static")
