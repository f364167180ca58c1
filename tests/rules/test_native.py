"""The compiled build of the hot modules (scripts/build_native.py), when there is one, is
of the sources as they are: a stale extension would shadow an edit of its .py file."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_compiled_build_is_not_stale() -> None:
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_native.py"),
                            "--check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, "stale compiled modules: run scripts/build_native.py"


def test_the_compiled_modules_are_the_ones_loaded_or_none() -> None:
    names = [Path(m).stem for m in _modules()]
    mods = [importlib.import_module(f"hazmon.rules.{name}") for name in names]
    built = sorted(p.name.split(".")[0] for p in (ROOT / "hazmon" / "rules").glob("*.so")
                   if "__mypyc" not in p.name)  # not the shared runtime library
    loaded = sorted(m.__name__.rsplit(".", 1)[1] for m in mods
                    if (m.__file__ or "").endswith(".so"))
    assert loaded == built
    assert built in ([], sorted(names)), "built all of MODULES together, or none"


def _modules() -> tuple[str, ...]:
    spec = importlib.util.spec_from_file_location("build_native",
                                                  ROOT / "scripts" / "build_native.py")
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    modules: tuple[str, ...] = script.MODULES
    return modules
