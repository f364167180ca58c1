"""Shared plumbing of the benchmark: machine facts, RSS, registries, payloads, processes."""

from __future__ import annotations

import copy
import os
import platform
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from hazmon.simulators.registry_gen import generate_registry

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- the machine ----------------------------------------------------------------------------


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "?"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "?"


def machine() -> dict[str, str]:
    cpu = "?"
    mem_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kib = int(m.group(1)) if m else 0
    except OSError:
        pass
    mosq = "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else "mosquitto"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{mem_kib / 1024**2:.1f} GiB",
        "os": _os_release(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "mosquitto": _first_line([mosq, "-h"]),
        "influxd": _first_line(["influxd", "version"]),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _os_release() -> str:
    try:
        m = re.search(r'PRETTY_NAME="([^"]+)"', Path("/etc/os-release").read_text())
        return m.group(1) if m else "?"
    except OSError:
        return "?"


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident set size of a process, from /proc/<pid>/status (KiB); `field="VmHWM"` for
    its peak so far."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


# --- registries ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorSpec:
    tag: str
    kind: str
    hazard_source: str
    normal: float  # middle of the normal band
    noise: float  # amplitude of the noise on it
    alarm: float | None  # a value above the second (high-high) level, inside the range


@dataclass
class Enterprise:
    code: str
    region: str
    sensors: list[SensorSpec] = field(default_factory=list)

    @property
    def topic(self) -> str:
        return f"hazmon/v1/{self.region}/{self.code}/telemetry"


@dataclass
class BenchRegistry:
    data: dict[str, Any]
    load: list[Enterprise]  # publish the load
    probe: Enterprise  # gas detectors for the alarm-latency probes

    @property
    def sensors(self) -> int:
        return sum(len(e.sensors) for e in self.load) + len(self.probe.sensors)

    def write(self, path: Path) -> Path:
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        path.write_text(yaml.dump(self.data, Dumper=dumper, allow_unicode=True,
                                  sort_keys=False), encoding="utf-8")
        return path


def _all_rules(sensor: dict[str, Any]) -> None:
    """Every rule on: rate both ways (far above the noise), trend and frozen on all kinds."""
    lo, hi = sensor["range"]
    span = float(hi) - float(lo)
    sensor["rules"] = {
        "rate": {"rise_per_min": round(span, 3), "fall_per_min": round(span, 3)},
        "trend": {"enabled": True},
        "frozen": {"enabled": True},
    }


def _spec(sensor: dict[str, Any], hazard_source: str) -> SensorSpec:
    lo, hi = (float(x) for x in sensor["range"])
    lim = sensor.get("limits") or {}
    low = lim.get("low", lim.get("low_low", lo))
    high = lim.get("high", lim.get("high_high", hi))
    normal = (float(low) + float(high)) / 2
    noise = (float(high) - float(low)) * 0.01
    alarm = None
    if "high_high" in lim:
        hh = float(lim["high_high"])
        alarm = min(hh * 1.2, (hh + hi) / 2)
    return SensorSpec(sensor["tag"], sensor["kind"], hazard_source, normal, noise, alarm)


def build_registry(load_enterprises: int, copies: int, probes: int,
                   seed: int = 7) -> BenchRegistry:
    """`load_enterprises` plants with their generated sensors repeated `copies` times (so a
    few publishers cover thousands of series), plus one probe plant holding at least
    `probes` gas detectors. Real (not simulated) plants, every rule on."""
    gen = generate_registry(load_enterprises + 1, seed=seed)
    data = copy.deepcopy(gen.data)
    load: list[Enterprise] = []
    probe: Enterprise | None = None
    for i, ent in enumerate(data["enterprises"]):
        ent["simulated"] = False
        is_probe = i == load_enterprises
        gas_total = sum(1 for hs in ent["hazard_sources"] for s in hs["sensors"] if "gas" in s)
        n = copies if not is_probe else max(1, -(-probes // max(1, gas_total)) + 1)
        e = Enterprise(ent["code"], ent["region"])
        for hs in ent["hazard_sources"]:
            base = [s for s in hs["sensors"] if not is_probe or "gas" in s]
            out = []
            for k in range(n):
                for s in base:
                    c = copy.deepcopy(s)
                    if k:
                        c["tag"] = f"{s['tag']}-{k:03d}"
                    _all_rules(c)
                    out.append(c)
            hs["sensors"] = out
            hs["voting"] = []
            e.sensors.extend(_spec(s, hs["code"]) for s in out)
        if is_probe:
            probe = e
        else:
            load.append(e)
    assert probe is not None
    return BenchRegistry(data, load, probe)


# --- payloads --------------------------------------------------------------------------------


def payloads(ent: Enterprise, batch: int, messages: int, t0_ms: int, step_ms: int,
             seed: int = 1, seq0: int = 1) -> list[bytes]:
    """`messages` telemetry batches of `batch` readings each, round-robin over the plant's
    sensors; a sensor's n-th reading is at t0 + n·step (unique per series: nothing is
    overwritten, so the stored count must equal the published count)."""
    rng = random.Random(seed)
    sensors = ent.sensors
    n = len(sensors)
    noise = [rng.uniform(-1.0, 1.0) for _ in range(997)]
    out: list[bytes] = []
    k = 0
    for i in range(messages):
        readings = []
        for _ in range(batch):
            s = sensors[k % n]
            readings.append({"tag": s.tag, "ts": t0_ms + (k // n) * step_ms,
                             "value": round(s.normal + s.noise * noise[k % 997], 4)})
            k += 1
        out.append(orjson.dumps({"seq": seq0 + i, "readings": readings}))
    return out


def rounds(ent: Enterprise, batch: int, messages: int) -> int:
    return -(-batch * messages // len(ent.sensors))


# --- processes -------------------------------------------------------------------------------


def stop(proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def env() -> dict[str, str]:
    """Environment of hazmon subprocesses; BENCH_HAZMON_SRC runs another checkout of hazmon
    (before/after comparisons of a fix)."""
    src = os.environ.get("BENCH_HAZMON_SRC")
    if not src:
        return {**os.environ, "PYTHONPATH": str(ROOT)}
    # `python -m` puts the working directory (this checkout, the benchmark's own) first
    # on sys.path, ahead of PYTHONPATH: without PYTHONSAFEPATH the "other" hazmon was this
    # one, and an A/B compared a checkout with itself.
    return {**os.environ, "PYTHONPATH": f"{src}:{ROOT}", "PYTHONSAFEPATH": "1"}
