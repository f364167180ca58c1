"""The writer's own HTTP/1.1 client: responses read to the byte, one connection kept, and a
server that restarts, stops answering or is not there an outage (never a lost write)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hazmon.ingest.http1 import MAX_BODY, MAX_HEAD, HttpError, PostClient, read_response
from hazmon.ingest.influx import InfluxClient, InfluxRejected, InfluxUnavailable
from hazmon.ingest.settings import InfluxSettings
from hazmon.testing.influxdb import InfluxDB
from tests.helpers import BASE_MS


def _reader(data: bytes, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=MAX_HEAD)
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def test_responses_are_read_to_their_end_and_no_further() -> None:
    after = b"HTTP/1.1 204 No Content\r\n\r\n"  # the next response on the connection
    cases: list[tuple[bytes, int, bytes, bool]] = [
        (b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\n\r\n", 204, b"", True),
        (b'HTTP/1.1 400 Bad Request\r\nContent-Length: 20\r\n\r\n{"error":"bad line"}',
         400, b'{"error":"bad line"}', True),
        (b"HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
         500, b"hello, world", True),
        (b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
         404, b"no", False),
        (b"HTTP/1.0 204 No Content\r\n\r\n", 204, b"", False),
        (b"HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n", 204, b"", True),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, b"", True),
    ]
    for raw, status, body, keep in cases:
        reader = _reader(raw + after)
        response, kept = await read_response(reader)
        assert (response.status, response.body, kept) == (status, body, keep), raw
        assert (await read_response(reader))[0].status == 204, raw  # nothing eaten
    # no length, no chunks: the body runs to the close
    response, kept = await read_response(_reader(b"HTTP/1.1 503 Busy\r\n\r\ntry later"))
    assert (response.status, response.reason, response.body, kept) == (
        503, "Busy", b"try later", False)


async def test_what_is_not_a_response_is_refused() -> None:
    bad = [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 2000 Odd\r\n\r\n",
        b"HTTP/1.1 400 Bad\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 400 Bad\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 400 Bad\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 400 Bad\r\nX-Long: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n",
    ]
    for raw in bad:
        with pytest.raises(HttpError):
            await read_response(_reader(raw))
    for cut in (b"HTTP/1.1 204 No", b"HTTP/1.1 400 Bad\r\nContent-Length: 9\r\n\r\nshort"):
        with pytest.raises(asyncio.IncompleteReadError):  # the connection ended early
            await read_response(_reader(cut))


@pytest.fixture
def own_influx(tmp_path: Path) -> Iterator[InfluxDB]:
    """An InfluxDB of this test's own: it is stopped and restarted."""
    server = InfluxDB(tmp_path / "influx").start()
    try:
        yield server
    finally:
        if server.proc is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()


async def _count(url: str, db: str) -> int:
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{url}/query", params={"db": db, "q": 'SELECT count(value) FROM "t"'})
        series = r.json()["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0


async def test_writes_share_a_connection_and_survive_a_restart(own_influx: InfluxDB) -> None:
    client = InfluxClient(InfluxSettings(url=own_influx.url, database="w", timeout_s=2.0))
    try:
        await client.ensure_database()
        await client.write(f"t,tag=a value=1 {BASE_MS}\n".encode())
        first = client._writes._writer
        assert first is not None
        for k in range(1, 20):
            await client.write(f"t,tag=a value={k} {BASE_MS + k}\n".encode())
        assert client._writes._writer is first  # one connection for all of them
        with pytest.raises(InfluxRejected, match="unable to parse"):
            await client.write(b"t,tag=a value= oops\n")
        assert client._writes._writer is first  # a refusal is an answer, not a failure

        own_influx.stop()  # the kept connection dies with the server...
        own_influx.start()
        # ...and the next write, sent on it first, goes out again on a new one and is stored
        await client.write(f"t,tag=a value=20 {BASE_MS + 20}\n".encode())
        assert client._writes._writer is not first
        assert await _count(own_influx.url, "w") == 21

        own_influx.stop()
        with pytest.raises(InfluxUnavailable, match=r"InfluxDB write failed.*Connect"):
            await client.write(f"t,tag=a value=21 {BASE_MS + 21}\n".encode())
        own_influx.start()
        await client.write(f"t,tag=a value=22 {BASE_MS + 22}\n".encode())
        assert await _count(own_influx.url, "w") == 22
    finally:
        await client.aclose()


async def test_a_server_that_stops_answering_times_out(own_influx: InfluxDB) -> None:
    client = InfluxClient(InfluxSettings(url=own_influx.url, database="s", timeout_s=0.5))
    try:
        await client.ensure_database()
        await client.write(f"t,tag=a value=1 {BASE_MS}\n".encode())
        assert own_influx.proc is not None
        os.kill(own_influx.proc.pid, signal.SIGSTOP)  # alive, connected, silent
        try:
            with pytest.raises(InfluxUnavailable, match=r"no response within 0\.5 s"):
                await client.write(f"t,tag=a value=2 {BASE_MS + 1}\n".encode())
        finally:
            os.kill(own_influx.proc.pid, signal.SIGCONT)
        await client.write(f"t,tag=a value=3 {BASE_MS + 2}\n".encode())
        # the write that timed out may or may not have been stored; the later one was
        assert await _count(own_influx.url, "s") in (2, 3)
    finally:
        await client.aclose()


async def test_nothing_listening_is_an_outage_with_its_cause() -> None:
    post = PostClient("http://127.0.0.1:1", "/write", {}, tls=None, timeout_s=2.0)
    with pytest.raises(HttpError, match="ConnectionRefusedError"):
        await post.post(b"t value=1 1\n")
    with pytest.raises(ValueError, match="not an http"):
        PostClient("ftp://127.0.0.1", "/write", {}, tls=None, timeout_s=1.0)
