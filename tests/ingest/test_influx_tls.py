"""hazmon to a real InfluxDB 1.x over HTTPS ([http] https-enabled), with a throwaway CA:
writes and queries go through when the CA is right; a wrong CA is refused with a clear
error, the readings wait in the spool and the writer retries with backoff; started again
with the right CA, everything spooled is stored. Nothing is lost."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.ingest.influx import InfluxClient, InfluxTlsError, InfluxUnavailable
from hazmon.ingest.settings import InfluxSettings
from hazmon.testing.influxdb import InfluxDB, InfluxTls
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import BASE_MS, batch, make_settings, publish_all, running, wait_for
from tests.ingest.tls_support import Ca
from tests.support import ENT

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("influx-tls")
    ca, other = Ca.make(d, "ca"), Ca.make(d, "other")
    crt, key = ca.issue("influxdb", ip="127.0.0.1")
    return {"ca": ca.cert, "other": other.cert, "crt": crt, "key": key}


@pytest.fixture(scope="module")
def influx_tls(tmp_path_factory: pytest.TempPathFactory, certs: dict[str, Path]
               ) -> Iterator[InfluxDB]:
    with InfluxDB(tmp_path_factory.mktemp("influxd-tls"),
                  tls=InfluxTls(certs["ca"], certs["crt"], certs["key"])) as influx:
        yield influx


def _settings(influx: InfluxDB, db: str, **kw: object) -> InfluxSettings:
    return InfluxSettings.model_validate({"url": influx.url, "database": db, **kw})


async def test_writes_and_queries_over_https_with_the_ca(influx_tls: InfluxDB,
                                                         certs: dict[str, Path],
                                                         unique: str) -> None:
    assert influx_tls.url.startswith("https://")
    client = InfluxClient(_settings(influx_tls, unique, ca_file=certs["ca"]))
    try:
        assert await client.ping()
        await client.ensure_database()
        await client.write(f"t,tag=a value=1 {BASE_MS}\n".encode())
        body = await client.query('SELECT count(value) FROM "t"')
        assert body["results"][0]["series"][0]["values"][0][1] == 1
    finally:
        await client.aclose()


async def test_a_wrong_ca_is_refused_with_a_clear_error(influx_tls: InfluxDB,
                                                        certs: dict[str, Path],
                                                        unique: str) -> None:
    client = InfluxClient(_settings(influx_tls, unique, ca_file=certs["other"]))
    try:
        assert not await client.ping()
        with pytest.raises(InfluxUnavailable, match=r"TLS: InfluxDB's certificate at "
                                                    r"https://127\.0\.0\.1:\d+ is not trusted "
                                                    r"by influx\.ca_file .*other\.crt"):
            await client.write(f"t value=1 {BASE_MS}\n".encode())
    finally:
        await client.aclose()


async def test_unverified_https_works_but_is_warned(influx_tls: InfluxDB, unique: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="hazmon.ingest.influx"):
        client = InfluxClient(_settings(influx_tls, unique, verify=False))
    try:
        assert await client.ping()
        assert caplog.text.count("influx.verify is false") == 1  # once, for both clients
        await client.ensure_database()
        await client.write(f"t,tag=a value=1 {BASE_MS}\n".encode())  # the writes' own client
    finally:
        await client.aclose()


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InfluxTlsError, match=r"influx\.ca_file .*missing\.crt"):
        InfluxClient(InfluxSettings(url="https://127.0.0.1:1", ca_file=tmp_path / "missing.crt"))
    for bad in ({"ca_file": "ca.crt"}, {"verify": False}):
        with pytest.raises(ValidationError, match="https:// url only"):
            InfluxSettings.model_validate({"url": "http://127.0.0.1:8086", **bad})


def _payloads(n: int) -> list[bytes]:
    return [batch([{"tag": TAGS[k % 3], "value": float(k), "ts": BASE_MS + k * 1000}
                   for k in range(b * 10, b * 10 + 10)], seq=b + 1) for b in range(n)]


async def test_the_service_spools_on_a_wrong_ca_and_loses_nothing(
        tmp_path: Path, mosquitto: Mosquitto, influx_tls: InfluxDB, certs: dict[str, Path],
        unique: str) -> None:
    payloads = _payloads(20)
    wrong = make_settings(tmp_path, mosquitto.port, influx_tls.url, unique,
                          influx={"ca_file": certs["other"]})
    async with running(wrong) as svc:
        await publish_all(mosquitto.port, "320921", ENT, payloads)
        await wait_for(lambda: svc.sink.spooled.total() >= 200, what="all spooled")
        # the writer keeps trying, with backoff (settings: 0.1 s doubling to 1 s)
        await wait_for(lambda: svc.sink.write_errors.total() >= 3, what="retries")
        influxdb = svc.health()["influxdb"]
        assert influxdb["state"] == "down"
        assert "is not trusted by influx.ca_file" in influxdb["last_error"]
        assert svc.sink.stored.total() == 0
    right = make_settings(tmp_path, mosquitto.port, influx_tls.url, unique,
                          influx={"ca_file": certs["ca"]})
    async with running(right) as svc:
        await wait_for(lambda: svc.spool.empty and svc.sink.stored.total() >= 200,
                       what="spool drained", timeout=30)
        assert svc.health()["influxdb"]["state"] == "up"
    client = InfluxClient(_settings(influx_tls, unique, ca_file=certs["ca"]))
    try:
        body = await client.query('SELECT count(value) FROM "telemetry"')
        assert body["results"][0]["series"][0]["values"][0][1] == 200
    finally:
        await client.aclose()
