"""A local fake of the third-party push endpoints (SMS gateway, WeCom and DingTalk
robots): a real HTTP server on a loopback port that records each request exactly as it
arrived (method, raw path with its query, headers, body bytes) and answers from a
script of (status, JSON) pairs, then with `default`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from hazmon.alerts.notify import Message, Recipient


@dataclass
class Seen:
    method: str
    raw_path: str  # as on the request line: path and query, still percent-encoded
    headers: httpx.Headers
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.raw_path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.raw_path).query, keep_blank_values=True)

    @property
    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, Any]  # status, and a JSON value (or bytes sent as they are)


@dataclass
class FakeGateway:
    default: Answer = (200, {"errcode": 0, "errmsg": "ok"})
    script: list[Answer] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeGateway:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._any()

            def do_PUT(self) -> None:
                self._any()

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.seen.append(Seen(self.command, self.path,
                                       httpx.Headers(list(self.headers.items())), body))
                status, answer = outer.script.pop(0) if outer.script else outer.default
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --- what the channels are handed -----------------------------------------------------------

ENT = "91320921MA1XXXXX0Q"
WALL_S = 1_764_633_600.25  # the channels' real time, fixed: signatures are recomputable
SUBJECT = "[high] 报警: 91320921MA1XXXXX0Q MHS-01.T101.LT01"
TEXT = ("[high] 报警 2026-11-22T02:00:00Z 91320921MA1XXXXX0Q MHS-01.T101.LT01: "
        "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m")


def message(*, phone: str | None = None, text: str = TEXT, subject: str = SUBJECT,
            simulated: bool = False, msg_id: str = "n7.3") -> Message:
    """A single-alarm message to the enterprise's duty line, or to a 包保 person."""
    recipient = (Recipient("contact", ENT, role="operational", name="王五", phone=phone)
                 if phone else Recipient("enterprise", ENT))
    return Message(msg_id, "push", recipient, "alarm", {"id": "A1"}, subject, text,
                   simulated, (7,))


# what httpx sends on every request, whatever the channel
TRANSPORT_HEADERS = frozenset({"host", "accept", "accept-encoding", "connection",
                               "user-agent", "content-length"})


def own_headers(seen: Seen) -> dict[str, str]:
    """The request's headers less the transport's: what the channel itself set."""
    return {k: v for k, v in seen.headers.items() if k not in TRANSPORT_HEADERS}
