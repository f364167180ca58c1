"""Reading a strict YAML config file (regions, warning policy, duties): every problem found,
each with its place and line, in one error, as the registry reports them.

Each file kind subclasses `ConfigFileError` for its own name; `read_config` and
`parse_config` do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hazmon.domain.registry import YAML_LOADER, LineIndex, Loc, yaml_problem
from hazmon.domain.registry import _pydantic_loc as pydantic_loc
from hazmon.domain.registry import _where as where

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(Exception):
    """The file cannot be used; `problems` lists each one with its place."""

    what: ClassVar[str] = "config"  # "invalid {what} {source}: ..."

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"invalid {self.what} {source}: {len(self.problems)} problem(s)\n{lines}")


def read_config(path: str | Path, error: type[ConfigFileError]) -> tuple[str, str]:
    """The file's text and its name for messages."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), str(p)
    except OSError as exc:
        raise error(str(p), [f"cannot read file: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise error(str(p), [f"file is not UTF-8 (byte {exc.start}): save it as UTF-8"]
                    ) from exc


def parse_config(text: str, source: str, model: type[M], error: type[ConfigFileError], *,
                 empty: Any = None, file_loc: Callable[[tuple[int | str, ...]], Loc]
                 = pydantic_loc) -> tuple[M, Mapping[Loc, int]]:
    """The validated model and the file's line index (for checks after the model's).
    `empty` stands in for an empty file (None: an empty file is an error of the model);
    `file_loc` maps pydantic's error location to the place in the file."""
    try:
        data: Any = yaml.load(text, Loader=YAML_LOADER)  # a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise error(source, [yaml_problem(exc)]) from exc
    lines = LineIndex(text)
    try:
        return model.model_validate(empty if data is None else data), lines
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{where(file_loc(err['loc']), lines)}: {msg}")
        raise error(source, problems) from exc
