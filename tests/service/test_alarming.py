"""The rules stage saves its state in chunks and a restart continues without re-raising."""

from __future__ import annotations

from pathlib import Path

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.core.metrics import Metrics
from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.domain.signal import SignalKind
from hazmon.service.alarming import RulesStage, read_state
from tests.support import ENT

BASE_MS = 1_795_312_800_000


async def test_state_saved_in_chunks_restores_without_reraising(
    registry: Registry, tmp_path: Path
) -> None:
    store = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    try:
        alarms = AlarmService(store, directory=RegistryDirectory(registry),
                              clock=lambda: BASE_MS + 2000)
        state = tmp_path / "rules-state.json"
        stage = RulesStage(registry, alarms, Metrics(), lambda: BASE_MS + 2000, state)
        gd03 = registry.sensor(ENT, "MHS-01.GD03")
        assert gd03 is not None
        await stage.on_readings([Reading(gd03, BASE_MS, 1.5)])
        raised = {s.rule for s in stage.engine.active()}
        assert raised == {"high", "high_high"}

        await stage.save_async(chunk=2)  # several chunks for the 5 sensors
        snap = read_state(state)
        assert len(snap["sensors"]) == len(registry.sensors)  # type: ignore[arg-type]

        again = RulesStage(registry, alarms, Metrics(), lambda: BASE_MS + 3000, state)
        assert {s.rule for s in again.engine.active()} == raised
        signals = again.engine.evaluate(Reading(gd03, BASE_MS + 1000, 1.6))
        assert not [s for s in signals if s.kind is SignalKind.RAISE]
        assert len((await store.query(limit=10)).items) == 2
    finally:
        await store.close()


async def test_a_replay_hands_on_only_what_the_alarm_store_lacks(
    registry: Registry, tmp_path: Path
) -> None:
    store = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    try:
        alarms = AlarmService(store, directory=RegistryDirectory(registry),
                              clock=lambda: BASE_MS + 9000)
        state = tmp_path / "rules-state.json"
        first = RulesStage(registry, alarms, Metrics(), lambda: BASE_MS, state)
        first.save()  # the snapshot the crash leaves: before any reading
        gd03 = registry.sensor(ENT, "MHS-01.GD03")
        assert gd03 is not None
        seen = [Reading(gd03, BASE_MS + i * 1000, v) for i, v in enumerate((0.1, 1.5, 0.1))]
        await first.on_readings(seen)  # high and high-high raised and cleared
        before = [(a.id, a.state, a.history_len) for a in (await store.query()).items]
        assert len(before) == 2

        again = RulesStage(registry, alarms, Metrics(), lambda: BASE_MS + 9000, state)
        again.hold()
        done = await again.replay(seen)
        again.release()
        assert (done.evaluated, done.signals, done.known) == (3, 0, 4)
        assert [(a.id, a.state, a.history_len)
                for a in (await store.query()).items] == before  # nothing added
        # Readings the restored state has seen are not evaluated again.
        assert (await again.replay(seen)).evaluated == 0
        # A new excursion after the replay is news: the same occurrences come back.
        await again.on_readings([Reading(gd03, BASE_MS + 5000, 1.6)])
        after = {a.rule: a for a in (await store.query()).items}
        assert {r: a.activations for r, a in after.items()} == {"high": 2, "high_high": 2}
    finally:
        await store.close()
