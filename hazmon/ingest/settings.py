"""Settings of the ingest part: the MQTT session, the InfluxDB writer, the spool, decoding.

Sections of `hazmon.service.settings.Settings` (`mqtt`, `influx`, `spool`, `ingest`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from hazmon.core.section import Section


class MqttTlsSettings(Section):
    """TLS to the broker (deploy/mosquitto-tls.conf): the broker's certificate is verified
    against `ca_file` (None: the system's trusted CAs) and its host name."""

    ca_file: Path | None = None
    cert_file: Path | None = None  # a client certificate, when the broker requires one
    key_file: Path | None = None
    insecure: bool = False  # skip the host name check only (a test broker by IP)


class MqttSettings(Section):
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


class InfluxSettings(Section):
    # https://… for HTTPS ([http] https-enabled in influxdb.conf): the server's certificate
    # is verified against `ca_file` (None: the system's trusted CAs) and the URL's host
    url: str = "http://127.0.0.1:8086"
    ca_file: Path | None = None
    verify: bool = True  # False: encrypted but not verified, for a first test only (warned)
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

    @property
    def https(self) -> bool:
        return self.url.lower().startswith("https://")

    @model_validator(mode="after")
    def _tls_needs_https(self) -> Self:
        if not self.https and (self.ca_file is not None or not self.verify):
            raise ValueError("influx.ca_file and influx.verify apply to an https:// url only")
        return self


class SpoolSettings(Section):
    dir: Path | None = None  # default: <data_dir>/spool
    max_bytes: int = Field(default=2 * 1024**3, ge=1024)


class IngestSettings(Section):
    future_tolerance_s: float = Field(default=300.0, ge=0)
    max_payload_bytes: int = Field(default=256 * 1024, ge=1024)
    max_readings: int = Field(default=1000, ge=1)
    rejects_kept: int = Field(default=1000, ge=1)
    rejects_file_bytes: int = Field(default=16 * 1024**2, ge=1024)
    # A sequence gap still open after this long is a "数据缺失" alarm; shorter gaps are
    # taken as reordering (the batch came a moment later).
    gap_grace_s: float = Field(default=300.0, gt=0)
