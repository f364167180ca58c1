"""Skips for a missing real part (a server binary, a browser, a package) are not silent.

A test that needs a real PostgreSQL, Chromium, Mosquitto or schemathesis skips through
`missing()`, whose reason carries a fixed prefix. The hooks below find those skips (in
tests and at collection) and:

- under CI (`CI=true`): turn each into a failure naming what to install — a CI run
  that exercised less than the suite claims must not be green;
- locally: leave it a skip, and list at the end of the run which real parts were not
  exercised, so a green run says what it did not test.

A skip with another reason (a plain `pytest.skip`) is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

PREFIX = "real part missing: "
_SEEN = pytest.StashKey[dict[str, list[str]]]()


def missing(what: str, install: str) -> str:
    """The skip reason for a real part not on this machine: `what` it is, how to install."""
    return f"{PREFIX}{what} (install: {install})"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _part(report: pytest.TestReport | pytest.CollectReport) -> str | None:
    """The real part a skipped report is about, or None."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return None
    message = str(report.longrepr[2])
    at = message.find(PREFIX)
    return message[at + len(PREFIX):] if at >= 0 else None


def _judge(config: pytest.Config, report: pytest.TestReport | pytest.CollectReport) -> None:
    part = _part(report)
    if part is None:
        return
    config.stash.setdefault(_SEEN, {}).setdefault(part, []).append(report.nodeid)
    if under_ci():
        report.outcome = "failed"
        report.longrepr = (f"CI=true and a real part is missing, so this test did not run: "
                           f"{part}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _judge(item.config, report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector
                               ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield  # a module skipped as a whole (importorskip) is a collect report
    _judge(collector.config, report)
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    seen = config.stash.get(_SEEN, {})
    if not seen:
        return
    verdict = "failed (CI=true)" if under_ci() else "skipped"
    terminalreporter.section("real parts not exercised", sep="=", yellow=True, bold=True)
    for part, nodeids in sorted(seen.items()):
        terminalreporter.line(f"{part}: {len(nodeids)} test(s) or module(s) {verdict}")
