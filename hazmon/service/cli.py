"""The `hazmon` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from hazmon.alerts.audit_cli import add_audit_commands
from hazmon.alerts.notify.channels.secrets import ChannelSecretError
from hazmon.api.openapi import add_openapi_command
from hazmon.api.tokens_cli import add_token_commands, cli_actor
from hazmon.core.clock import wall_ms
from hazmon.domain.registry import RegistryError, load_registry
from hazmon.duties.config import DutiesConfigError, load_duties_config
from hazmon.ingest.accounts.cli import add_gateway_commands
from hazmon.service.logs import setup_logging
from hazmon.service.settings import load_settings
from hazmon.simulators.cli import add_simulator_commands


def _cmd_run(args: argparse.Namespace) -> int:
    from hazmon.service.app import Service

    settings = load_settings(args.config)
    setup_logging(settings.log_level)

    async def main() -> None:
        async with Service.open(settings) as service:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, service.stop)
            await service.until_stopped()

    try:
        asyncio.run(main())
    except (RegistryError, ChannelSecretError, DutiesConfigError) as exc:  # the site must fix it
        print(exc, file=sys.stderr)
        return 2
    return 0


def _cmd_check_duties(args: argparse.Namespace) -> int:
    try:
        cfg = load_duties_config(args.file)
    except DutiesConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    c, rc, p = cfg.commitment, cfg.roll_call, cfg.patrol
    window = c.window_start.strftime("%H:%M") if c.window_start else "any time"
    print(f"{args.file}: commitment by {c.deadline.strftime('%H:%M')} {cfg.timezone} "
          f"(filing from {window}); 包保 technical every {cfg.chain.technical_days} d, "
          f"operational every {cfg.chain.operational_days} d, "
          f"{len(cfg.chain.holidays)} holidays; roll call answered within "
          f"{rc.answer_deadline_s} s, {rc.daily_calls} scheduled a day; patrol "
          f"{p.sample_size} a county a day")
    return 0


def _cmd_check_registry(args: argparse.Namespace) -> int:
    try:
        registry = load_registry(args.file)
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{args.file}: {len(registry.enterprises)} enterprises, "
          f"{len(registry.hazard_sources)} hazard sources, {len(registry.sensors)} sensors")
    for (ent, code), hs in sorted(registry.hazard_sources.items()):
        g = hs.grading
        tier = f"tier {g.tier}" if g.tier is not None else "not major"
        print(f"  {ent} {code} {hs.hazard_source.name}: {tier}, R = {g.r:.1f}, "
              f"Σq/Q = {g.ratio_sum:.2f}")
    for w in registry.warnings:
        print(f"  warning: {w}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from hazmon.service.demo import run_demo

    setup_logging(args.log_level)
    asyncio.run(run_demo(args.workdir, enterprises=args.enterprises, seed=args.seed,
                         http_host=args.host, http_port=args.port))
    return 0


def _alarm_db(args: argparse.Namespace) -> str:
    return load_settings(getattr(args, "config", None)).alarm_db_url


def _audit_gateway_change(args: argparse.Namespace, action: str,
                          payload: dict[str, Any]) -> None:
    """A gateway account change into the audit chain of the settings' alarm database;
    without settings (no --config, no HAZMON_CONFIG) there is no database to name."""
    from hazmon.alerts import AlarmStore, audit

    if getattr(args, "config", None) is None and not os.environ.get("HAZMON_CONFIG"):
        print("not recorded in the audit: no settings (--config or HAZMON_CONFIG) name the "
              "alarm database", file=sys.stderr)
        return

    settings = load_settings(getattr(args, "config", None))
    if settings.alarms.db_url is None:  # the default SQLite file: before the first run too
        settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def main() -> None:
        store = await AlarmStore.open(settings.alarm_db_url)
        try:
            await audit.record(store.db, ts_ms=wall_ms(), actor=cli_actor(), action=action,
                               payload=payload)
        finally:
            await store.close()

    asyncio.run(main())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hazmon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the service (ingest, rules, alarms, API)")
    run.add_argument("--config", type=Path, help="settings YAML file (else HAZMON_CONFIG)")
    run.set_defaults(func=_cmd_run)
    chk = sub.add_parser("check-registry", help="validate a registry file and show tiers")
    chk.add_argument("file", type=Path)
    chk.set_defaults(func=_cmd_check_registry)
    chd = sub.add_parser("check-duties", help="validate the province's duties file")
    chd.add_argument("file", type=Path)
    chd.set_defaults(func=_cmd_check_duties)
    demo = sub.add_parser("demo", help="run broker, InfluxDB, hazmon and simulated plants locally")
    demo.add_argument("--workdir", type=Path, default=Path("var/demo"))
    demo.add_argument("--enterprises", type=int, default=12)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(func=_cmd_demo)
    add_token_commands(sub, default_db=_alarm_db,
                       default_policy=lambda a: load_settings(a.config).http.token_policy())
    add_audit_commands(sub, default_db=_alarm_db)
    add_openapi_command(sub)
    add_gateway_commands(sub, default_registry=lambda a: load_settings(a.config).registry,
                         on_change=_audit_gateway_change)
    add_simulator_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
