"""The web page is served by the service itself: without a token, from package data,
with a strict CSP, and nothing in it comes from another origin."""

from __future__ import annotations

import re
from importlib import resources

from hazmon.api import web
from tests.api.support import Api, ApiFactory

ASSETS = ("index.html", "app.js", "api.js", "chart.js", "fmt.js", "style.css")


def test_assets_ship_in_the_package() -> None:
    static = resources.files("hazmon.api").joinpath("static")
    for name in ASSETS:
        assert static.joinpath(name).is_file(), name


def test_assets_load_nothing_from_elsewhere() -> None:
    for name in ASSETS:
        text = (web.STATIC_DIR / name).read_text(encoding="utf-8")
        urls = set(re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[a-z]{2,}[^\s'\"`)]*", text))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
        assert "@import" not in text, name
        assert "eval(" not in text, name
    page = (web.STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert "<style" not in page
    assert " style=" not in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script


async def test_page_without_token(api: Api) -> None:
    r = await api.client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "监测" in r.text
    assert 'src="/static/app.js"' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-cache"
    assert (await api.client.get("/index.html")).headers["location"] == "/"


async def test_static_assets(api: Api) -> None:
    js = await api.client.get("/static/app.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert "default-src 'self'" in js.headers["content-security-policy"]
    css = await api.client.get("/static/style.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await api.client.get("/static/nope.js")).status_code == 404
    assert (await api.client.get("/static/../web.py")).status_code == 404
    assert (await api.client.get("/static/%2e%2e/web.py")).status_code == 404


async def test_the_page_opens_no_api_door(make_api: ApiFactory) -> None:
    api: Api = await make_api()
    assert (await api.client.get("/api/v1/alarms")).status_code == 401
    assert "/" not in (await api.client.get("/openapi.json")).json()["paths"]
