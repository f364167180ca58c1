"""A plant gateway, without I/O: what it would send at each tick of the simulated clock.

`GatewaySim.tick(k)` returns the messages of tick k (time `t0 + k / rate`), and whether the
connection must drop first (outage start: the broker then publishes the Last Will) or be
re-established (outage end: status online, then the backlog). The publisher does the
MQTT; tests drive this class directly, so every payload can be checked without a broker.

Readings per batch: by default one reading per sensor per batch. With `readings_per_batch`
N for M sensors, N ≥ M sends N // M samples per sensor spread over the batch interval
(each with its own `ts`), N < M sends the sensors round-robin, N per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final

import orjson

from hazmon.core.clock import rfc3339_local
from hazmon.simulators.plant import CHINA_TZ, EnterprisePlant, SimSensor

ROOT: Final = "hazmon/v1"
MAX_BATCH_BYTES: Final = 256 * 1024  # docs/CONTRACT.md §3.2
MAX_READINGS: Final = 1000

# Readings rejected alone (docs/CONTRACT.md §3.6), cycled through by the malformed scenario.
BAD_READING_KINDS: Final = (
    "unknown_tag",
    "null_value",
    "string_value",
    "bad_quality_label",
    "future_ts",
    "missing_tag",
    "bool_value",
)
# Messages rejected whole. "non_finite" is a reading of 1e999: a strict JSON decoder
# (orjson) rejects its batch whole, a lenient one (json) the reading alone, so it goes in
# a batch of its own to lose no good reading either way.
BAD_BATCH_KINDS: Final = (
    "not_json",
    "not_utf8",
    "not_object",
    "readings_not_list",
    "too_large",
    "too_many_readings",
    "bad_batch_ts",
    "wrong_topic",
    "non_finite",
    "empty",
)


def bad_reading(kind: str, hazard_source: str, t: float) -> dict[str, Any]:
    tag = f"{hazard_source}.XX99"
    if kind == "unknown_tag":
        return {"tag": tag, "value": 1.0}
    if kind == "null_value":
        return {"tag": f"{hazard_source}.GD01", "value": None}
    if kind == "string_value":
        return {"tag": f"{hazard_source}.GD01", "value": "12.5"}
    if kind == "bool_value":
        return {"tag": f"{hazard_source}.GD01", "value": True}
    if kind == "bad_quality_label":
        return {"tag": f"{hazard_source}.GD01", "value": 0.0, "quality": "excellent"}
    if kind == "future_ts":
        return {"tag": f"{hazard_source}.GD01", "value": 0.0, "ts": int(t * 1000) + 3_600_000}
    if kind == "missing_tag":
        return {"value": 1.0}
    raise ValueError(f"unknown bad reading kind {kind!r}")


@dataclass(slots=True)
class Defects:
    """What a malformed scenario did to one batch."""

    kinds: list[str] = field(default_factory=list)  # bad readings put in the batch
    extra_kinds: list[str] = field(default_factory=list)  # bad messages to send after it


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    readings: int = 0
    seq: int | None = None
    sim_t: float = 0.0  # the simulated time the message was made at
    scenarios: tuple[tuple[str, int], ...] = ()  # (scenario label, readings it shaped)
    defects: tuple[str, ...] = ()
    backlog: bool = False


@dataclass(slots=True)
class Tick:
    t: float
    messages: list[Message]
    drop: bool = False  # drop the connection abruptly before publishing (Last Will fires)
    reconnect: bool = False  # connect again before publishing


class GatewaySim:
    def __init__(
        self,
        plant: EnterprisePlant,
        t0: float,
        rate: float = 1.0,
        readings_per_batch: int | None = None,
        qos: int = 1,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        if readings_per_batch is not None and not 1 <= readings_per_batch <= MAX_READINGS:
            raise ValueError(f"readings per batch must be 1..{MAX_READINGS}")
        self.plant = plant
        self.t0 = t0
        self.rate = rate
        self.interval = 1.0 / rate
        self.qos = qos
        self.readings_per_batch = readings_per_batch
        self.seq = 0
        self.offline = False
        self.backlog: list[Message] = []
        base = f"{ROOT}/{plant.region}/{plant.enterprise}"
        self.telemetry_topic = f"{base}/telemetry"
        self.status_topic = f"{base}/status"
        self._value_scenarios = [s for s in plant.scenarios if s.targets]

    def time_of(self, k: int) -> float:
        return self.t0 + k * self.interval

    def clock_offset(self, t: float) -> float:
        return sum(sc.clock_offset_s(t) for sc in self.plant.scenarios)

    def status(self, state: str, t: float) -> Message:
        """A retained status message; `t` is read from the gateway's own clock."""
        ts = rfc3339_local(round((t + self.clock_offset(t)) * 1000), CHINA_TZ)
        payload = orjson.dumps({"state": state, "ts": ts})
        return Message(self.status_topic, payload, qos=1, retain=True, sim_t=t)

    def last_will(self) -> Message:
        """The Last Will set at connect: `offline` without a time. The broker sends it when
        the connection is lost, maybe hours after the connect, so a time written now would
        be the connect time; with none, hazmon dates it on arrival. (A Will dated at the
        connect is older than every reading sent since, and hazmon rightly ignores an
        offline status older than the data it has: the demo's outage raised nothing.)"""
        return Message(self.status_topic, orjson.dumps({"state": "offline"}), qos=1,
                       retain=True, sim_t=self.t0)

    def tick(self, k: int) -> Tick:
        t = self.time_of(k)
        out = Tick(t, [])
        outages = tuple((sc.label, 0) for sc in self.plant.scenarios if sc.offline(t))
        messages = self._batch(k, t)
        if outages:
            out.drop = not self.offline
            self.offline = True
            self.backlog.extend(replace(m, scenarios=m.scenarios + outages) for m in messages)
            return out
        if self.offline:
            # Back online: announce it, then the backlog in order with its original times.
            out.reconnect = True
            out.messages.append(self.status("online", t))
            out.messages.extend(_as_backlog(m) for m in self.backlog)
            self.backlog.clear()
            self.offline = False
        out.messages.extend(messages)
        return out

    def _samples(self, k: int, t: float) -> list[tuple[SimSensor, float]]:
        sensors = self.plant.sensors
        m, n = len(sensors), self.readings_per_batch
        if m == 0:
            return []
        if n is None or n == m:
            return [(s, t) for s in sensors]
        if n < m:
            first = (k * n) % m
            return [(sensors[(first + i) % m], t) for i in range(n)]
        each, extra = divmod(n, m)
        out: list[tuple[SimSensor, float]] = []
        for i, s in enumerate(sensors):
            count = each + (1 if i < extra else 0)
            out.extend((s, t - self.interval * (count - 1 - j) / count) for j in range(count))
        out.sort(key=lambda st: st[1])  # in time order, as a gateway's buffer is
        return out

    def _batch(self, k: int, t: float) -> list[Message]:
        offset = self.clock_offset(t)
        batch_ms = round((t + offset) * 1000)
        readings: list[dict[str, Any]] = []
        shaped: dict[str, int] = {}
        for sensor, st in self._samples(k, t):
            r: dict[str, Any] = {"tag": sensor.spec.tag, "value": self.plant.value(sensor, st)}
            ms = round((st + offset) * 1000)
            if ms != batch_ms:
                r["ts"] = ms
            readings.append(r)
            for sc in self._value_scenarios:
                if sensor.spec.tag in sc.targets and sc.active(st):
                    shaped[sc.label] = shaped.get(sc.label, 0) + 1
        defects = Defects()
        for sc in self.plant.scenarios:
            if sc.active(t):
                before = len(defects.kinds) + len(defects.extra_kinds)
                sc.corrupt(t, readings, defects)
                if len(defects.kinds) + len(defects.extra_kinds) > before:
                    shaped.setdefault(sc.label, 0)
                if sc.clock_offset_s(t):
                    shaped[sc.label] = shaped.get(sc.label, 0) + len(readings)
        self.seq += 1
        body = {"seq": self.seq, "ts": rfc3339_local(batch_ms, CHINA_TZ), "readings": readings}
        labels = tuple(shaped.items())
        msgs = [
            Message(
                self.telemetry_topic,
                orjson.dumps(body),
                qos=self.qos,
                readings=len(readings),
                seq=self.seq,
                sim_t=t,
                scenarios=labels,
                defects=tuple(defects.kinds),
            )
        ]
        only_labels = tuple((lbl, 0) for lbl, _ in labels)
        for kind in defects.extra_kinds:
            topic, payload = self._bad_message(kind, t, batch_ms)
            msgs.append(
                Message(topic, payload, qos=self.qos, sim_t=t, scenarios=only_labels,
                        defects=(kind,))
            )
        return msgs

    def _bad_message(self, kind: str, t: float, batch_ms: int) -> tuple[str, bytes]:
        ts = rfc3339_local(batch_ms, CHINA_TZ)
        tags = [s.spec.tag for s in self.plant.sensors] or ["X"]
        good = {"tag": tags[0], "value": 1.0}
        topic = self.telemetry_topic
        if kind == "not_json":
            return topic, b'{"ts": "' + ts.encode() + b'", "readings": [{"tag": '
        if kind == "not_utf8":
            return topic, b'{"ts": "\xff\xfe\xfa", "readings": []}'
        if kind == "not_object":
            return topic, orjson.dumps([good])
        if kind == "readings_not_list":
            return topic, orjson.dumps({"ts": ts, "readings": good})
        if kind == "too_large":
            pad = "x" * (MAX_BATCH_BYTES + 1024)
            return topic, orjson.dumps({"ts": ts, "readings": [good], "note": pad})
        if kind == "too_many_readings":
            many = [{"tag": tags[i % len(tags)], "value": 1.0} for i in range(MAX_READINGS + 1)]
            return topic, orjson.dumps({"ts": ts, "readings": many})
        if kind == "bad_batch_ts":
            return topic, orjson.dumps({"ts": "yesterday at noon", "readings": [good]})
        if kind == "wrong_topic":
            wrong = topic.removesuffix("/telemetry") + "/telemtry"
            return wrong, orjson.dumps({"ts": ts, "readings": [good]})
        if kind == "non_finite":
            return topic, (
                b'{"ts": "' + ts.encode() + b'", "readings": [{"tag": "'
                + tags[0].encode() + b'", "value": 1e999}]}'
            )
        if kind == "empty":
            return topic, b""
        raise ValueError(f"unknown bad batch kind {kind!r}")


def _as_backlog(m: Message) -> Message:
    return replace(m, backlog=True)
