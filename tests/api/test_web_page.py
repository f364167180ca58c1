"""The web page is served by the service itself: without a token, from package data,
with a strict CSP, and nothing in it comes from another origin. Its ES modules import
each other by relative path, with no build step: every import must resolve, every module
must be reachable from app.js, and every view module must be in the view table."""

from __future__ import annotations

import json
import mimetypes
import re
from importlib import resources
from pathlib import Path

from hazmon.api import web
from tests.api.support import Api, ApiFactory

ASSETS = (
    "index.html", "style.css", "app.js", "api.js", "fmt.js", "ui.js", "state.js", "chart.js",
    "map.js", "alarms.js", "dialogs.js", "login.js",
    "views/index.js", "views/overview.js", "views/sensor.js", "views/kpi.js",
    "views/warnings.js", "views/duties.js", "views/watch.js",
)
MODULES = sorted(p.relative_to(web.STATIC_DIR).as_posix() for p in web.STATIC_DIR.rglob("*.js")
                 if not p.relative_to(web.STATIC_DIR).as_posix().startswith("vendor/"))
# third-party files committed as published (vendor/README.md): not held to the page's rules
VENDOR = web.STATIC_DIR / "vendor"
ECHARTS = "vendor/echarts/echarts.esm.min.mjs"
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'|^\s*import\s+'([^']+)'""",
                    re.MULTILINE)


def imports_of(module: str) -> list[str]:
    """The modules `module` imports, as paths under static/."""
    text = (web.STATIC_DIR / module).read_text(encoding="utf-8")
    here = Path(module).parent
    out = []
    for m in IMPORT.finditer(text):
        spec = m.group(1) or m.group(2)
        assert spec.startswith(("./", "../")), (module, spec)  # no bare names: no bundler
        out.append(_norm(f"{here.as_posix()}/{spec}"))
    return out


def _norm(path: str) -> str:
    """'views/../fmt.js' -> 'fmt.js', as the browser resolves a relative URL."""
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def test_assets_ship_in_the_package() -> None:
    static = resources.files("hazmon.api").joinpath("static")
    for name in ASSETS:
        assert static.joinpath(name).is_file(), name


def test_every_module_is_listed_and_ships() -> None:
    assert sorted(a for a in ASSETS if a.endswith(".js")) == MODULES


def test_module_imports_resolve_and_reach_every_module() -> None:
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for target in imports_of(module):
            assert (web.STATIC_DIR / target).is_file(), f"{module} imports missing {target}"
            if target.startswith("vendor/"):  # a vendored module is read as it ships
                seen.add(target)
            else:
                todo.append(target)
    assert sorted(seen) == sorted([*MODULES, ECHARTS]), "a module no one imports"


def test_every_view_module_is_in_the_view_table() -> None:
    table = (web.STATIC_DIR / "views" / "index.js").read_text(encoding="utf-8")
    listed = re.search(r"export const VIEWS = \[([^\]]*)\]", table)
    assert listed is not None
    names = [n.strip() for n in listed.group(1).split(",") if n.strip()]
    imported = dict(re.findall(r"^import (\w+) from '\./(\w+)\.js';", table, re.MULTILINE))
    views = sorted(p.stem for p in (web.STATIC_DIR / "views").glob("*.js") if p.stem != "index")
    assert sorted(imported.values()) == views
    assert sorted(imported[n] for n in names) == views
    for view in views:  # its id is its file's name: the tab, the container and the table agree
        text = (web.STATIC_DIR / "views" / f"{view}.js").read_text(encoding="utf-8")
        assert re.search(rf"^  id: '{view}',$", text, re.MULTILINE), view
        for method in ("mount(", "update(", "unmount("):
            assert f"\n  {method}" in text, (view, method)


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


def test_vendored_files_say_package_version_and_licence() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    licences = {"LICENSE", "NOTICE"}
    for f in VENDOR.rglob("*"):
        rel = f.relative_to(VENDOR).as_posix()
        if f.is_dir() or f.name == "README.md" or f.name.split("-")[0] in licences:
            continue
        assert f"`{rel}`" in readme, f"vendor/README.md does not list {rel}"
        assert any(p.name.split("-")[0] == "LICENSE" for p in f.parent.iterdir()), rel
    # the ECharts build is the version the README names, and Apache-2.0 with its NOTICE
    echarts = (web.STATIC_DIR / ECHARTS).read_text(encoding="utf-8")
    version = re.search(r'version:"(\d+\.\d+\.\d+)"', echarts)
    assert version is not None
    assert f"| {version.group(1)} | Apache-2.0" in readme
    assert "Apache License" in (VENDOR / "echarts" / "LICENSE").read_text(encoding="utf-8")
    assert (VENDOR / "echarts" / "NOTICE").is_file()
    # boundary data: its licence is stated (BSD-3, Baidu's ECharts 2.x maps)
    data_licence = (VENDOR / "maps" / "LICENSE-map-data").read_text(encoding="utf-8")
    assert "BSD 3-clause" in data_licence
    assert "Copyright (c) 2013, Baidu Inc." in data_licence


def test_province_map_has_its_cities_by_code() -> None:
    # the map view colours cities by the 4-digit prefix of each feature's 6-digit code
    jiangsu = json.loads((VENDOR / "maps" / "32.json").read_text(encoding="utf-8"))
    ids = sorted(f["id"] for f in jiangsu["features"])
    assert ids == [f"32{n:02d}00" for n in range(1, 14)]
    assert all(f["properties"]["name"].endswith("市") for f in jiangsu["features"])
    assert "PROVINCE_MAPS = { 32: '江苏省' }" in (web.STATIC_DIR / "map.js").read_text("utf-8")


async def test_vendored_module_and_map_are_served(api: Api) -> None:
    js = await api.client.get(f"/static/{ECHARTS}")
    assert js.status_code == 200
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"
    data = await api.client.get("/static/vendor/maps/32.json")
    assert data.status_code == 200
    assert data.headers["content-type"] == "application/json"
    assert data.json()["name"] == "江苏"


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
    for module in MODULES:  # a module script runs only when served as JavaScript
        js = await api.client.get(f"/static/{module}")
        assert js.status_code == 200, module
        assert js.headers["content-type"] == "text/javascript; charset=utf-8", module
        assert js.headers["x-content-type-options"] == "nosniff"
        assert js.headers["cache-control"] == "no-cache"
        assert "default-src 'self'" in js.headers["content-security-policy"]
    # revalidation answers 304 with the same headers and no body type to get wrong
    first = await api.client.get("/static/app.js")
    again = await api.client.get("/static/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in again.headers["content-security-policy"]
    css = await api.client.get("/static/style.css")
    assert css.headers["content-type"].startswith("text/css")
    assert (await api.client.get("/static/nope.js")).status_code == 404
    assert (await api.client.get("/static/../web.py")).status_code == 404
    assert (await api.client.get("/static/%2e%2e/web.py")).status_code == 404


async def test_module_type_does_not_depend_on_the_host_mime_table(api: Api) -> None:
    # e.g. a Windows registry mapping .js to text/plain: the browser would refuse the modules
    before = mimetypes.guess_type("x.js")[0]
    assert before is not None
    mimetypes.add_type("text/plain", ".js")
    try:
        js = await api.client.get("/static/views/overview.js")
    finally:
        mimetypes.add_type(before, ".js")
    assert js.headers["content-type"] == "text/javascript; charset=utf-8"


async def test_the_page_opens_no_api_door(make_api: ApiFactory) -> None:
    api: Api = await make_api()
    assert (await api.client.get("/api/v1/alarms")).status_code == 401
    assert "/" not in (await api.client.get("/openapi.json")).json()["paths"]
