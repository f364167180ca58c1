"""`hazmon.rules` imported from its .py files for the length of a `with`, even where a
compiled build (scripts/build_native.py) is there.

For the tests that swap a part of the engine by monkeypatching a module attribute (the
numpy numerics of before, a counting fit): compiled modules call each other directly and
never look those attributes up. Also lets a test run the pure engine beside the compiled
one. Outside the `with`, the modules imported before it are back in place.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import hazmon

PACKAGE = "hazmon.rules"


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


class _SourceFirst(importlib.abc.MetaPathFinder):
    """The .py file of a `hazmon.rules` module where there is one (the default finders
    prefer an extension module next to it)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == PACKAGE or not _ours(fullname):
            return None  # the package's __init__ is never compiled
        leaf = fullname.rsplit(".", 1)[1]
        for folder in path or ():
            source = Path(folder) / f"{leaf}.py"
            if source.is_file():
                return importlib.util.spec_from_file_location(fullname, source)
        return None


@contextmanager
def pure_rules() -> Iterator[ModuleType]:
    """Yield `hazmon.rules` imported afresh from source; `from hazmon.rules import x`
    inside the `with` gives the pure modules."""
    saved = {name: mod for name, mod in sys.modules.items() if _ours(name)}
    for name in saved:
        del sys.modules[name]
    finder = _SourceFirst()
    sys.meta_path.insert(0, finder)
    try:
        package = importlib.import_module(PACKAGE)
        importlib.import_module(PACKAGE + ".engine")
        yield package
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)
        if PACKAGE in saved:
            hazmon.rules = saved[PACKAGE]  # type: ignore[attr-defined]


def is_compiled(module: ModuleType) -> bool:
    return (module.__file__ or "").endswith(".so")
