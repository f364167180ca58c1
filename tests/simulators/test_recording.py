"""Record -> replay against a real Mosquitto keeps the messages, their order and timing."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from hazmon.simulators.plant import build_plants
from hazmon.simulators.publisher import Publisher, PublisherConfig
from hazmon.simulators.recording import Recorded, Recorder, read_recording, replay
from hazmon.simulators.registry_gen import GeneratedRegistry
from hazmon.testing.mosquitto import Mosquitto

T0 = 1795312800.0


def write(path: Path, records: list[Recorded]) -> None:
    with gzip.open(path, "wb") as f:
        for r in records:
            f.write(r.to_json() + b"\n")


def test_file_round_trip_keeps_bytes(tmp_path: Path) -> None:
    recs = [
        Recorded(100.0, "hazmon/v1/320921/X/telemetry", b'{"seq":1}', 1, False),
        Recorded(100.5, "hazmon/v1/320921/X/telemetry", b"\xff\xfe not utf-8", 1, False),
        Recorded(101.0, "hazmon/v1/320921/X/status", b'{"state":"online"}', 1, True),
    ]
    path = tmp_path / "r.jsonl.gz"
    write(path, recs)
    assert list(read_recording(path)) == recs
    # A recorder killed mid-write leaves a truncated stream: the rest is still readable.
    data = path.read_bytes()
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) - 12])
    assert len(list(read_recording(tmp_path / "cut.jsonl.gz"))) <= len(recs)


async def record_while(broker: Mosquitto, path: Path, work: object) -> list[Recorded]:
    rec = Recorder(broker.host, broker.port, path)
    task = asyncio.create_task(rec.run())
    await asyncio.wait_for(rec.ready.wait(), 5)
    assert callable(work)
    await work()
    await asyncio.sleep(0.3)  # the last QoS 1 deliveries
    rec.stop()
    await asyncio.wait_for(task, 5)
    return [r for r in read_recording(path) if not r.retain]


def offsets(recs: list[Recorded]) -> list[float]:
    return [r.t - recs[0].t for r in recs]


@pytest.mark.integration
async def test_record_then_replay_reproduces_the_feed(
    broker: Mosquitto, registry: GeneratedRegistry, tmp_path: Path
) -> None:
    plants = build_plants(registry.data, seed=3)[:2]
    cfg = PublisherConfig(broker.host, broker.port, rate=1, duration_s=20, speed=10, start=T0)

    async def publish() -> None:
        await Publisher(plants, cfg).run()

    first = await record_while(broker, tmp_path / "a.jsonl.gz", publish)
    assert len(first) == 2 * (20 + 2)
    span = first[-1].t - first[0].t
    assert 1.5 < span < 3.5

    speed = 10.0

    async def play() -> None:
        summary = await replay(tmp_path / "a.jsonl.gz", broker.host, broker.port, speed=speed)
        assert summary.messages == len(first)

    second = await record_while(broker, tmp_path / "b.jsonl.gz", play)
    assert [(r.topic, r.payload) for r in second] == [(r.topic, r.payload) for r in first]
    for a, b in zip(offsets(first), offsets(second), strict=True):
        assert b == pytest.approx(a / speed, abs=0.03)


@pytest.mark.integration
async def test_replay_timing_at_high_speed(broker: Mosquitto, tmp_path: Path) -> None:
    """A 40-second recording with uneven gaps, replayed 80x faster."""
    gaps = [0, 0.5, 3, 3.1, 10, 10.05, 25, 40]
    topic = "hazmon/v1/320921/91320921MA4JURQ206/telemetry"
    write(tmp_path / "src.jsonl.gz", [
        Recorded(1000.0 + g, topic, f'{{"seq":{i}}}'.encode(), 1, False)
        for i, g in enumerate(gaps)
    ])

    async def play() -> None:
        await replay(tmp_path / "src.jsonl.gz", broker.host, broker.port, speed=80)

    got = await record_while(broker, tmp_path / "out.jsonl.gz", play)
    assert [r.payload for r in got] == [f'{{"seq":{i}}}'.encode() for i in range(len(gaps))]
    # Load on the machine can only delay a message, never bring it forward: each one is
    # at least at its scaled time, and the whole replay far shorter than unscaled.
    offs = offsets(got)
    assert offs == sorted(offs)
    for g, off in zip(gaps, offs, strict=True):
        assert off >= g / 80 - 0.005
    assert offs[-1] < gaps[-1] / 80 * 8  # 4 s, where 40 s would mean speed ignored


@pytest.mark.integration
async def test_replay_as_fast_as_possible(broker: Mosquitto, tmp_path: Path) -> None:
    topic = "hazmon/v1/320921/91320921MA4JURQ206/status"
    write(tmp_path / "s.jsonl.gz", [
        Recorded(0.0, topic, b'{"state":"online"}', 1, False),
        Recorded(3600.0, topic, b'{"state":"offline"}', 1, False),
    ])
    summary = await asyncio.wait_for(
        replay(tmp_path / "s.jsonl.gz", broker.host, broker.port, speed=float("inf")), 5
    )
    assert summary.messages == 2
    assert summary.recorded_s == 3600.0
    assert summary.wall_s < 60  # the recording spans an hour: not paced
