"""bench.mqtt_rx (the MQTT receive path alone) runs at a tiny size, queued and live, and
takes every message it published. No timing assertions: figures belong to the docs."""

from __future__ import annotations

import re
import shutil

import pytest

from bench.mqtt_rx import main
from tests.real_parts import missing

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None,
                    reason=missing("mosquitto-clients (mosquitto_pub)",
                                   "apt-get install mosquitto-clients"))
@pytest.mark.parametrize("args", [[], ["--live"], ["--protocol", "3.1.1"]])
def test_receive_benchmark_takes_every_message(args: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--messages", "500", "--repeat", "1", *args]) == 0
    out = capsys.readouterr().out
    assert re.search(r": 500 messages, +[\d.]+ µs CPU/message", out), out
