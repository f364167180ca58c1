"""The `hazmon` command line."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from hazmon.domain.registry import RegistryError, load_registry
from hazmon.service.logs import setup_logging
from hazmon.service.settings import load_settings


def _cmd_run(args: argparse.Namespace) -> int:
    from hazmon.service.app import Service

    settings = load_settings(args.config)
    setup_logging(settings.log_level)

    async def main() -> None:
        service = Service(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, service.stop)
        await service.run()

    try:
        asyncio.run(main())
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 2
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hazmon", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the service (ingest, rules, alarms, API)")
    run.add_argument("--config", type=Path, help="settings YAML file (else HAZMON_CONFIG)")
    run.set_defaults(func=_cmd_run)
    chk = sub.add_parser("check-registry", help="validate a registry file and show tiers")
    chk.add_argument("file", type=Path)
    chk.set_defaults(func=_cmd_check_registry)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
