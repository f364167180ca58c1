"""Settings: defaults, the YAML file, HAZMON_ environment overrides, strictness."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.service.settings import Settings, load_settings

EXAMPLE = Path(__file__).parents[2] / "deploy" / "hazmon.example.yaml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No HAZMON_ variable from outside; HAZMON_CONFIG restored (load_settings sets it)."""
    for name in list(os.environ):
        if name.startswith("HAZMON_"):
            monkeypatch.delenv(name)
    # setenv records the absence, so teardown removes what load_settings(config=) sets
    monkeypatch.setenv("HAZMON_CONFIG", "")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hazmon.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings()
    assert s.registry == Path("registry.yaml")
    assert s.data_dir == Path("var")
    assert s.spool_dir == Path("var/spool")
    assert s.registry_poll_s == 5.0
    assert s.log_level == "INFO"
    assert (s.mqtt.host, s.mqtt.port, s.mqtt.client_id, s.mqtt.protocol) == (
        "127.0.0.1", 1883, "hazmon-ingest", "5")
    assert s.mqtt.regions == []
    assert s.mqtt.password is None
    assert s.influx.url == "http://127.0.0.1:8086"
    assert s.influx.database == "hazmon"
    assert s.influx.batch_size == 5000
    assert s.influx.flush_interval_s == 0.2
    assert s.influx.token is None
    assert s.spool.dir is None
    assert s.spool.max_bytes == 2 * 1024**3
    assert s.ingest.max_payload_bytes == 256 * 1024  # docs/CONTRACT.md §3.2
    assert s.ingest.max_readings == 1000
    assert s.ingest.future_tolerance_s == 300.0
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8080)


def test_yaml_file(tmp_path: Path) -> None:
    path = write(tmp_path, """\
registry: /etc/hazmon/registry.yaml
data_dir: /srv/hazmon
influx:
  url: http://influx:8086
  database: plants
  token: s3cret
mqtt:
  regions: ["32", "3209"]
  protocol: "3.1.1"
spool:
  dir: /fast/spool
""")
    s = load_settings(config=path)
    assert os.environ["HAZMON_CONFIG"] == str(path)
    assert s.registry == Path("/etc/hazmon/registry.yaml")
    assert s.data_dir == Path("/srv/hazmon")
    assert s.spool_dir == Path("/fast/spool")
    assert s.influx.url == "http://influx:8086"
    assert s.influx.database == "plants"
    assert s.influx.token is not None
    assert s.influx.token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.influx.batch_size == 5000  # untouched keys keep their defaults
    assert s.mqtt.regions == ["32", "3209"]
    assert s.mqtt.protocol == "3.1.1"


def test_hazmon_config_in_the_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAZMON_CONFIG", str(write(tmp_path, "log_level: DEBUG\n")))
    assert load_settings().log_level == "DEBUG"


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(config=write(tmp_path, "# nothing\n")) == Settings()


def test_the_deployment_example_loads() -> None:
    s = load_settings(config=EXAMPLE)
    assert s.mqtt.client_id == "hazmon-ingest-1"
    assert s.spool_dir == Path("/var/lib/hazmon/spool")


def test_env_overrides_file_with_prefix_and_nesting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, """\
log_level: INFO
influx:
  url: http://file:8086
  database: filedb
mqtt:
  regions: ["32"]
""")
    monkeypatch.setenv("HAZMON_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("HAZMON_INFLUX__URL", "http://env:8086")
    monkeypatch.setenv("HAZMON_INFLUX__TOKEN", "from-env")
    monkeypatch.setenv("HAZMON_MQTT__PORT", "8883")
    monkeypatch.setenv("HAZMON_MQTT__REGIONS", '["3209", "11"]')
    s = load_settings(config=path)
    assert s.log_level == "WARNING"
    assert s.influx.url == "http://env:8086"
    assert s.influx.database == "filedb"  # the rest of the section still from the file
    assert s.influx.token is not None
    assert s.influx.token.get_secret_value() == "from-env"
    assert s.mqtt.port == 8883
    assert s.mqtt.regions == ["3209", "11"]


def test_env_without_the_prefix_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("INFLUX__URL", "http://nope:1")
    s = load_settings()
    assert s.log_level == "INFO"
    assert s.influx.url == "http://127.0.0.1:8086"


def test_keyword_overrides_beat_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "log_level: INFO\ndata_dir: /from/file\n")
    monkeypatch.setenv("HAZMON_LOG_LEVEL", "WARNING")
    s = load_settings(config=path, log_level="ERROR")
    assert s.log_level == "ERROR"
    assert s.data_dir == Path("/from/file")


def test_unknown_key_in_the_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="infux"):
        load_settings(config=write(tmp_path, "infux:\n  url: http://x\n"))


def test_unknown_nested_key_in_the_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"influx\.bacth_size"):
        load_settings(config=write(tmp_path, "influx:\n  bacth_size: 10\n"))


def test_unknown_nested_key_in_the_env_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAZMON_INFLUX__BACTH_SIZE", "10")
    with pytest.raises(ValidationError, match=r"influx\.bacth_size"):
        load_settings()


@pytest.mark.parametrize(
    "text",
    [
        "influx:\n  batch_size: 0\n",
        "influx:\n  flush_interval_s: 0\n",
        "mqtt:\n  protocol: '4'\n",
        "mqtt:\n  port: many\n",
        "mqtt:\n  receive_maximum: 70000\n",
        "spool:\n  max_bytes: 10\n",
        "ingest:\n  future_tolerance_s: -1\n",
    ],
)
def test_invalid_values_in_the_file_fail(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValidationError):
        load_settings(config=write(tmp_path, text))


def test_file_that_is_not_a_mapping_fails(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must hold a mapping"):
        load_settings(config=write(tmp_path, "- a\n- b\n"))
