"""The one typed settings object: loaded once in the composition root, passed down.

Sources, strongest first: keyword arguments, environment (`HAZMON_` prefix, `__` between
levels: `HAZMON_INFLUX__URL`), a YAML file (`--config` or `HAZMON_CONFIG`), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from hazmon.alerts.notify import NotifyConfig


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttTlsSettings(_Section):
    """TLS to the broker (deploy/mosquitto-tls.conf): the broker's certificate is verified
    against `ca_file` (None: the system's trusted CAs) and its host name."""

    ca_file: Path | None = None
    cert_file: Path | None = None  # a client certificate, when the broker requires one
    key_file: Path | None = None
    insecure: bool = False  # skip the host name check only (a test broker by IP)


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 1883  # 8883 with `tls`
    tls: MqttTlsSettings | None = None  # None: plain TCP
    username: str | None = None
    password: SecretStr | None = None
    # A fixed client id and a persistent session: the broker keeps QoS 1 messages for us
    # while we are down. Two instances must never share one id.
    client_id: str = "hazmon-ingest"
    protocol: Literal["3.1.1", "5"] = "5"
    keepalive: int = Field(default=30, ge=5)
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    # Unacknowledged messages the broker may have in flight to us: our acks wait for the
    # InfluxDB write, so this window bounds both memory and throughput.
    receive_maximum: int = Field(default=2000, ge=1, le=65535)
    # Region prefixes this instance owns ("32" = a province, "3209" = a city); empty = all.
    regions: list[str] = Field(default_factory=list)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)


class InfluxSettings(_Section):
    url: str = "http://127.0.0.1:8086"
    database: str = "hazmon"
    retention_policy: str | None = None
    # 2.x/3.x through their v1 API: a token; 1.x: username/password when auth is on.
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    create_database: bool = True
    timeout_s: float = Field(default=10.0, gt=0)
    batch_size: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=0.2, gt=0)
    queue_batches: int = Field(default=64, ge=1)
    retry_min_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    drain_batch_lines: int = Field(default=50_000, ge=1)


class SpoolSettings(_Section):
    dir: Path | None = None  # default: <data_dir>/spool
    max_bytes: int = Field(default=2 * 1024**3, ge=1024)


class IngestSettings(_Section):
    future_tolerance_s: float = Field(default=300.0, ge=0)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024)
    max_readings: int = Field(default=1000, ge=1)
    rejects_kept: int = Field(default=1000, ge=1)
    rejects_file_bytes: int = Field(default=16 * 1024**2, ge=1024)


class AlarmSettings(_Section):
    # "sqlite:///path/alarms.db" (default: <data_dir>/alarms.db) or "postgresql://..."
    # when several instances share the alarm state.
    db_url: str | None = None
    rules_file: Path | None = None  # per-sensor rule overrides (hazmon.rules.file)
    tick_s: float = Field(default=1.0, gt=0)
    publish_to_plants: bool = True  # alarm events on hazmon/v1/{region}/{enterprise}/alarms
    # Channels (MQTT, signed webhooks, email) and routes; None: the plants' topics only.
    notify: NotifyConfig | None = None
    notify_poll_s: float = Field(default=1.0, gt=0)


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 8080


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HAZMON_", env_nested_delimiter="__", extra="forbid"
    )

    registry: Path = Path("registry.yaml")
    data_dir: Path = Path("var")
    registry_poll_s: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    alarms: AlarmSettings = Field(default_factory=AlarmSettings)

    @property
    def spool_dir(self) -> Path:
        return self.spool.dir or self.data_dir / "spool"

    @property
    def alarm_db_url(self) -> str:
        return self.alarms.db_url or f"sqlite:///{self.data_dir / 'alarms.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlFileSource(settings_cls))


class _YamlFileSource(PydanticBaseSettingsSource):
    """The YAML settings file named by HAZMON_CONFIG (the CLI sets it from --config)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("HAZMON_CONFIG")
        if not path:
            return {}
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"settings file {path} must hold a mapping")
        return data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    if config is not None:
        os.environ["HAZMON_CONFIG"] = str(config)
    return Settings(**overrides)
