"""Compile hazmon's hot modules with mypyc, in place, next to their .py files.

    .venv/bin/python scripts/build_native.py          # build (needs gcc and python3-dev)
    .venv/bin/python scripts/build_native.py --clean  # remove the built files: pure Python

The .py files stay the source and the fallback: Python imports a module's extension
(`window.cpython-311-x86_64-linux-gnu.so`) in preference to its .py when both are there,
and the .py when there is none. Built files are never committed (.gitignore), and a
changed .py needs a rebuild: `bootstrap.sh` rebuilds when any of these sources changed,
and tests/rules/test_native.py fails while a build is stale (it would shadow the edit).
The modules are those where the CPU per reading goes and that have no monkeypatching
seam a test relies on; see docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = (
    "hazmon/rules/window.py",
    "hazmon/rules/fits.py",
    "hazmon/rules/change.py",
    "hazmon/rules/kind.py",
    "hazmon/rules/health.py",
    "hazmon/rules/threshold.py",
    "hazmon/rules/gateway.py",
    "hazmon/rules/rate.py",
    "hazmon/rules/trend.py",
    "hazmon/rules/voting.py",
    "hazmon/rules/sensor.py",
    "hazmon/rules/engine.py",
)
GROUP = "hazmon.rules._native"  # shared runtime: hazmon/rules/_native__mypyc.*.so (its layer)
STAMP = ROOT / "hazmon" / "_native.sha256"  # the sources the built files were built from


def built_files() -> list[Path]:
    """Every extension under hazmon/ (all are this script's: hazmon has no other C),
    so that a module dropped from MODULES loses its stale build too."""
    return sorted((ROOT / "hazmon").rglob("*.so"))


def sources_hash() -> str:
    h = hashlib.sha256()
    for m in MODULES:
        h.update(m.encode())
        h.update((ROOT / m).read_bytes())
    return h.hexdigest()


def clean() -> None:
    for p in built_files():
        p.unlink()
    STAMP.unlink(missing_ok=True)


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import Distribution  # type: ignore[import-untyped]

    os.chdir(ROOT)  # mypycify takes paths relative to the package root
    clean()
    with tempfile.TemporaryDirectory(prefix="hazmon-mypyc-") as tmp:
        exts = mypycify(list(MODULES), opt_level="3", group_name=GROUP,
                        target_dir=str(Path(tmp) / "c"))
        dist = Distribution({"name": "hazmon-native", "ext_modules": exts})
        cmd = dist.get_command_obj("build_ext")
        cmd.inplace = True
        cmd.build_temp = str(Path(tmp) / "temp")
        cmd.ensure_finalized()
        cmd.run()
    STAMP.write_text(sources_hash() + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clean", action="store_true", help="remove the compiled modules")
    p.add_argument("--hash", action="store_true", help="print the sources' hash and exit")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when built files exist and their sources have changed since")
    args = p.parse_args(argv)
    if args.hash:
        print(sources_hash())
    elif args.clean:
        clean()
    elif args.check:
        stale = STAMP.exists() and STAMP.read_text().strip() != sources_hash()
        return 1 if stale or (built_files() and not STAMP.exists()) else 0
    else:
        build()
        print(f"compiled: {', '.join(str(p.relative_to(ROOT)) for p in built_files())}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
