"""The day's patrol sample is weighted by each enterprise's recent warnings: the service
hands the duty loop the warning store's counts (docs/REGULATORY.md §5)."""

from __future__ import annotations

from pathlib import Path

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import open_warning
from tests.helpers import make_settings, running
from tests.support import ENT, ENT2

DAY_MS = 86_400_000


async def test_recent_warnings_count_per_enterprise_within_the_window(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    async with running(settings) as svc:
        assert svc.warnings is not None
        assert svc.duty_loop.recent_warnings == svc.recent_warnings
        days = svc.duties.config.patrol.recent_warning_days
        now = svc.clock()
        engine = svc.warnings.engine
        for n, (ent, source, opened) in enumerate([
                (ENT, "MHS-01", now - DAY_MS), (ENT, None, now - 2 * DAY_MS),
                (ENT2, "MHS-02", now - (days + 1) * DAY_MS)]):  # too old to count
            reason = Reason("manual", "manual", WarningLevel.BLUE, "巡查发现")
            step = open_warning(f"01JPATROLWEIGHT{n:011d}", Assessment(
                ent, source, "对象", "320921", 2, WarningLevel.BLUE, (reason,)),
                engine.policy, opened)
            await engine.store.save(step, created=True)
        assert await svc.recent_warnings() == {ENT: 2}
