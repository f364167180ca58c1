"""The README's run command: a newcomer sees alarms within a minute."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from datetime import time as wall_time
from pathlib import Path

import httpx
import pytest

from hazmon.duties.config import DutiesConfig, parse_duties_config
from hazmon.service.app import Service
from hazmon.service.demo import demo_duties, run_demo

pytestmark = pytest.mark.integration


async def test_demo_raises_alarms_within_a_minute(tmp_path: Path) -> None:
    stop = asyncio.Event()
    holder: list[Service] = []
    demo = asyncio.create_task(run_demo(tmp_path / "demo", enterprises=4, http_port=0,
                                        stop=stop, started=holder.append))
    try:
        t0 = time.monotonic()
        while not holder:
            assert not demo.done(), demo.exception()
            await asyncio.sleep(0.1)
        svc = holder[0]
        assert svc.alarm_store is not None
        alarms = []
        while time.monotonic() - t0 < 60 and not alarms:
            alarms = (await svc.alarm_store.query(limit=10)).items
            await asyncio.sleep(0.5)
        assert alarms, "no alarm within a minute of starting the demo"
        assert all(a.simulated for a in alarms)
        # the simulated plants file their commitments through the API (two prompt of 4)
        filed = []
        while time.monotonic() - t0 < 90 and len(filed) < 2:
            filed = await svc.duties.store.commitments_of_day(svc.duties.today())
            await asyncio.sleep(0.5)
        assert len(filed) >= 2, "no commitment filed by the simulated plants"
        assert {c.commitment.filed_by for c in filed} == {"simulator:demo plants"}
        token, _ = await svc.tokens.create("province", "32", "test", svc.clock())
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}") as http:
            page = await http.get("/")
            # the detail needs the metrics right; without a token only up/degraded
            health = (await http.get("/health",
                                     headers={"Authorization": f"Bearer {token}"})).json()
            # the service hands the regions file's names to the API (the page's header)
            regions = (await http.get("/api/v1/regions",
                                      headers={"Authorization": f"Bearer {token}"})).json()
        assert page.status_code == 200
        assert "危险" in page.text
        assert health["counters"]["stored"] > 0
        assert {"江苏省", "盐城市"} <= {r["name"] for r in regions}
    finally:
        stop.set()
        await asyncio.wait_for(demo, 30)


def test_demo_commitment_deadline_follows_the_start() -> None:
    """The demo runs at any hour: its deadline is a few minutes after the start, so prompt
    plants file on time and the late one after it; near midnight it stays on the day."""
    zone = DutiesConfig().zone
    morning = parse_duties_config(demo_duties(datetime(2026, 12, 2, 11, 19, 30, tzinfo=zone)))
    assert morning.commitment.deadline == wall_time(11, 22)
    night = parse_duties_config(demo_duties(datetime(2026, 12, 2, 23, 58, tzinfo=zone)))
    assert night.commitment.deadline == wall_time(23, 59)
