"""Command-line entry points of the simulators, for the hazmon CLI to mount.

    parser = argparse.ArgumentParser(prog="hazmon")
    sub = parser.add_subparsers(dest="command", required=True)
    add_simulator_commands(sub)
    args = parser.parse_args()
    sys.exit(args.func(args))

Each subcommand sets `func: Callable[[argparse.Namespace], int]` (the exit code).
`run_simulation` is the same simulation as a coroutine, for the demo command.

Broker credentials: `--username` / `--password`, or HAZMON_SIM_USERNAME /
HAZMON_SIM_PASSWORD in the environment (a password on the command line is visible to
every user of the machine in `ps`). For `simulate` the user name may be `{enterprise}`:
each simulated gateway then logs in as its own enterprise code, as the site ACL expects.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from hazmon.simulators.plant import build_plants
from hazmon.simulators.publisher import (
    ENTERPRISE_PLACEHOLDER,
    BrokerRefused,
    Progress,
    ProgressCallback,
    Publisher,
    PublisherConfig,
)
from hazmon.simulators.recording import (
    TOPICS,
    Recorder,
    RecordSummary,
    ReplaySummary,
    replay,
)
from hazmon.simulators.registry_gen import DEFAULT_REGIONS, REGIONS, generate_registry
from hazmon.simulators.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioError,
    bind_scenarios,
    parse_scenario,
)

log = logging.getLogger(__name__)

USERNAME_ENV = "HAZMON_SIM_USERNAME"
PASSWORD_ENV = "HAZMON_SIM_PASSWORD"


class SimulatorError(Exception):
    """A simulation cannot start: bad registry, scenario or option."""


@dataclass(slots=True)
class SimulationResult:
    summary: Progress
    simulated: frozenset[str]  # enterprise codes that were simulated
    registry: dict[str, Any]  # the registry document used
    recording: RecordSummary | None = None
    start: float = 0.0  # simulated start, epoch seconds


def _validate(text: str, source: str) -> None:
    """Check a registry file with the service's own loader, when it is importable."""
    try:
        from hazmon.domain.registry import RegistryError, parse_registry
    except ImportError as exc:  # the domain tables may be absent in a partial checkout
        log.warning("registry not validated (%s)", exc)
        return
    try:
        parse_registry(text, source=source)
    except RegistryError as exc:
        raise SimulatorError(str(exc)) from exc


def load_registry_data(path: str | Path, *, validate: bool = True) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    if validate:
        _validate(text, str(path))
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("enterprises"), list):
        raise SimulatorError(f"{path}: not a registry (no `enterprises:` list)")
    return data


async def run_simulation(
    *,
    registry: str | Path | Mapping[str, Any] | None = None,
    generate: int = 3,
    regions: Sequence[str] = DEFAULT_REGIONS,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 1883,
    rate: float = 1.0,
    readings_per_batch: int | None = None,
    duration_s: float | None = 60.0,
    speed: float = 1.0,
    start: float | None = None,
    scenarios: Sequence[str | Scenario] = (),
    record: str | Path | None = None,
    enterprises: Sequence[str] | None = None,
    on_progress: ProgressCallback | None = None,
    handle_signals: bool = False,
    validate: bool = True,
    on_publisher: Callable[[Publisher], None] | None = None,
    username: str | None = None,
    password: str | None = None,
    passwords: Mapping[str, str] | None = None,
) -> SimulationResult:
    """Simulate the enterprises of `registry` (a file or its data), or `generate` new ones,
    publishing to the broker until `duration_s` simulated seconds have passed.

    Scenarios are specs (`NAME@HAZARD_SOURCE@START_S[...]`, see scenarios.py) or
    Scenario objects. With `record`, everything the broker delivers on the plant topics
    is recorded too (subscribed before the first publish). With `handle_signals`, SIGINT
    and SIGTERM end the run cleanly (each gateway publishes offline). `on_publisher` is
    called with the Publisher before it starts: a test can follow its simulated clock
    (`Publisher.now_s`) or cut a connection with `drop_connection`. `username` may hold
    `{enterprise}` (one account per gateway, with its password from `passwords` when
    there, else `password`); the recorder then cannot share it.
    """
    if registry is None:
        gen = generate_registry(generate, seed, regions)
        data: dict[str, Any] = gen.data
    elif isinstance(registry, str | Path):
        data = load_registry_data(registry, validate=validate)
    else:
        data = dict(registry)
    t0 = float(math.floor(time.time())) if start is None else start
    plants = build_plants(data, seed, enterprises)
    if not plants:
        raise SimulatorError("no enterprise to simulate")
    try:
        parsed = [parse_scenario(s) if isinstance(s, str) else s for s in scenarios]
        bind_scenarios(plants, parsed, t0)
    except ScenarioError as exc:
        raise SimulatorError(str(exc)) from exc
    if record is not None and username is not None and ENTERPRISE_PLACEHOLDER in username:
        raise SimulatorError(
            f"--record needs one account that may read every plant topic, not {username!r}: "
            "record with `hazmon record` under such an account instead")
    cfg = PublisherConfig(
        host=host, port=port, rate=rate, readings_per_batch=readings_per_batch,
        duration_s=duration_s, speed=speed, start=t0, username=username, password=password,
        passwords=dict(passwords or {}),
    )
    publisher = Publisher(plants, cfg, on_progress=on_progress)
    if on_publisher is not None:
        on_publisher(publisher)
    recorder = (Recorder(host, port, record, username=username, password=password)
                if record is not None else None)
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, publisher.stop)
    rec_summary: RecordSummary | None = None
    try:
        async with asyncio.TaskGroup() as tg:
            rec_task = None
            if recorder is not None:
                rec_task = tg.create_task(recorder.run(), name="sim-recorder")
                await recorder.ready.wait()
            summary = await publisher.run()
            if recorder is not None and rec_task is not None:
                await asyncio.sleep(0.5)  # let the last QoS 1 deliveries arrive
                recorder.stop()
                rec_summary = await rec_task
    except* BrokerRefused as group:
        raise SimulatorError(_first(group)) from None
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return SimulationResult(
        summary, frozenset(p.enterprise for p in plants), data, rec_summary, t0
    )


def _first(group: BaseExceptionGroup[Any]) -> str:
    """The message of the first exception in a (nested) task group failure."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return str(exc)


# --- argparse -----------------------------------------------------------------------------


def _broker(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return (host or "127.0.0.1"), int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}") from None


def _add_credentials(p: argparse.ArgumentParser, per_gateway: bool) -> None:
    extra = (" ('{enterprise}': each gateway logs in as its own enterprise code)"
             if per_gateway else "")
    p.add_argument("--username", default=os.environ.get(USERNAME_ENV),
                   help=f"broker user name (default ${USERNAME_ENV}){extra}")
    p.add_argument("--password", default=os.environ.get(PASSWORD_ENV),
                   help=f"broker password (default ${PASSWORD_ENV}: prefer it, a command "
                        "line is visible to other users)")


_PASSWORD_LINE = re.compile(r"([^\s:]+)[\s:]\s*(\S.*)")


def read_password_file(path: Path) -> dict[str, str]:
    """`CODE PASSWORD` (or `CODE:PASSWORD`) lines, as scripts/gateway-accounts.sh prints
    them; blank lines and `#` comments skipped."""
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _PASSWORD_LINE.fullmatch(line)
        if m is None:
            raise SimulatorError(f"{path}:{n}: expected 'CODE PASSWORD'")
        out[m[1]] = m[2]
    return out


def _one_account(command: str, username: str | None) -> None:
    if username is not None and ENTERPRISE_PLACEHOLDER in username:
        raise SimulatorError(f"{command} connects once: give one account, not {username!r}")


def _speed(value: str) -> float:
    if value.lower() in ("max", "inf", "fastest"):
        return math.inf
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'max', got {value!r}") from None
    if not speed > 0:
        raise argparse.ArgumentTypeError("speed must be positive")
    return speed


def _start(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epoch seconds or an ISO time with offset, got {value!r}"
        ) from None
    if dt.tzinfo is None:
        raise argparse.ArgumentTypeError("give the start time with its UTC offset")
    return dt.timestamp()


def _regions(value: str) -> list[str]:
    regions = [r.strip() for r in value.split(",") if r.strip()]
    unknown = [r for r in regions if r not in REGIONS]
    if unknown or not regions:
        raise argparse.ArgumentTypeError(f"unknown regions {unknown}; known: {sorted(REGIONS)}")
    return regions


def _scenario_help() -> str:
    lines = ["scenarios (NAME@HAZARD_SOURCE@START_S[@DURATION_S][@key=value]):"]
    for name, cls in SCENARIOS.items():
        expected = ", ".join(sorted(cls.expected_alarms)) or "depends on offset"
        params = ", ".join(f"{k}={v:g}" for k, v in cls.params.items())
        extra = f"; params {params}" if params else ""
        lines.append(f"  {name} ({', '.join(cls.aliases)}): alarms {expected}{extra}")
    return "\n".join(lines)


def add_simulator_commands(subparsers: Any) -> None:
    """Register `simulate`, `record`, `replay` and `gen-registry` on an argparse
    subparsers object (the result of `parser.add_subparsers()`)."""
    fmt = argparse.RawDescriptionHelpFormatter

    p = subparsers.add_parser(
        "simulate", help="publish simulated plant telemetry to a broker",
        epilog=_scenario_help(), formatter_class=fmt,
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--registry", type=Path, help="registry YAML of the plants to simulate")
    src.add_argument("--generate", type=int, metavar="N", default=3,
                     help="generate N simulated enterprises (default 3)")
    p.add_argument("--regions", type=_regions, default=list(DEFAULT_REGIONS),
                   help="comma-separated region codes for --generate")
    p.add_argument("--write-registry", type=Path, metavar="FILE",
                   help="also write the generated registry here (for the service to load)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rate", type=float, default=1.0,
                   help="batches per simulated second per enterprise (default 1)")
    p.add_argument("--readings-per-batch", type=int, metavar="N",
                   help="readings in each batch (default: one per sensor)")
    p.add_argument("--duration", type=float, default=60.0,
                   help="simulated seconds to run; 0 runs until interrupted (default 60)")
    p.add_argument("--speed", type=_speed, default=1.0,
                   help="simulated seconds per wall second, or 'max' (default 1)")
    p.add_argument("--start", type=_start,
                   help="simulated start: epoch seconds or ISO time with offset (default now)")
    p.add_argument("--scenario", action="append", default=[], metavar="SPEC",
                   help="NAME@HAZARD_SOURCE@START_S[@DURATION_S][@key=value] (repeatable)")
    p.add_argument("--broker", type=_broker, default=("127.0.0.1", 1883), metavar="HOST:PORT")
    p.add_argument("--record", type=Path, metavar="FILE", help="record the feed (.jsonl.gz)")
    p.add_argument("--enterprise", action="append", metavar="CODE",
                   help="simulate only these enterprises of the registry (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    _add_credentials(p, per_gateway=True)
    p.add_argument("--password-file", type=Path, metavar="FILE",
                   help="'CODE PASSWORD' lines: each gateway's own password, with "
                        "--username '{enterprise}' (scripts/gateway-accounts.sh prints them)")
    p.set_defaults(func=_cmd_simulate)

    p = subparsers.add_parser("record", help="record plant telemetry and status to a file")
    p.add_argument("output", type=Path, help="file to write (.jsonl.gz)")
    p.add_argument("--broker", type=_broker, default=("127.0.0.1", 1883), metavar="HOST:PORT")
    p.add_argument("--duration", type=float, help="wall seconds to record (default: until ^C)")
    p.add_argument("--max-messages", type=int, metavar="N")
    p.add_argument("--topic", action="append", metavar="FILTER",
                   help=f"topic filter (repeatable; default {' and '.join(TOPICS)})")
    _add_credentials(p, per_gateway=False)
    p.set_defaults(func=_cmd_record)

    p = subparsers.add_parser("replay", help="replay a recording, keeping relative timing")
    p.add_argument("input", type=Path, help="recording (.jsonl.gz)")
    p.add_argument("--broker", type=_broker, default=("127.0.0.1", 1883), metavar="HOST:PORT")
    p.add_argument("--speed", type=_speed, default=1.0,
                   help="1 = real time, 10 = ten times faster, 'max' = as fast as possible")
    _add_credentials(p, per_gateway=False)
    p.set_defaults(func=_cmd_replay)

    p = subparsers.add_parser("gen-registry", help="write a simulated registry YAML")
    p.add_argument("output", type=Path, help="YAML file to write ('-' for stdout)")
    p.add_argument("--enterprises", "-n", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--regions", type=_regions, default=list(DEFAULT_REGIONS))
    p.add_argument("--gas-default-limits", action="store_true",
                   help="leave gas detector limits out (GB 50493 defaults apply at load)")
    p.set_defaults(func=_cmd_gen_registry)


class _ProgressLine:
    """A one-line progress display on a TTY, redrawn at most a few times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.25:
            return
        self._last = now
        self.stream.write("\r\x1b[K" + p.line())
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _cmd_simulate(args: argparse.Namespace) -> int:
    host, port = args.broker
    registry: Path | dict[str, Any] = args.registry
    if args.registry is None:
        gen = generate_registry(args.generate, args.seed, args.regions)
        registry = gen.data
        if args.write_registry is not None:
            args.write_registry.write_text(gen.yaml_text, encoding="utf-8")
            print(f"registry written to {args.write_registry}", file=sys.stderr)
    progress = _ProgressLine(sys.stderr)
    try:
        passwords = read_password_file(args.password_file) if args.password_file else None
        result = asyncio.run(run_simulation(
            registry=registry, generate=args.generate, regions=args.regions,
            seed=args.seed, host=host, port=port, rate=args.rate,
            readings_per_batch=args.readings_per_batch,
            duration_s=args.duration or None, speed=args.speed, start=args.start,
            scenarios=args.scenario, record=args.record, enterprises=args.enterprise,
            on_progress=None if args.quiet else progress, handle_signals=True,
            username=args.username, password=args.password, passwords=passwords,
        ))
    except (SimulatorError, ValueError, OSError) as exc:
        progress.close()
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    progress.close()
    print(result.summary.report())
    if result.recording is not None:
        print(f"recorded {result.recording.messages:,} messages to {args.record}")
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    host, port = args.broker
    try:
        _one_account("record", args.username)
    except SimulatorError as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    recorder = Recorder(host, port, args.output, topics=args.topic or TOPICS,
                        duration_s=args.duration, max_messages=args.max_messages,
                        username=args.username, password=args.password)

    async def main() -> RecordSummary:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, recorder.stop)
        return await recorder.run()

    try:
        summary = asyncio.run(main())
    except Exception as exc:
        print(f"record: {exc}", file=sys.stderr)
        return 2
    print(f"recorded {summary.messages:,} messages ({summary.bytes:,} bytes) "
          f"in {summary.wall_s:,.1f} s to {args.output}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    host, port = args.broker
    line = _ProgressLine(sys.stderr)

    def progress(s: ReplaySummary) -> None:
        if line.enabled:
            line.stream.write(f"\r\x1b[K{s.messages:,} msgs, {s.recorded_s:,.0f} s of recording")
            line.stream.flush()

    try:
        _one_account("replay", args.username)
        summary = asyncio.run(replay(args.input, host, port, speed=args.speed,
                                     username=args.username, password=args.password,
                                     on_progress=progress))
    except Exception as exc:
        line.close()
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    line.close()
    print(f"replayed {summary.messages:,} messages ({summary.recorded_s:,.1f} s recorded) "
          f"in {summary.wall_s:,.1f} s; worst lag {summary.max_lag_s * 1000:,.0f} ms")
    return 0


def _cmd_gen_registry(args: argparse.Namespace) -> int:
    gen = generate_registry(args.enterprises, args.seed, args.regions,
                            gas_default_limits=args.gas_default_limits)
    if str(args.output) == "-":
        sys.stdout.write(gen.yaml_text)
    else:
        args.output.write_text(gen.yaml_text, encoding="utf-8")
        print(f"wrote {len(gen.simulated)} simulated enterprises to {args.output}",
              file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m hazmon.simulators ...`: the simulator commands on their own."""
    parser = argparse.ArgumentParser(prog="hazmon-sim", description="hazmon plant simulators")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    add_simulator_commands(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    func = args.func
    code: int = func(args)
    return code
