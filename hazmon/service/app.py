"""The composition root: opens every part from Settings, runs them, closes them in reverse.

    async with Service.open(settings) as service:   # every part open, every task running
        await service.until_stopped()                 # stop(): SIGINT, SIGTERM, a test

One `AsyncExitStack` holds the parts in the order they are opened (see `_start`); leaving
the block closes them in reverse under one shutdown deadline. Intake stops first, then
the rules stage saves its state, then the writer flushes while the MQTT connection is
still up, so the acknowledgements of what was stored reach the broker; whatever is left
is simply not acknowledged and comes again after the restart. All tasks, the registry
reloads included, belong to one TaskGroup: a part that fails stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from hazmon import __version__
from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.alerts.claims import Claimant
from hazmon.alerts.notify import Notifier, plant_only_config
from hazmon.alerts.pending import PendingSignals
from hazmon.alerts.sql import schema_lock
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.api.health import create_ops_app
from hazmon.api.https import server_tls_options
from hazmon.api.instrument import ApiMetrics
from hazmon.api.rights import Rights
from hazmon.cluster.partitions import rules_subset, subset
from hazmon.core.clock import Clock, wall_ms
from hazmon.core.metrics import Metrics
from hazmon.domain.registry import Registry, RegistryError
from hazmon.duties.config import DutiesConfig
from hazmon.duties.service import DutyService
from hazmon.duties.store import DutyStore
from hazmon.ingest.influx import InfluxClient, InfluxError
from hazmon.ingest.mqtt_source import MqttSource
from hazmon.ingest.pipeline import Ingest
from hazmon.ingest.rejects import RejectStore
from hazmon.ingest.sink import InfluxSink
from hazmon.ingest.spool import Spool
from hazmon.ingest.topics import owned_regions, subscriptions
from hazmon.rules.file import load_rules_file
from hazmon.service.alarming import RulesStage
from hazmon.service.cluster import ClusterPart, default_instance
from hazmon.service.duties import DutyLoop, MqttRollCall, silence_of
from hazmon.service.leading import while_leading
from hazmon.service.replay import StartupReplay
from hazmon.service.security import SecurityAudit, load_registry_hashed
from hazmon.service.settings import Settings
from hazmon.service.warning_part import WarningPart
from hazmon.warnings.store import WarningFilter, WarningStore

log = logging.getLogger(__name__)

SHUTDOWN_DEADLINE_S = 15.0


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals belong to the service as a whole, not to the HTTP server.
        yield


class _Deadline:
    """One deadline for the whole shutdown, counted from the first part closed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at: float | None = None

    def remaining(self) -> float:
        now = time.monotonic()
        if self._at is None:
            self._at = now + self.seconds
        return max(0.0, self._at - now)


class Service:
    """Every part, built at once from settings and the resources `open` has opened."""

    def __init__(self, settings: Settings, clock: Clock, registry: Registry,
                 influx: InfluxClient, alarm_store: AlarmStore, tokens: TokenStore,
                 duty_store: DutyStore, duties_config: DutiesConfig,
                 warning_store: WarningStore | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = Metrics()
        self.registry = registry
        self._registry_mtime = _mtime(settings.registry)
        self.registry_loaded_ms = clock()
        self.registry_error: str | None = None
        data = settings.data_dir
        self.influx = influx
        self.alarm_store = alarm_store
        self.tokens = tokens
        self.spool = Spool(settings.spool_dir, settings.spool.max_bytes)
        self.sink = InfluxSink(influx, self.spool, settings.influx, self.metrics,
                               dead_letter=data / "influx-refused.lp")
        self.rejects = RejectStore(self.metrics, data / "rejects.jsonl",
                                   settings.ingest.rejects_kept,
                                   settings.ingest.rejects_file_bytes)
        self.ingest = Ingest(registry, self.sink, self.rejects, settings.ingest,
                             self.metrics, clock,
                             state_file=data / "sequence-state.json")
        # several instances (cluster.partitions): partitions leased in PostgreSQL, each
        # with its own MQTT session and rules engine (service/cluster.py)
        self.cluster: ClusterPart | None = None
        instance = settings.cluster.instance or default_instance()
        mqtt = settings.mqtt
        if settings.cluster.enabled:  # this instance's own session only publishes
            mqtt = mqtt.model_copy(update={"client_id": f"{mqtt.client_id}-{instance}"})
        self.source = MqttSource(mqtt, self.ingest.handle, self.topic_filters, self.metrics)
        # this instance, for the claims of several on one PostgreSQL (alerts/claims.py)
        self.claimant = Claimant(ttl_ms=round(settings.alarms.claim_s * 1000))
        self.alarms = AlarmService(alarm_store, directory=RegistryDirectory(registry),
                                   clock=clock, claimant=self.claimant)
        self.notifier = Notifier(
            alarm_store,
            settings.alarms.notify or plant_only_config(settings.alarms.publish_to_plants),
            RegistryDirectory(registry), self.source.publish, clock, claimant=self.claimant)
        self.alarms.subscribe(self._wake_notifier)
        # signals wait out a database outage instead of being lost
        self.pending = PendingSignals(
            self.alarms, is_down=lambda: alarm_store.db.down_since_ms is not None)
        rules_file = (load_rules_file(settings.alarms.rules_file, registry)
                      if settings.alarms.rules_file is not None else None)
        if settings.cluster.enabled:
            self.cluster = ClusterPart(settings, instance, alarm_store.db, self.ingest.handle,
                                       self.ingest.gateways, self.pending, self.metrics, clock,
                                       registry, rules_file, self.ingest.sequences)
        # clustered, this stage keeps only the alarm tick: the partitions have the engines
        owned = self._owned(registry)  # what this instance evaluates and ticks
        self.rules = RulesStage(owned, self.alarms, self.metrics, clock,
                                data / "rules-state.json" if self.cluster is None else None,
                                rules_subset(rules_file, frozenset(owned.enterprises)),
                                taker=self.pending)
        self.ingest.consumers.append(self.cluster or self.rules)
        # The duties (issue 15); `duty_loop.facts(now_ms)` is what the warnings are handed.
        self.duties = DutyService(
            duty_store, duties_config, self.alarms, clock, registry=lambda: self.registry,
            silent=silence_of(self.ingest.gateways, lambda: self.registry, clock(),
                              int(settings.duties.silence_s * 1000)),
            seed=settings.duties.seed)
        self.duty_loop = DutyLoop(self.duties, lambda: self.registry, clock, settings.duties)
        self.roll_calls = MqttRollCall(self.duties, lambda: self.registry,
                                       lambda topic, msg: self.source.publish(topic, msg))
        self.ingest.roll_call_answers = self.roll_calls.answer
        regions = owned_regions(settings.mqtt.regions, registry.regions)
        self.replay = StartupReplay(  # holds the rules' live input until it has run
            self.rules, influx, registry, regions, self.spool,
            max_s=settings.alarms.replay_max_s,
            future_s=settings.ingest.future_tolerance_s, clock=clock)
        # 预警: its duty facts come from `self.warnings.duty_facts` (a DutyFactsSource).
        self.warnings = None if warning_store is None else WarningPart(
            settings.warnings, notify=settings.alarms.notify, registry=lambda: self.registry,
            alarm_store=alarm_store, store=warning_store, gateways=self.ingest.gateways,
            last_seen=self._last_seen, clock=clock,
            publish=self.source.publish)
        if self.warnings is not None:
            self.warnings.duty_facts = self.duty_loop  # duty findings → 预警
            self.duty_loop.recent_warnings = self.recent_warnings  # 预警 → the patrol draw
        self.app = self._create_app()
        self.ready = asyncio.Event()  # set once subscribed: messages flow from here on
        self.http_port: int | None = None
        self.ops_port: int | None = None  # the loopback operations listener, if any
        self._https: dict[str, Any] = {}  # uvicorn's TLS options (hazmon.api.https)
        self._stop = asyncio.Event()
        self._reload_asked = asyncio.Event()
        self._started = time.monotonic()
        self._deadline = _Deadline(SHUTDOWN_DEADLINE_S)
        self._metrics()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, settings: Settings, *, clock: Clock = wall_ms
                   ) -> AsyncIterator[Service]:
        """The service with every part open and running; closed in reverse on leaving."""
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(log.info, "stopped")
            https = server_tls_options(settings.http)  # a wrong file stops us here
            digest, loaded = await asyncio.to_thread(load_registry_hashed, settings.registry)
            if isinstance(loaded, RegistryError):
                raise loaded
            registry = loaded
            duties_config = settings.duties.load()  # a wrong duties file stops the start
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            influx = InfluxClient(settings.influx)
            stack.push_async_callback(influx.aclose)
            try:
                await influx.ensure_database()
            except InfluxError as exc:
                log.warning("InfluxDB not ready at start (%s); readings go to the spool", exc)
            async with schema_lock(settings.alarm_db_url):  # instances started together
                alarm_store = await AlarmStore.open(settings.alarm_db_url)
                stack.push_async_callback(alarm_store.close)
                tokens = await TokenStore.open(alarm_store.db)
                duty_store = await DutyStore.open(alarm_store.db)
                warning_store = (await WarningStore.open(alarm_store.db)
                                 if settings.warnings.enabled else None)
            service = cls(settings, clock, registry, influx, alarm_store, tokens, duty_store,
                          duties_config, warning_store)
            service._https = https
            await service.security.registry(settings.registry, digest, registry, "start")
            await service.security.rights(service.api.rights.table())
            await service.security.config_files({
                "warning_policy": settings.warnings.policy_file if settings.warnings.enabled
                else None, "regions": settings.warnings.regions_file,
                "duties": settings.duties.config})
            await service._start(stack)
            yield service

    async def _start(self, stack: contextlib.AsyncExitStack) -> None:
        """The running parts, in opening order; each pushes how it is closed."""
        s = self.settings
        tg = await stack.enter_async_context(asyncio.TaskGroup())
        # after every part that raises signals has stopped: what waits gets a last chance
        stack.push_async_callback(self.pending.flush, 2.0)
        stack.push_async_callback(self.notifier.aclose)
        self._run(stack, tg, "notifier", self.notifier.run(s.alarms.notify_poll_s))
        if self.cluster is not None:  # partitions handed back after the writer's last flush
            stack.push_async_callback(self.cluster.close)
        self._run(stack, tg, "mqtt-source", self.source.run())
        # Closed before the connection: its last flush's acknowledgements go out on it.
        self._run(stack, tg, "influx-writer", self.sink.run(), finish=self.sink.stop)
        self._run(stack, tg, "rules-tick",  # saves on exit
                  self.rules.run(s.alarms.tick_s, s.alarms.state_save_s))
        self._run(stack, tg, "rules-replay", self.replay.run())  # before live data
        if self.cluster is not None:
            self._run(stack, tg, "cluster", self.cluster.run(s.alarms.tick_s))
        # Gaps are saved "clean" on exit, after intake is held: nothing observed is missed.
        self._run(stack, tg, "gap-watch",
                  self.ingest.gaps.run(self.pending, self.clock, s.alarms.tick_s))
        self._run(stack, tg, "alarm-backlog", self.pending.run())
        stack.callback(self.source.hold)  # intake: the first of the ingest parts to stop
        if self.cluster is not None:
            stack.callback(self.cluster.hold)
        # Clustered, the province-wide loops run on one instance only (ClusterPart.leads).
        lead = self.cluster.leads if self.cluster is not None else None
        if self.warnings is not None:
            stack.push_async_callback(self.warnings.aclose)
            self._run(stack, tg, "warnings", while_leading(lead, self.warnings.run))
            self._run(stack, tg, "warning-pushes", while_leading(lead, self.warnings.pusher.run))
        if s.duties.enabled:
            self._run(stack, tg, "duties", while_leading(lead, self.duty_loop.run))
        await self._start_http(stack, tg)
        self._run(stack, tg, "readiness", self._announce_ready())
        self._run(stack, tg, "registry-reload", self._reloads())
        self._run(stack, tg, "security-audit", self.security.run(), finish=self.security.stop)
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
            stack.callback(loop.remove_signal_handler, signal.SIGHUP)
        # The registry and rule state live as long as the process: keep the collector from
        # walking them on every full collection (~0.1 s pauses in the alarm path).
        gc.collect()
        gc.freeze()
        stack.callback(gc.unfreeze)
        stack.callback(log.info, "stopping (deadline %.0f s)", SHUTDOWN_DEADLINE_S)

    def _run(self, stack: contextlib.AsyncExitStack, tg: asyncio.TaskGroup, name: str,
             coro: Coroutine[Any, Any, None], finish: Callable[[], None] | None = None
             ) -> asyncio.Task[None]:
        """Start a task of the group; on closing, `finish()` asks it to end by itself
        (else it is cancelled), and it gets what is left of the shutdown deadline."""
        task = tg.create_task(coro, name=name)
        stack.push_async_callback(self._finish, task, finish)
        return task

    async def _finish(self, task: asyncio.Task[None], finish: Callable[[], None] | None
                      ) -> None:
        if finish is None:
            task.cancel()
        else:
            finish()
        done, _ = await asyncio.wait({task}, timeout=self._deadline.remaining())
        if not done:
            log.warning("%s did not finish within the shutdown deadline; cancelled (what it "
                        "did not acknowledge is delivered again)", task.get_name())
            task.cancel()
            await asyncio.wait({task})

    async def _start_http(self, stack: contextlib.AsyncExitStack,
                          tg: asyncio.TaskGroup) -> None:
        http = self.settings.http
        self.http_port = await self._serve(stack, tg, "http", self.app, http.host, http.port,
                                           **self._https)
        if http.ops_port is not None:  # loopback only (validated): no token there
            self.ops_port = await self._serve(stack, tg, "ops-http", create_ops_app(self),
                                              http.ops_host, http.ops_port)

    async def _serve(self, stack: contextlib.AsyncExitStack, tg: asyncio.TaskGroup, name: str,
                     app: FastAPI, host: str, port: int, **options: Any) -> int | None:
        """Start a uvicorn server in the group; the port it listens on."""
        # proxy_headers off: uvicorn would take X-Forwarded-For from any loopback peer;
        # hazmon reads it from http.trusted_proxies only (hazmon.api.deps.client_address)
        server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None,
                                        access_log=False, lifespan="off",
                                        proxy_headers=False, **options))

        def finish() -> None:
            server.should_exit = True

        task = self._run(stack, tg, name, server.serve(), finish=finish)
        while not server.started:
            if task.done():
                raise RuntimeError(f"HTTP server ({name}) did not start on {host}:{port}")
            await asyncio.sleep(0.02)
        bound = None
        for srv in server.servers:
            for sock in srv.sockets:
                bound = sock.getsockname()[1]
        return bound

    async def _announce_ready(self) -> None:
        await self.source.ready.wait()
        self.ready.set()
        log.info("ready: subscribed to %s, HTTP on port %s", ", ".join(self.topic_filters()),
                 self.http_port)

    # --- wiring helpers -------------------------------------------------------------------

    def _create_app(self) -> FastAPI:
        self.api = ApiContext(
            registry=lambda: self.registry,  # read per request: reloads are seen at once
            alarms=self.alarms, alarm_store=self.alarm_store, tokens=self.tokens,
            gateways=self.ingest.gateways, health=self.health, metrics_text=self.metrics_text,
            clock=self.clock, influx=self.influx,
            influx_database=self.settings.influx.database,
            simulated_enterprises=self.simulated_enterprises,
            last_seen=self._last_seen,
            rights=Rights(self.settings.http.rights), duties=self.duties,
            warnings=self.warnings.engine if self.warnings is not None else None,
            regions=self.warnings.regions if self.warnings is not None else None,
            auth_failures_per_minute=self.settings.http.auth_failures_per_minute,
            token_failures_per_minute=self.settings.http.token_failures_per_minute,
            trusted_proxies=tuple(self.settings.http.trusted_proxies),
        )
        self.security = SecurityAudit(self.alarm_store.db, self.clock, {
            "auth.failed": self.api.failed_sign_ins, "rights.refused": self.api.refusals})
        app = create_app(self.api)
        app.add_middleware(ApiMetrics, metrics=self.metrics)
        return app

    async def _wake_notifier(self, _: dict[str, Any]) -> None:
        self.notifier.wake()  # a committed change: look at the outbox

    def _metrics(self) -> None:
        alarms, notifier = self.alarms, self.notifier
        self.metrics.gauge("hazmon_registry_sensors", "Sensors in the loaded registry",
                           fn=lambda: len(self.registry.sensors))
        for key in alarms.counts:
            self.metrics.counter_from(f"hazmon_alarms_{key}_total",
                                      f"Alarm service: signals {key.replace('_', ' ')}",
                                      lambda k=key: alarms.counts[k])  # type: ignore[misc]
        for key in notifier.totals:
            self.metrics.counter_from(f"hazmon_notifications_{key}_total",
                                      f"Notifier: notifications {key.replace('_', ' ')}",
                                      lambda k=key: notifier.totals[k])  # type: ignore[misc]
        if self.warnings is not None:
            engine, pusher = self.warnings.engine, self.warnings.pusher
            for key in engine.totals:
                self.metrics.counter_from(f"hazmon_warnings_{key}_total",
                                          f"Warnings: {key} (steps and pushes queued)",
                                          lambda k=key: engine.totals[k])  # type: ignore[misc]
            for key in pusher.totals:
                self.metrics.counter_from(f"hazmon_warning_pushes_{key}_total",
                                          f"Warning pushes {key}",
                                          lambda k=key: pusher.totals[k])  # type: ignore[misc]

    async def recent_warnings(self) -> dict[str, int]:
        """Per enterprise, its warnings opened within the duties' `recent_warning_days`:
        what weighs the day's patrol sample toward them (docs/REGULATORY.md §5)."""
        if self.warnings is None:
            return {}
        days = self.duties.config.patrol.recent_warning_days
        found = await self.warnings.engine.store.query_all(
            WarningFilter(since_ms=self.clock() - days * 86_400_000))
        return dict(Counter(w.enterprise for w in found))

    def _owned(self, registry: Registry) -> Registry:
        """The enterprises the rules stage evaluates and ticks: those of `mqtt.regions`
        (all when empty); clustered none, the partitions have their own engines. An
        instance never judges a gateway it does not receive."""
        if self.settings.cluster.enabled:
            return subset(registry)
        regions = owned_regions(self.settings.mqtt.regions, registry.regions)
        if regions is None:
            return registry
        wanted = set(regions)
        return subset(registry, frozenset(
            c for c, e in registry.enterprises.items() if e.region in wanted))

    def _last_seen(self, enterprise: str, tag: str) -> int | None:
        if self.cluster is not None:  # held here, or shared by the holder
            return self.cluster.last_seen(enterprise, tag)
        return self.rules.engine.last_seen(enterprise, tag)

    def topic_filters(self) -> list[str]:
        if self.cluster is not None:
            return []  # the partitions' sessions subscribe; this one only publishes
        return subscriptions(owned_regions(self.settings.mqtt.regions, self.registry.regions))

    def simulated_enterprises(self) -> frozenset[str]:
        return frozenset(c for c, e in self.registry.enterprises.items() if e.simulated)

    def stop(self) -> None:
        """Ask the service to stop: `until_stopped()` returns, the caller leaves `open`."""
        self._stop.set()

    async def until_stopped(self) -> None:
        await self._stop.wait()

    # --- registry reloads -----------------------------------------------------------------

    def reload(self) -> None:
        """Ask for a registry reload (SIGHUP); the reload task does it."""
        self._reload_asked.set()

    async def _reloads(self) -> None:
        """SIGHUP asks, a changed file mtime asks (polled); one reload at a time."""
        poll = self.settings.registry_poll_s
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll if poll > 0 else None):
                    await self._reload_asked.wait()
            asked = self._reload_asked.is_set()
            self._reload_asked.clear()
            mtime = _mtime(self.settings.registry)
            if not asked and mtime == self._registry_mtime:
                continue
            self._registry_mtime = mtime
            try:
                if await self.reload_registry():
                    await self.source.sync_subscriptions()
                    if self.cluster is not None:
                        await self.cluster.reload(self.registry)
                    else:
                        await self.rules.reload(self._owned(self.registry))
            except Exception:  # a failed reload keeps the service running on what it has
                log.exception("registry reload failed")

    async def reload_registry(self) -> bool:
        """Load the registry file again; on error keep the current one and say why.

        Parsed in a worker thread: a province's file takes seconds, and ingest goes on
        with the registry it has meanwhile."""
        digest, registry = await asyncio.to_thread(load_registry_hashed,
                                                   self.settings.registry)
        await self.security.registry(self.settings.registry, digest, registry, "reload")
        if isinstance(registry, RegistryError):
            self.registry_error = str(registry)
            log.error("registry reload refused, keeping the loaded one: %s", registry)
            return False
        self.registry = registry
        self.registry_error = None
        self.registry_loaded_ms = self.clock()
        self.ingest.set_registry(registry)
        self.alarms.directory = RegistryDirectory(registry)
        self.notifier.directory = RegistryDirectory(registry)
        log.info("registry reloaded: %d enterprises, %d sensors", len(registry.enterprises),
                 len(registry.sensors))
        return True

    # --- health -------------------------------------------------------------------------------

    def registry_health(self) -> dict[str, Any]:
        r = self.registry
        return {"source": r.source, "enterprises": len(r.enterprises),
                "hazard_sources": len(r.hazard_sources), "sensors": len(r.sensors),
                "loaded_ms": self.registry_loaded_ms, "warnings": list(r.warnings),
                "reload_error": self.registry_error}

    def health(self) -> dict[str, Any]:
        """Each part reports its own sections; the service adds what it owns itself."""
        broker = self.source.health()
        writer = self.sink.health()
        ingest = self.ingest.health()
        registry = self.registry_health()
        replay = self.replay.health()
        alarm_db = {**self.alarm_store.db.health(), "waiting_signals": self.pending.waiting}
        ok = (broker["state"] == "up" and writer["influxdb"]["state"] == "up"
              and writer["spool"]["state"] == "empty" and registry["reload_error"] is None
              and replay["state"] not in ("waiting", "running")
              and alarm_db["state"] == "up" and not alarm_db["waiting_signals"])
        return {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self._started, 1),
            "broker": broker,
            **writer,
            "registry": registry,
            "rules_replay": replay,
            "alarm_db": alarm_db,
            **({"cluster": self.cluster.health()} if self.cluster is not None else {}),
            "gateways": ingest["gateways"],
            "counters": {**ingest["counters"], **self.sink.counters(),
                         "mqtt_messages": int(self.source.messages.total())},
        }

    def metrics_text(self) -> str:
        return self.metrics.render()


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
