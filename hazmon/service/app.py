"""The composition root: builds every component from Settings and runs them together.

One TaskGroup owns every task. Readiness (`ready`) is signalled only once the MQTT
subscriptions are in place. Shutdown flushes the writer under a deadline first, so the
acknowledgements of what was stored still reach the broker; whatever is left is simply
not acknowledged and comes again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

import uvicorn

from hazmon import __version__
from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.alerts.notify import Notifier, plant_only_config
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.api.instrument import ApiMetrics
from hazmon.domain.registry import Registry, RegistryError, load_registry
from hazmon.domain.rulespec import RulesFile
from hazmon.ingest.influx import InfluxClient, InfluxError
from hazmon.ingest.mqtt_source import MqttSource
from hazmon.ingest.pipeline import Ingest, wall_ms
from hazmon.ingest.rejects import RejectStore
from hazmon.ingest.sink import InfluxSink
from hazmon.ingest.spool import Spool
from hazmon.ingest.topics import owned_regions, subscriptions
from hazmon.rules.file import load_rules_file
from hazmon.service.alarming import RulesStage
from hazmon.service.metrics import Metrics
from hazmon.service.settings import Settings

log = logging.getLogger(__name__)

SHUTDOWN_DEADLINE_S = 15.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals belong to the service as a whole, not to the HTTP server.
        yield


class Service:
    def __init__(self, settings: Settings, *, clock: Callable[[], int] = wall_ms) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = Metrics()
        self.registry = load_registry(settings.registry)
        self._registry_mtime = _mtime(settings.registry)
        self.registry_loaded_ms = clock()
        self.registry_error: str | None = None
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.influx = InfluxClient(settings.influx)
        self.spool = Spool(settings.spool_dir, settings.spool.max_bytes)
        self.sink = InfluxSink(self.influx, self.spool, settings.influx, self.metrics,
                               dead_letter=data / "influx-refused.lp")
        self.rejects = RejectStore(self.metrics, data / "rejects.jsonl",
                                   settings.ingest.rejects_kept,
                                   settings.ingest.rejects_file_bytes)
        self.ingest = Ingest(self.registry, self.sink, self.rejects, settings.ingest,
                             self.metrics, clock, state_file=data / "sequence-state.json")
        self.source = MqttSource(settings.mqtt, self.ingest.handle, self.topic_filters,
                                 self.metrics)
        self.rules_file: RulesFile | None = (
            load_rules_file(settings.alarms.rules_file, self.registry)
            if settings.alarms.rules_file is not None else None
        )
        # Opened in run(): they need the event loop.
        self.alarm_store: AlarmStore | None = None
        self.alarms: AlarmService | None = None
        self.rules: RulesStage | None = None
        self.tokens: TokenStore | None = None
        self.notifier: Notifier | None = None
        self.app = create_app(self)
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._started = time.monotonic()
        self._tasks: set[asyncio.Task[None]] = set()
        self.http_port: int | None = None
        self.metrics.gauge("hazmon_registry_sensors", "Sensors in the loaded registry",
                           fn=lambda: len(self.registry.sensors))

    # --- wiring helpers -------------------------------------------------------------------

    def topic_filters(self) -> list[str]:
        return subscriptions(owned_regions(self.settings.mqtt.regions, self.registry.regions))

    def stop(self) -> None:
        self._stop.set()

    async def reload_registry(self) -> bool:
        """Load the registry file again; on error keep the current one and say why.

        Parsed in a worker thread: a province's file takes seconds, and ingest goes on
        with the registry it has meanwhile."""
        try:
            registry = await asyncio.to_thread(load_registry, self.settings.registry)
        except RegistryError as exc:
            self.registry_error = str(exc)
            log.error("registry reload refused, keeping the loaded one: %s", exc)
            return False
        self._apply(registry)
        return True

    def _apply(self, registry: Registry) -> None:
        self.registry = registry
        self.registry_error = None
        self.registry_loaded_ms = self.clock()
        self.ingest.set_registry(registry)
        if self.alarms is not None:
            self.alarms.directory = RegistryDirectory(registry)
        if self.notifier is not None:
            self.notifier.directory = RegistryDirectory(registry)
        log.info("registry reloaded: %d enterprises, %d sensors", len(registry.enterprises),
                 len(registry.sensors))

    # --- running ----------------------------------------------------------------------------

    async def _open_alarms(self) -> RulesStage:
        self.alarm_store = await AlarmStore.open(self.settings.alarm_db_url)
        self.alarms = AlarmService(self.alarm_store, directory=RegistryDirectory(self.registry),
                                   clock=self.clock)
        cfg = self.settings.alarms.notify or plant_only_config(
            self.settings.alarms.publish_to_plants)
        self.notifier = Notifier(self.alarm_store, cfg, RegistryDirectory(self.registry),
                                 self.source.publish, self.clock)
        notifier = self.notifier

        async def wake(_: dict[str, Any]) -> None:  # a committed change: look at the outbox
            notifier.wake()

        self.alarms.subscribe(wake)
        self.rules = RulesStage(self.registry, self.alarms, self.metrics, self.clock,
                                self.settings.data_dir / "rules-state.json", self.rules_file)
        self.ingest.consumers.append(self.rules)
        self.tokens = tokens = await TokenStore.open(self.alarm_store.db)
        self.app = create_app(ApiContext(
            registry=lambda: self.registry,  # read per request: reloads are seen at once
            alarms=self.alarms, alarm_store=self.alarm_store, tokens=tokens,
            gateways=self.ingest.gateways, health=self.health, metrics_text=self.metrics_text,
            clock=self.clock, influx=self.influx,
            influx_database=self.settings.influx.database,
            simulated_enterprises=self.simulated_enterprises,
            last_seen=lambda e, t: self.rules.engine.last_seen(e, t) if self.rules else None,
        ))
        self.app.add_middleware(ApiMetrics, metrics=self.metrics)
        self._alarm_metrics()
        return self.rules

    def _alarm_metrics(self) -> None:
        alarms, notifier = self.alarms, self.notifier
        assert alarms is not None
        assert notifier is not None
        for key in alarms.counts:
            self.metrics.counter_from(f"hazmon_alarms_{key}_total",
                                      f"Alarm service: signals {key.replace('_', ' ')}",
                                      lambda k=key: alarms.counts[k])  # type: ignore[misc]
        for key in notifier.totals:
            self.metrics.counter_from(f"hazmon_notifications_{key}_total",
                                      f"Notifier: notifications {key.replace('_', ' ')}",
                                      lambda k=key: notifier.totals[k])  # type: ignore[misc]

    def simulated_enterprises(self) -> frozenset[str]:
        return frozenset(c for c, e in self.registry.enterprises.items() if e.simulated)

    async def run(self) -> None:
        try:
            await self.influx.ensure_database()
        except InfluxError as exc:
            log.warning("InfluxDB not ready at start (%s); readings go to the spool", exc)
        rules = await self._open_alarms()
        # The registry and rule state live as long as the process: keep the collector from
        # walking them on every full collection (~0.1 s pauses in the alarm path).
        gc.collect()
        gc.freeze()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        server = _Server(uvicorn.Config(
            self.app, host=self.settings.http.host, port=self.settings.http.port,
            log_config=None, access_log=False, lifespan="off",
        ))
        try:
            async with asyncio.TaskGroup() as tg:
                writer = tg.create_task(self.sink.run(), name="influx-writer")
                source = tg.create_task(self.source.run(), name="mqtt-source")
                http = tg.create_task(server.serve(), name="http")
                watcher = tg.create_task(self._watch_registry(), name="registry-watch")
                ticker = tg.create_task(rules.run(self.settings.alarms.tick_s), name="rules-tick")
                assert self.alarms is not None
                gaps = tg.create_task(self.ingest.gaps.run(self.alarms, self.clock,
                                                           self.settings.alarms.tick_s),
                                      name="gap-watch")
                assert self.notifier is not None
                notify = tg.create_task(self.notifier.run(self.settings.alarms.notify_poll_s),
                                        name="notifier")
                ready = tg.create_task(self._signal_ready(server), name="readiness")
                await self._stop.wait()
                log.info("stopping: flushing the writer (deadline %.0f s)", SHUTDOWN_DEADLINE_S)
                ready.cancel()
                watcher.cancel()
                self.sink.stop()
                try:
                    await asyncio.wait_for(asyncio.shield(writer), SHUTDOWN_DEADLINE_S)
                except TimeoutError:
                    log.warning("writer did not finish in time; unacknowledged messages "
                                "will be redelivered")
                    writer.cancel()
                notify.cancel()
                source.cancel()
                ticker.cancel()
                gaps.cancel()
                server.should_exit = True
                await http
        finally:
            gc.unfreeze()
            await self.influx.aclose()
            if self.notifier is not None:
                await self.notifier.aclose()
            if self.alarm_store is not None:
                await self.alarm_store.close()
            log.info("stopped")

    async def _signal_ready(self, server: uvicorn.Server) -> None:
        await self.source.ready.wait()
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
            await asyncio.sleep(0.02)
        for s in server.servers:
            for sock in s.sockets:
                self.http_port = sock.getsockname()[1]
        self.ready.set()
        log.info("ready: subscribed to %s, HTTP on port %s", ", ".join(self.topic_filters()),
                 self.http_port)

    def _on_sighup(self) -> None:
        self._background(self._reload())

    async def _reload(self) -> None:
        if await self.reload_registry():
            await self._after_reload()

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)  # keep a reference until it finishes
        task.add_done_callback(self._tasks.discard)

    async def _after_reload(self) -> None:
        await self.source.sync_subscriptions()
        if self.rules is not None:
            await self.rules.reload(self.registry)

    async def _watch_registry(self) -> None:
        poll = self.settings.registry_poll_s
        if poll <= 0:
            return
        while True:
            await asyncio.sleep(poll)
            mtime = _mtime(self.settings.registry)
            if mtime != self._registry_mtime:
                self._registry_mtime = mtime
                await self._reload()

    # --- health -------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        sink, spool, src = self.sink, self.spool, self.source
        spool_state = "empty" if spool.empty else (
            "full" if spool.bytes >= spool.max_bytes * 0.95 else "draining" if sink.up
            else "filling")
        ok = src.connected and sink.up and spool.empty and self.registry_error is None
        return {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self._started, 1),
            "broker": {"state": "up" if src.connected else "down",
                       "subscriptions": sorted(src._subscribed),
                       "last_error": src.last_error},
            "influxdb": {"state": "up" if sink.up else "down", "url": self.settings.influx.url,
                         "database": self.settings.influx.database,
                         "last_error": sink.last_error},
            "spool": {"state": spool_state, "readings": spool.lines, "bytes": spool.bytes,
                      "files": spool.files, "max_bytes": spool.max_bytes},
            "registry": {"source": self.registry.source,
                         "enterprises": len(self.registry.enterprises),
                         "hazard_sources": len(self.registry.hazard_sources),
                         "sensors": len(self.registry.sensors),
                         "loaded_ms": self.registry_loaded_ms,
                         "warnings": list(self.registry.warnings),
                         "reload_error": self.registry_error},
            "gateways": self.ingest.gateways.counts(),
            "counters": {
                "received": int(self.ingest.received.total()),
                "stored": int(sink.stored.total()),
                "spooled": int(sink.spooled.total()),
                "drained": int(sink.drained.total()),
                "pending": sink.pending,
                "rejected_payloads": int(self.rejects.batches.total()),
                "rejected_readings": int(self.rejects.readings.total()),
                "duplicate_batches": self.ingest.sequences.duplicates,
                "missing_batches": self.ingest.sequences.missing,
                "mqtt_messages": int(src.messages.total()),
            },
        }

    def metrics_text(self) -> str:
        return self.metrics.render()


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
