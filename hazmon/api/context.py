"""What the API needs from the running service, in one object the composition root builds.

The routers depend on this, never on `hazmon.service.app.Service`, so tests build it from
real parts (an AlarmStore on a temp file, a loaded registry) without MQTT or a writer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from hazmon.alerts.service import AlarmService
from hazmon.alerts.store import AlarmStore
from hazmon.api.ratelimit import FailureLimiter
from hazmon.api.rights import Rights
from hazmon.api.tally import MinuteTally
from hazmon.api.tokens import TokenStore
from hazmon.core.clock import Clock
from hazmon.domain.regions import Regions
from hazmon.domain.registry import Registry
from hazmon.duties.service import DutyService
from hazmon.ingest.gateways import GatewayTracker
from hazmon.ingest.influx import InfluxClient
from hazmon.warnings.engine import WarningEngine


def _no_simulated() -> frozenset[str]:
    return frozenset()


def _no_metrics() -> str:
    return ""


def unknown_last_seen(enterprise: str, tag: str) -> int | None:
    """The default: no last-seen times known (GET /kpis then reports availability null)."""
    return None


@dataclass
class ApiContext:
    registry: Callable[[], Registry]  # the current registry: it is swapped on reload
    alarms: AlarmService
    alarm_store: AlarmStore
    tokens: TokenStore
    gateways: GatewayTracker
    health: Callable[[], dict[str, Any]]
    clock: Clock
    influx: InfluxClient | None = None  # None: telemetry answers 503, sensors omit `last`
    influx_database: str = "hazmon"
    metrics_text: Callable[[], str] = _no_metrics
    # Enterprises flagged as simulated (e.g. GeneratedRegistry.simulated): the only ones a
    # simulator token sees.
    simulated_enterprises: Callable[[], frozenset[str]] = _no_simulated
    # (enterprise, tag) -> epoch ms of the sensor's newest reading, None if not known (the
    # rules engine keeps it): the data availability of GET /kpis.
    last_seen: Callable[[str, str], int | None] = unknown_last_seen
    sse_heartbeat_s: float = 15.0
    # Readings newer than this are looked up for the `last` value of a sensor.
    last_reading_window_ms: int = 24 * 3600 * 1000
    # reverse proxies whose X-Forwarded-For names the client (hazmon.api.deps)
    trusted_proxies: Sequence[IPv4Network | IPv6Network] = ()
    auth_failures_per_minute: int = 10  # per client address
    token_failures_per_minute: int = 10  # per token id named
    rights: Rights = field(default_factory=Rights)  # who may do what (http.rights)
    # 预警: the warning engine (its store, policy and pushes); None: /warnings answers 503
    warnings: WarningEngine | None = None
    # The province's grid (the regions file: names, officials); None: codes go unnamed
    regions: Regions | None = None
    duties: DutyService | None = None  # None: the duty endpoints answer 503
    limiter: FailureLimiter = field(init=False)
    token_limiter: FailureLimiter = field(init=False)
    # failed sign-ins and refused actions by minute, taken by the service into the audit
    failed_sign_ins: MinuteTally = field(default_factory=MinuteTally)
    refusals: MinuteTally = field(default_factory=MinuteTally)

    def __post_init__(self) -> None:
        self.limiter = FailureLimiter(self.clock, self.auth_failures_per_minute)
        self.token_limiter = FailureLimiter(self.clock, self.token_failures_per_minute)
