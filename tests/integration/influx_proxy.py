"""A counting HTTP proxy in front of a real InfluxDB: what was written, and how often.

InfluxDB keeps one point per series and time, so a point written twice looks the same as
one written once; only a count taken on the way in shows a double write.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from types import TracebackType

import httpx

_TAG = re.compile(r",tag=([^,\s]+)")
_DROP = {"host", "content-length", "connection", "transfer-encoding", "content-encoding"}


def point_key(line: str) -> tuple[str, int]:
    """(sensor tag, time): what identifies a telemetry point of one enterprise's test."""
    m = _TAG.search(line)
    return (m.group(1) if m else "", int(line.rsplit(" ", 1)[1]))


class CountingInfluxProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.points: list[tuple[str, int]] = []  # every point InfluxDB accepted, in order
        # The same by epoch of the connection that sent them: the test moves `epoch` on
        # between two runs of the service, so a write is told apart by who opened the
        # connection, not by when its response came back.
        self.epoch = 0
        self.by_epoch: dict[int, list[tuple[str, int]]] = {}
        self.write_requests = 0
        self._server: asyncio.Server | None = None
        self._http = httpx.AsyncClient(base_url=upstream, timeout=30.0)
        self.url = ""

    async def __aenter__(self) -> CountingInfluxProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.close()
        await self._http.aclose()

    def twice(self, points: list[tuple[str, int]] | None = None) -> dict[tuple[str, int], int]:
        """Points written more than once (among `points`, default all), with their count."""
        return {k: n for k, n in Counter(self.points if points is None else points).items()
                if n > 1}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        epoch = self.epoch
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = dict(h.split(":", 1) for h in header_lines if ":" in h)
                headers = {k.strip(): v.strip() for k, v in headers.items()}
                length = int(next((v for k, v in headers.items()
                                   if k.lower() == "content-length"), "0"))
                try:
                    body = await reader.readexactly(length)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return  # the sender died mid-request: nothing reached InfluxDB
                r = await self._http.request(
                    method, target, content=body,
                    headers={k: v for k, v in headers.items() if k.lower() not in _DROP})
                if target.startswith("/write") and r.status_code == 204:
                    self.write_requests += 1
                    keys = [point_key(line) for line in body.decode().splitlines() if line]
                    self.points.extend(keys)
                    self.by_epoch.setdefault(epoch, []).extend(keys)
                out = [f"HTTP/1.1 {r.status_code} {r.reason_phrase}"]
                out += [f"{k}: {v}" for k, v in r.headers.items() if k.lower() not in _DROP]
                out.append(f"Content-Length: {len(r.content)}")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + r.content)
                await writer.drain()
        finally:
            writer.close()
