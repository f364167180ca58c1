"""`hazmon run` stops with a message and exit code 2, no traceback, on what the site must fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import REGISTRY_FILE


def test_a_missing_channel_secret_stops_the_start_with_its_name(tmp_path: Path) -> None:
    config = tmp_path / "hazmon.yaml"
    config.write_text(yaml.safe_dump({
        "registry": str(REGISTRY_FILE), "data_dir": str(tmp_path / "var"),
        "http": {"port": 0},
        "alarms": {"notify": {"channels": [{
            "name": "ding", "type": "dingtalk",
            "access_token": {"env": "HAZMON_TEST_DING_TOKEN"},
            "secret": {"env": "HAZMON_TEST_DING_SECRET"},
        }], "routes": [{"match": {"kind": ["alarm"]}, "to": ["ding"]}]}},
    }), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    done = subprocess.run([sys.executable, "-m", "hazmon.service.cli", "run", "--config",
                           str(config)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "HAZMON_TEST_DING_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr
