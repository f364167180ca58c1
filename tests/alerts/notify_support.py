"""Helpers of the notification tests: a real local webhook receiver (http.server in a
thread), a recording MQTT publish callable, a directory with several enterprises and a
config builder."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from hazmon.alerts import ContactInfo, StaticDirectory
from hazmon.alerts.notify import NotifyConfig
from tests.alerts.support import DIRECTORY, ENT, HS

SECRET = "s3cret-for-tests-0123456789"
ENT2 = "91320582MA2YYYYY1R"  # a tier-3 plant in another city (3205)
HS2 = "MHS-02"
SIM = "91320921SIMULATE0X"  # a simulated (demo) plant

NDIR = StaticDirectory(
    regions={ENT: "320921", ENT2: "320582", SIM: "320921"},
    tiers={(ENT, HS): 1, (ENT2, HS2): 3, (SIM, HS): 2},
    contacts={ENT: list(DIRECTORY.contacts[ENT]),
              ENT2: [ContactInfo("operational", "赵六", "+8613800000004")]},
    simulated=frozenset({SIM}),
)


@dataclass
class Request:
    path: str
    headers: httpx.Headers
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """Answers POSTs with the next scripted status for the path (then 200)."""

    script: dict[str, list[int]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(Request(self.path, httpx.Headers(
                    list(self.headers.items())), body))
                queue = outer.script.get(self.path) or []
                status = queue.pop(0) if queue else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def url(self, path: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def on(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Publisher:
    """The injected MQTT publish callable; `connected=False` answers like a broker that
    is down."""

    connected: bool = True
    sent: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)

    async def __call__(self, topic: str, payload: bytes, *, qos: int = 1) -> bool:
        if not self.connected:
            return False
        self.sent.append((topic, json.loads(payload), qos))
        return True


def webhook(name: str, receiver: Receiver, path: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "webhook", "url": receiver.url(path), "secret": SECRET,
            **extra}


def config(channels: list[dict[str, Any]], routes: list[dict[str, Any]],
           **extra: Any) -> NotifyConfig:
    return NotifyConfig.model_validate({"channels": channels, "routes": routes, **extra})
