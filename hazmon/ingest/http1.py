"""A small HTTP/1.1 client for the one request the writer sends all the time: a POST.

httpx took about 1.7 ms of CPU per 5,000-line InfluxDB write (its request machinery and
anyio's streams over asyncio), this about 0.3 ms (docs/PERFORMANCE.md, item 14): at 100
readings a message that was about a tenth of hazmon's CPU. One keep-alive connection on
asyncio's own streams; the request head is formatted once, the response read by its
Content-Length, by chunks, or to the close. Everything else asked of InfluxDB (queries,
ping, creating the database) stays on httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # a response's status line and headers
MAX_BODY = 1 << 20  # an error text; InfluxDB's are a few hundred bytes


class HttpError(Exception):
    """No response: not connected, TLS refused, reset, timed out, or not HTTP."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    reason: str
    body: bytes


class PostClient:
    """POSTs to one URL (`base_url` + `target`) with fixed headers, one request at a time."""

    def __init__(self, base_url: str, target: str, headers: Mapping[str, str], *,
                 tls: ssl.SSLContext | None, timeout_s: float) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port or (443 if https else 80)
        self._tls = tls if https else None
        self.timeout_s = timeout_s
        host = f"[{self._host}]" if ":" in self._host else self._host
        if url.port is not None:
            host = f"{host}:{url.port}"
        lines = [f"POST {url.path.rstrip('/')}{target} HTTP/1.1", f"Host: {host}",
                 *(f"{k}: {v}" for k, v in headers.items()), "Content-Length: "]
        self._head = "\r\n".join(lines).encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def post(self, body: bytes) -> Response:
        async with self._lock:
            reused = self._writer is not None
            try:
                return await self._exchange(body)
            except HttpError:
                if not reused:
                    raise
            # The server may close a kept-alive connection whenever it likes (a restart,
            # an idle timeout): once more on a new one. An InfluxDB write is idempotent
            # (a point is its series and time), so a request that did arrive is harmless.
            return await self._exchange(body)

    async def aclose(self) -> None:
        self._drop()

    async def _exchange(self, body: bytes) -> Response:
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(
                        self._host, self._port, ssl=self._tls, limit=MAX_HEAD,
                        server_hostname=self._host if self._tls is not None else None)
                assert self._reader is not None
                writer = self._writer
                writer.write(self._head + b"%d\r\n\r\n" % len(body))
                writer.write(body)
                await writer.drain()
                response, keep = await read_response(self._reader)
        except TimeoutError:
            self._drop()
            raise HttpError(f"no response within {self.timeout_s:g} s") from None
        except HttpError:  # not a response we can read: the connection is no use either
            self._drop()
            raise
        except (OSError, asyncio.IncompleteReadError) as exc:  # ssl.SSLError is an OSError
            self._drop()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        except BaseException:  # cancelled mid-request: the connection's state is unknown
            self._drop()
            raise
        if not keep:
            self._drop()
        return response

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """One response: (it, whether the connection may carry the next request)."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            raise HttpError(f"response head over {MAX_HEAD} bytes") from None
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = status_line.partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise HttpError(f"not an HTTP/1.x response: {status_line[:80]!r}")
        status = int(code)
        if status >= 200:
            break  # 1xx are interim (none is asked for): the response follows
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(f"malformed header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
    if status in (204, 304):
        return Response(status, reason, b""), keep
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Response(status, reason, await _chunks(reader)), keep
    length = headers.get("content-length")
    if length is None:  # the body runs to the close
        return Response(status, reason, await _to_close(reader)), False
    if not length.isdigit() or int(length) > MAX_BODY:
        raise HttpError(f"response Content-Length {length[:20]!r} refused")
    return Response(status, reason, await reader.readexactly(int(length))), keep


async def _chunks(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        size_line = (await reader.readuntil(b"\r\n"))[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise HttpError(f"malformed chunk size {size_line[:20]!r}") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                pass
            return bytes(out)
        if len(out) + size > MAX_BODY:
            raise HttpError(f"response body over {MAX_BODY} bytes")
        out += (await reader.readexactly(size + 2))[:-2]


async def _to_close(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while chunk := await reader.read(65536):
        out += chunk
        if len(out) > MAX_BODY:
            raise HttpError(f"response body over {MAX_BODY} bytes")
    return bytes(out)
