from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import pytest

from hazmon.domain.registry import load_registry
from hazmon.simulators.cli import add_simulator_commands, main, run_simulation
from hazmon.simulators.recording import read_recording
from hazmon.testing.mosquitto import Mosquitto


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hazmon")
    add_simulator_commands(p.add_subparsers(dest="command", required=True))
    return p


def test_commands_parse() -> None:
    args = parser().parse_args([
        "simulate", "--generate", "5", "--seed", "3", "--rate", "2", "--readings-per-batch",
        "50", "--duration", "600", "--speed", "max", "--scenario", "overfill@MHS-01@60",
        "--scenario", "outage@MHS-02@120@300", "--broker", "mq.local:1884",
        "--record", "feed.jsonl.gz",
    ])
    assert args.func.__name__ == "_cmd_simulate"
    assert args.broker == ("mq.local", 1884)
    assert args.speed == float("inf")
    assert args.scenario == ["overfill@MHS-01@60", "outage@MHS-02@120@300"]
    assert parser().parse_args(["replay", "f.gz", "--speed", "10"]).speed == 10
    assert parser().parse_args(["record", "f.gz"]).func.__name__ == "_cmd_record"
    with pytest.raises(SystemExit):
        parser().parse_args(["simulate", "--speed", "0"])


def test_gen_registry_writes_a_loadable_file(tmp_path: Path) -> None:
    out = tmp_path / "reg.yaml"
    assert main(["gen-registry", str(out), "-n", "4", "--seed", "2"]) == 0
    reg = load_registry(out)
    assert len(reg.enterprises) == 4


def test_simulate_rejects_a_bad_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--scenario", "overfill@MHS-99@0", "--broker", "127.0.0.1:1"]) == 2
    assert "MHS-99" in capsys.readouterr().err


@pytest.mark.integration
def test_simulate_command_with_recording(
    broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "feed.jsonl.gz"
    code = main([
        "simulate", "--generate", "2", "--duration", "20", "--speed", "max",
        "--scenario", "malformed@MHS-01@5@5", "--broker", f"{broker.host}:{broker.port}",
        "--record", str(rec), "--write-registry", str(tmp_path / "reg.yaml"),
        "--start", "2026-11-22T10:00:00+08:00",
    ])
    assert code == 0
    out = capsys.readouterr().out
    assert "malformed_payloads@MHS-01@5" in out
    recorded = list(read_recording(rec))
    assert any(b"\xff" in r.payload for r in recorded)  # the not-UTF-8 defect, byte for byte
    with gzip.open(rec) as f:
        assert f.read()  # a valid gzip stream
    assert load_registry(tmp_path / "reg.yaml").enterprises


@pytest.mark.integration
async def test_run_simulation_for_the_demo(broker: Mosquitto) -> None:
    result = await run_simulation(generate=1, seed=5, host=broker.host, port=broker.port,
                                  duration_s=10, speed=float("inf"),
                                  scenarios=["leak@MHS-01@0"], start=1795312800.0)
    assert len(result.simulated) == 1
    assert result.summary.telemetry == 10
    assert result.summary.scenarios["gas_leak@MHS-01@0"].readings > 0
