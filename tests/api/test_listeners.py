"""The running service's HTTP listeners: the API over HTTPS (certificate and key in the
http settings) and the loopback operations listener serving /health and /metrics without a
token, while the API port keeps them behind the metrics right. Real Mosquitto, InfluxDB
and uvicorn; a throwaway CA made with openssl."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from hazmon.api.https import HttpsConfigError
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import make_settings, running
from tests.ingest.tls_support import Ca

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("https")
    ca, other = Ca.make(d, "ca"), Ca.make(d, "other")
    crt, key = ca.issue("hazmon-api", ip="127.0.0.1")
    return {"ca": ca.cert, "other": other.cert, "crt": crt, "key": key}


async def test_https_api_and_the_loopback_operations_listener(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str,
        certs: dict[str, Path]) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    settings = settings.model_copy(update={"http": settings.http.model_copy(update={
        "certificate_file": certs["crt"], "key_file": certs["key"], "ops_port": 0})})
    async with running(settings) as svc:
        assert svc.http_port is not None
        assert svc.ops_port is not None
        assert svc.ops_port != svc.http_port
        base = f"https://127.0.0.1:{svc.http_port}"
        token, _ = await svc.tokens.create("province", "32", "monitor", svc.clock())
        city, _ = await svc.tokens.create("city", "3209", "city", svc.clock())
        trusted = ssl.create_default_context(cafile=str(certs["ca"]))
        async with httpx.AsyncClient(base_url=base, verify=trusted) as https:
            r = await https.get("/health")
            assert r.status_code == 200
            assert r.json() == {"status": "ok"}  # no token: up or degraded only
            r = await https.get("/health", headers={"Authorization": f"Bearer {token}"})
            assert r.json()["broker"]["state"] == "up"
            assert (await https.get("/metrics")).status_code == 401
            r = await https.get("/metrics", headers={"Authorization": f"Bearer {city}"})
            assert r.status_code == 403
            r = await https.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200
            assert "hazmon_mqtt_connected 1" in r.text
            assert (await https.get("/api/v1/me", headers={
                "Authorization": f"Bearer {token}"})).json()["role"] == "province"
        # a client trusting another CA refuses the server; plain HTTP gets no answer
        untrusted = ssl.create_default_context(cafile=str(certs["other"]))
        async with httpx.AsyncClient(base_url=base, verify=untrusted) as wrong:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await wrong.get("/health")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}") as plain:
            try:
                answered = (await plain.get("/health")).status_code == 200
            except httpx.HTTPError:
                answered = False
            assert not answered
        # the operations listener: plain HTTP on loopback, the detail and metrics for all
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.ops_port}") as ops:
            r = await ops.get("/health")
            assert r.json()["broker"]["state"] == "up"
            r = await ops.get("/metrics")
            assert r.status_code == 200
            assert "hazmon_mqtt_connected 1" in r.text
            assert (await ops.get("/api/v1/alarms")).status_code == 404


async def test_an_unloadable_certificate_stops_the_start_with_its_files(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str,
        certs: dict[str, Path]) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    settings = settings.model_copy(update={"http": settings.http.model_copy(update={
        "certificate_file": certs["crt"], "key_file": certs["ca"]})})  # not its key
    with pytest.raises(HttpsConfigError, match=r"HTTPS: cannot load http\.certificate_file "
                                               r".*hazmon-api\.crt with http\.key_file .*ca\.crt"):
        async with running(settings):
            pass
