"""The benchmark runs at a tiny size and produces every figure; nothing is lost.

No timing assertions: the figures themselves belong to docs/PERFORMANCE.md, not to tests.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from bench.run import main
from tests.real_parts import missing

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None,
                    reason=missing("mosquitto-clients (mosquitto_pub)",
                                   "apt-get install mosquitto-clients"))
def test_benchmark_runs_tiny(tmp_path: Path) -> None:
    out, raw = tmp_path / "PERFORMANCE.md", tmp_path / "results.json"
    assert main(["--preset", "tiny", "--out", str(out), "--json", str(raw),
                 "--workdir", str(tmp_path / "work")]) == 0
    res = json.loads(raw.read_text())

    assert res["raw_broker"]["ok"]
    assert res["raw_broker"]["rate"] > 0
    assert [r["writers"] for r in res["raw_influx"]] == [1, 2]
    assert all(r["rate"] > 0 and not r["errors"] for r in res["raw_influx"])
    assert [r["batch"] for r in res["e2e"]] == [1, 10, 100]
    for r in res["e2e"]:
        assert r["rate"] > 0
        assert r["lost"] == 0, r
        assert r["in_influx"] == r["readings"], r
    lat = res["latency"]
    assert lat["probes"] > 0
    assert lat["missing"] == 0
    assert math.isfinite(lat["p50_ms"])
    assert math.isfinite(lat["p99_ms"])
    assert len(res["memory"]) == 2
    for m in res["memory"]:
        assert m["sensors"] > 0
        assert m["windows_full"] == m["windows"] > 0
    c = res["catchup"]
    assert c["spool_peak"] > 0, "the outage spooled nothing"
    assert c["drain_rate"] > 0
    assert c["lost"] == 0, c
    assert c["in_influx"] == c["published"], c

    text = out.read_text()
    for figure in ("Raw broker", "Raw InfluxDB", "batch 1 ", "batch 10 ", "batch 100 ",
                   "latency p50", "latency p99", "RSS per sensor", "Catch-up", "## Machine"):
        assert figure in text, figure
