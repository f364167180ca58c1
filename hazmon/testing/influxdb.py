"""A real InfluxDB 1.x (Debian `influxdb`) on loopback ports, data in its own directory."""

from __future__ import annotations

import os
import ssl
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hazmon.testing.process import (
    ServerStartError,
    find_binary,
    free_port,
    stop_process,
    wait_until,
)

CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{dir}/meta"
  logging-enabled = false
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
  wal-fsync-delay = "0s"
  index-version = "inmem"
  cache-max-memory-size = "1g"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = 0
  max-concurrent-write-limit = 0
{https}[logging]
  level = "warn"
[continuous_queries]
  enabled = false
"""

HTTPS = """\
  https-enabled = true
  https-certificate = "{cert}"
  https-private-key = "{key}"
"""


@dataclass(frozen=True)
class InfluxTls:
    """HTTPS only on the HTTP port: the server's certificate and key, and the CA that
    signed them (for our own readiness check)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass
class InfluxDB:
    workdir: Path
    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    tls: InfluxTls | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _ping(self) -> bool:
        ctx = ssl.create_default_context(cafile=str(self.tls.ca_file)) if self.tls else None
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5, context=ctx) as r:
                return bool(r.status == 204)
        except OSError:
            return False

    def start(self, timeout: float = 30.0) -> InfluxDB:
        binary = find_binary("influxd")
        if binary is None:
            raise ServerStartError("influxd not installed (run scripts/bootstrap.sh)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "influxdb.conf"
        https = (HTTPS.format(cert=self.tls.cert_file, key=self.tls.key_file)
                 if self.tls else "")
        conf.write_text(CONFIG.format(port=self.port, rpc_port=self.rpc_port, dir=self.workdir,
                                      https=https))
        log = self.workdir / "influxd.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [binary, "-config", str(conf)], stdout=out, stderr=out,
                env={**os.environ, "INFLUXDB_DATA_QUERY_LOG_ENABLED": "false"},
                start_new_session=True,  # outlives a terminal's Ctrl-C: hazmon stops it last
            )
        wait_until(self._ping, timeout, self.proc, log, "influxd")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=20)
            self.proc = None

    def __enter__(self) -> InfluxDB:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
