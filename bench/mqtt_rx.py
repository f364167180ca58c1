"""CPU per message of hazmon's MQTT receive path alone, against a real Mosquitto.

`MqttSource` (connect, subscribe, receive, manual QoS 1 acks) with a handler that only
keeps each message's ack; a writer stand-in runs the kept acks every `--ack-every` s, as
the InfluxDB sink does after a write. No decode, rules or InfluxDB: what is measured is
paho, aiomqtt (or what replaces them) and asyncio per message.

The messages (1-reading payloads of the benchmark registry) are published by
`mosquitto_pub -l`: by default first, into the persistent session of the source's client
id while it is away, so that the source then drains a backlog as fast as it can (the
saturated case of `bench.e2e`, without a publisher competing for the CPUs meanwhile);
with `--live`, while the source is connected. The broker sends at most `receive_maximum`
unacknowledged. CPU is this process's `time.process_time()` from the first message to the
N-th message's ack.

    .venv/bin/python -m bench.mqtt_rx [--messages 100000] [--protocol 5] [--repeat 3]

Run it with PYTHONPATH set to another checkout to compare two versions of the source.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import build_registry, now_ms, payloads
from hazmon.core.metrics import Metrics
from hazmon.ingest.mqtt_source import Ack, MqttSource
from hazmon.ingest.settings import MqttSettings
from hazmon.testing.mosquitto import Mosquitto

TOPIC_FILTER = "hazmon/v1/+/+/telemetry"


class Drain:
    """The handler: counts messages, keeps their acks for the writer stand-in."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.got = 0
        self.acked = 0
        self.acks: list[Ack] = []
        self.first_cpu = 0.0
        self.first_wall = 0.0
        self.done = asyncio.Event()

    async def handle(self, topic: str, payload: bytes, ack: Ack) -> None:
        if self.got == 0:
            self.first_cpu, self.first_wall = time.process_time(), time.monotonic()
        self.got += 1
        self.acks.append(ack)

    async def writer(self, every_s: float) -> None:
        while not self.done.is_set():
            await asyncio.sleep(every_s)
            acks, self.acks = self.acks, []
            for ack in acks:
                ack()
            self.acked += len(acks)
            if self.acked >= self.total:
                self.done.set()


async def publish(port: int, topic: str, path: Path) -> asyncio.subprocess.Process:
    with path.open("rb") as f:
        return await asyncio.create_subprocess_exec(
            "mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
            "-M", "1000", "-i", "bench-rx-pub", "-t", topic, "-l", stdin=f)


async def publish_all(port: int, topic: str, path: Path) -> None:
    await (await publish(port, topic, path)).wait()


async def session(settings: MqttSettings, drain: Drain | None, ack_every: float,
                  topic: str, path: Path | None) -> None:
    """Connect, subscribe, publish from `path` (if given) and drain; without a drain,
    leave once subscribed (the broker then queues for this client id while it is away)."""
    async def ack_now(topic: str, payload: bytes, ack: Ack) -> None:
        ack()

    source = MqttSource(settings, drain.handle if drain else ack_now,
                        lambda: [TOPIC_FILTER], Metrics())
    task = asyncio.create_task(source.run())
    try:
        await asyncio.wait_for(source.ready.wait(), 30)
        pub = await publish(settings.port, topic, path) if path is not None else None
        if drain is not None:
            await asyncio.wait_for(drain.writer(ack_every), 600)
            await asyncio.sleep(0.2)  # the last acks written before the disconnect
        if pub is not None:
            await pub.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def one_run(port: int, protocol: str, messages: int, ack_every: float, live: bool,
            work: Path, tag: str) -> dict[str, float]:
    reg = build_registry(1, 30, 10)
    ent = reg.load[0]
    lines = payloads(ent, 1, messages, now_ms() - 3_600_000, 1000)
    settings = MqttSettings(port=port, protocol=protocol,  # type: ignore[arg-type]
                            client_id=f"bench-rx-{tag}")
    path = work / "payloads.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    drain = Drain(messages)
    if live:
        asyncio.run(session(settings, drain, ack_every, ent.topic, path))
    else:
        asyncio.run(session(settings, None, ack_every, ent.topic, None))
        asyncio.run(publish_all(port, ent.topic, path))
        asyncio.run(session(settings, drain, ack_every, ent.topic, None))
    cpu = time.process_time() - drain.first_cpu
    wall = time.monotonic() - drain.first_wall
    return {"messages": drain.got, "cpu_us_per_message": cpu / messages * 1e6,
            "msg_per_s": messages / wall}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--protocol", choices=["3.1.1", "5"], default="5")
    p.add_argument("--ack-every", type=float, default=0.05)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--live", action="store_true", help="publish while connected")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hazmon-rx-"))
    with Mosquitto(work / "mosquitto") as broker:
        for i in range(args.repeat):
            r = one_run(broker.port, args.protocol, args.messages, args.ack_every, args.live,
                        work,
                        f"{args.protocol}-{i}")
            print(f"MQTT {args.protocol}{' live' if args.live else ''}: "
                  f"{r['messages']:,} messages, "
                  f"{r['cpu_us_per_message']:5.1f} µs CPU/message, "
                  f"{r['msg_per_s']:9,.0f} msg/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
