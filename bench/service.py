"""hazmon as a subprocess (its own CPU and RSS), driven through its settings file and HTTP."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.common import PYTHON, env, rss_kib, stop
from hazmon.testing.process import free_port


class ServiceProc:
    def __init__(self, workdir: Path, registry: Path, mqtt_port: int, influx_url: str,
                 name: str, **influx: Any) -> None:
        self.workdir = workdir
        self.name = name
        self.database = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.http_port = free_port()
        self.ops_port = free_port()  # /health in detail without a token, loopback only
        self.config = workdir / "hazmon.yaml"
        self.config.write_text(yaml.safe_dump({
            "registry": str(registry),
            "data_dir": str(workdir / "data"),
            "registry_poll_s": 0,
            "log_level": "WARNING",
            "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": f"hazmon-{name}"},
            "influx": {"url": influx_url, "database": name, "retry_min_s": 0.2,
                       "retry_max_s": 2.0, **influx},
            "http": {"host": "127.0.0.1", "port": self.http_port, "ops_port": self.ops_port},
        }))
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ops_url = f"http://127.0.0.1:{self.ops_port}"  # /health, /metrics
        self._http = httpx.Client(base_url=self.ops_url, timeout=10.0)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 300.0) -> ServiceProc:
        log = (self.workdir / "hazmon.log").open("ab")
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "hazmon.service.cli", "run", "--config", str(self.config)],
            stdout=log, stderr=subprocess.STDOUT, env=env(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hazmon exited ({self.proc.returncode}); see "
                                   f"{self.workdir / 'hazmon.log'}")
            try:
                h = self.health()
                if h["broker"]["state"] == "up" and h["broker"]["subscriptions"]:
                    return self
            except (httpx.HTTPError, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"hazmon not ready within {timeout} s")

    def health(self) -> dict[str, Any]:
        r = self._http.get("/health")
        data: dict[str, Any] = r.json()
        return data

    def counters(self) -> dict[str, int]:
        c: dict[str, int] = self.health()["counters"]
        return c

    def token(self) -> str:
        out = subprocess.run(
            [PYTHON, "-m", "hazmon.service.cli", "token", "create", "--role", "province",
             "--scope", "32", "--name", "bench", "--config", str(self.config)],
            capture_output=True, text=True, env=env(), check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=60)
        self._http.close()
