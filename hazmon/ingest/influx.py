"""InfluxDB through its v1 HTTP API (`/write`, `/query`, `/ping`).

InfluxDB 1.x serves it natively; 2.x and 3.x serve the same endpoints (database =
bucket, auth by token), so a site on any of them sets only URL, database and token.

Over HTTPS (an https:// URL) the server's certificate is verified against
`influx.ca_file` and the URL's host; the context is built once, so a missing or bad CA
file stops the start with its path. A certificate that does not verify is an outage like
any other (`InfluxUnavailable`: the writer spools and retries with backoff), with a
message that says so.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any
from urllib.parse import urlencode

import httpx

from hazmon.ingest.http1 import HttpError, PostClient
from hazmon.ingest.settings import InfluxSettings

log = logging.getLogger(__name__)


class InfluxError(Exception):
    """Base of InfluxDB errors, translated from httpx at this boundary."""


class InfluxUnavailable(InfluxError):  # noqa: N818 - a state, retried later
    """Not reachable or not accepting writes now: retry later, keep the data."""


class InfluxRejected(InfluxError):  # noqa: N818
    """The server refused the data itself (HTTP 400): sending it again will not help."""


class InfluxTlsError(ValueError):
    """The TLS settings cannot be used (a missing or unreadable CA file)."""


def tls_context(settings: InfluxSettings) -> ssl.SSLContext | None:
    """What an HTTPS server is verified with (None: plain HTTP), the same for the writes'
    client and httpx's."""
    if not settings.https:
        return None
    if not settings.verify:
        log.warning("influx.verify is false: InfluxDB's certificate is not checked, anyone "
                    "on the path can read and change the data; set influx.ca_file instead")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        try:
            ctx = ssl.create_default_context(
                cafile=str(settings.ca_file) if settings.ca_file is not None else None)
        except (OSError, ssl.SSLError) as exc:
            raise InfluxTlsError(f"influx.ca_file {settings.ca_file}: {exc}") from None
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _failure(what: str, exc: Exception, settings: InfluxSettings) -> str:
    text = repr(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (f"{what}: TLS: InfluxDB's certificate at {settings.url} is not trusted by "
                f"influx.ca_file {settings.ca_file or '(system CAs)'} or does not name its "
                f"host ({exc})")
    if settings.https and ("SSL" in text or "TLS" in text):
        return f"{what}: TLS handshake with InfluxDB failed ({exc!r})"
    return f"{what} failed: {text}"


class InfluxClient:
    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        params: dict[str, str] = {"db": settings.database, "precision": "ms"}
        if settings.retention_policy:
            params["rp"] = settings.retention_policy
        if settings.token is not None:
            headers["Authorization"] = f"Token {settings.token.get_secret_value()}"
        elif settings.username is not None:
            params["u"] = settings.username
            params["p"] = settings.password.get_secret_value() if settings.password else ""
        self._auth_params = {k: v for k, v in params.items() if k in ("u", "p")}
        tls = tls_context(settings)
        self._http = httpx.AsyncClient(
            base_url=settings.url.rstrip("/"), headers=headers,
            timeout=httpx.Timeout(settings.timeout_s),
            limits=httpx.Limits(max_connections=4), verify=tls if tls is not None else True,
        )
        # The writes, a few a second of up to `batch_size` lines, on a client of their own.
        self._writes = PostClient(settings.url, f"/write?{urlencode(params)}", headers,
                                  tls=tls, timeout_s=settings.timeout_s)
        self._db_checked = False

    async def aclose(self) -> None:
        await self._writes.aclose()
        await self._http.aclose()

    async def ping(self) -> bool:
        try:
            r = await self._http.get("/ping", timeout=2.0)
        except httpx.HTTPError:
            return False
        return r.status_code == 204

    async def query(self, q: str, *, db: str | None = None, post: bool = False) -> dict[str, Any]:
        params = {**self._auth_params, "q": q, "db": db or self.settings.database,
                  "epoch": "ms"}
        try:
            if post:
                r = await self._http.post("/query", params=params)
            else:
                r = await self._http.get("/query", params=params)
        except httpx.HTTPError as exc:
            raise InfluxUnavailable(_failure("InfluxDB query", exc, self.settings)) from exc
        if r.status_code >= 500 or r.status_code in (401, 403):
            raise InfluxUnavailable(f"InfluxDB query: HTTP {r.status_code} {r.text[:200]}")
        body: dict[str, Any] = r.json()
        if r.status_code != 200:
            raise InfluxRejected(f"InfluxDB query: HTTP {r.status_code} {r.text[:200]}")
        for res in body.get("results", []):
            if "error" in res:
                raise InfluxRejected(f"InfluxDB query error: {res['error']}")
        return body

    async def ensure_database(self) -> None:
        """Create the database on 1.x (a no-op there when it exists)."""
        if self.settings.create_database and self.settings.token is None:
            await self.query(f'CREATE DATABASE "{self.settings.database}"', post=True)
        self._db_checked = True

    async def write(self, body: bytes, *, _create: bool = True) -> None:
        try:
            r = await self._writes.post(body)
        except HttpError as exc:
            raise InfluxUnavailable(_failure("InfluxDB write", exc, self.settings)) from exc
        if r.status == 204:
            return
        text = r.body[:500].decode("utf-8", "replace")
        if (r.status == 404 and "database not found" in text and _create
                and self.settings.create_database):
            await self.ensure_database()
            return await self.write(body, _create=False)
        if r.status == 400:
            raise InfluxRejected(f"InfluxDB refused the data: {text}")
        raise InfluxUnavailable(f"InfluxDB write: HTTP {r.status} {text}")
