"""The soak runs at a tiny size and reports what it promises; nothing is lost.

No timing assertions: the figures belong to docs/SOAK.md, not to tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.soak import render, soak

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients missing")
def test_soak_runs_tiny(tmp_path: Path) -> None:
    r = soak(tmp_path, minutes=0.25, fraction=0.2, rate=2000, malformed_every=20,
             sample_s=3, plants=2, copies=1)

    assert r["published"] > 0
    assert r["lost"] == 0, r
    assert r["in_influx"] == r["published"]
    end = r["end"]
    assert end["stored"] == r["published"]
    # every bad message was counted as rejected, and the bad readings beside good ones too
    assert end["rejected_payloads"] == r["bad_messages"] > 0
    assert end["rejected_readings"] > 0
    assert end["alarms"] > 0, "the excursions raised no alarm"
    assert end["fds"] > 0
    assert end["rss_kib"] > 0
    assert r["start"]["t_s"] <= r["middle"]["t_s"] <= end["t_s"]
    text = render(r)
    for figure in ("RSS KiB", "open fds", "spool B", "alarm store B", "lost **0**"):
        assert figure in text, figure
