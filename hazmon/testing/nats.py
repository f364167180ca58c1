"""A real three-node NATS cluster on loopback ports with JetStream and MQTT (3.1.1), in a
temp dir: a clustered broker whose MQTT sessions and queued QoS 1 messages are JetStream
streams replicated on every node, so a node can die without losing them.

    with NatsCluster(tmp_path) as cluster:
        cluster.mqtt_port(0)      # MQTT listener of node 0
        cluster.kill(0); cluster.start_node(0)
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hazmon.testing.process import (
    ServerStartError,
    find_binary,
    free_port,
    port_open,
    stop_process,
    wait_until,
)

log = logging.getLogger(__name__)

CONFIG = """\
server_name: {name}
listen: 127.0.0.1:{client}
http: 127.0.0.1:{monitor}
jetstream {{
  store_dir: "{dir}/js"
  max_memory_store: 64MB
  max_file_store: 1GB
}}
cluster {{
  name: hazmon-test
  listen: 127.0.0.1:{route}
  routes: [{routes}]
}}
mqtt {{
  listen: 127.0.0.1:{mqtt}
  # sessions and queued messages on every node: one node may die
  stream_replicas: 3
  consumer_replicas: 3
  max_ack_pending: 2000
}}
"""


def nats_binary() -> str | None:
    return find_binary("nats-server")


@dataclass
class _Node:
    name: str
    client: int = field(default_factory=free_port)
    route: int = field(default_factory=free_port)
    mqtt: int = field(default_factory=free_port)
    monitor: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None


@dataclass
class NatsCluster:
    base_dir: Path
    size: int = 3
    nodes: list[_Node] = field(default_factory=list)
    workdir: Path | None = None

    def start(self, timeout: float = 60.0) -> NatsCluster:
        binary = nats_binary()
        if binary is None:
            raise ServerStartError("no nats-server binary (apt-get install nats-server)")
        self.workdir = Path(tempfile.mkdtemp(prefix="hazmon-nats-", dir=self.base_dir))
        self.nodes = [_Node(f"n{i}") for i in range(self.size)]
        for i, node in enumerate(self.nodes):
            d = self.workdir / node.name
            d.mkdir()
            routes = ", ".join(f"nats-route://127.0.0.1:{o.route}"
                               for j, o in enumerate(self.nodes) if j != i)
            (d / "nats.conf").write_text(CONFIG.format(
                name=node.name, client=node.client, monitor=node.monitor, dir=d,
                route=node.route, routes=routes, mqtt=node.mqtt))
        for i in range(self.size):
            self._spawn(i)
        deadline = time.monotonic() + timeout
        for i in range(self.size):
            self._wait(i, max(1.0, deadline - time.monotonic()))
        return self

    def _spawn(self, i: int) -> None:
        assert self.workdir is not None
        node = self.nodes[i]
        d = self.workdir / node.name
        with (d / "nats.log").open("ab") as out:
            binary = nats_binary()
            assert binary is not None
            node.proc = subprocess.Popen([binary, "-c", str(d / "nats.conf")],
                                         stdout=out, stderr=subprocess.STDOUT)

    def _wait(self, i: int, timeout: float) -> None:
        assert self.workdir is not None
        node = self.nodes[i]
        assert node.proc is not None
        logfile = self.workdir / node.name / "nats.log"
        wait_until(lambda: port_open(node.mqtt) and self._healthy(node), timeout, node.proc,
                   logfile, f"nats-server {node.name}")

    def _healthy(self, node: _Node) -> bool:
        """JetStream up with a meta leader elected: MQTT sessions can be stored."""
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{node.monitor}/jsz", timeout=1) as r:
                body = json.loads(r.read())
        except (OSError, ValueError):
            return False
        meta = body.get("meta_cluster") or {}
        return bool(meta.get("leader")) and not body.get("disabled", False)

    def mqtt_port(self, i: int) -> int:
        return self.nodes[i].mqtt

    def kill(self, i: int) -> None:
        """SIGKILL one node (its data stays: it can be started again)."""
        proc = self.nodes[i].proc
        if proc is not None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            self.nodes[i].proc = None

    def start_node(self, i: int, timeout: float = 60.0) -> None:
        self._spawn(i)
        self._wait(i, timeout)

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                stop_process(node.proc, sig=signal.SIGTERM)
                node.proc = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
