"""The skip policy of tests/real_parts.py, run on a tiny suite of its own (pytester)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import pytest
from tests.real_parts import missing

def test_runs():
    pass

@pytest.mark.skipif(True, reason=missing("Chromium", "apt-get install chromium"))
def test_needs_a_browser():
    pass

def test_needs_postgres():
    pytest.skip(missing("PostgreSQL server binaries", "apt-get install postgresql"))

def test_skipped_for_another_reason():
    pytest.skip("not on this platform")
'''

WHOLE_MODULE = '''
import pytest
from tests.real_parts import missing
pytest.importorskip("no_such_module_here", reason=missing("schemathesis", "pip install x"))

def test_never_collected():
    pass
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest('pytest_plugins = ["tests.real_parts"]')
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-W", "ignore::pytest.PytestAssertRewriteWarning",
                              "-o", "asyncio_default_fixture_loop_scope=function", *args)


def test_under_ci_a_missing_real_part_fails_and_names_the_install(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(suite, "-rfE")
    # a skip mark acts at setup: its failure is reported as an error of the test
    result.assert_outcomes(passed=1, failed=1, errors=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*real parts not exercised*",
        "Chromium (install: apt-get install chromium): 1 test(s) or module(s) failed (CI=true)",
        "PostgreSQL server binaries (install: apt-get install postgresql): 1 *failed (CI=true)",
    ])
    out = result.stdout.str()
    assert ("ERROR test_suite.py::test_needs_a_browser - CI=true and a real part is missing, "
            "so this test did not run: Chromium (install: apt-get install chromium)") in out
    assert ("FAILED test_suite.py::test_needs_postgres - CI=true and a real part is missing, "
            "so this test did not run: PostgreSQL server binaries "
            "(install: apt-get install postgresql)") in out
    assert "test_skipped_for_another_reason" not in out  # an ordinary skip stays a skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_module_skipped_whole_is_caught_at_collection(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.real_parts"]')
    pytester.makepyfile(test_whole_module=WHOLE_MODULE)
    monkeypatch.setenv("CI", "true")
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*schemathesis (install: pip install x)*"])
    assert result.ret != pytest.ExitCode.OK
    monkeypatch.delenv("CI")
    result = run(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["schemathesis (install: pip install x): 1 *skipped"])


def test_locally_it_stays_a_skip_and_the_summary_says_what_was_not_exercised(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    result = run(suite)
    result.assert_outcomes(passed=1, skipped=3)
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*real parts not exercised*",
        "Chromium (install: apt-get install chromium): 1 test(s) or module(s) skipped",
        "PostgreSQL server binaries (install: apt-get install postgresql): 1 *skipped",
    ])
    assert "not on this platform" not in result.stdout.str().split("real parts")[-1]


def test_ci_false_is_local(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    run(suite).assert_outcomes(passed=1, skipped=3)


def test_a_suite_with_every_part_present_prints_no_such_section(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makeconftest('pytest_plugins = ["tests.real_parts"]')
    pytester.makepyfile("def test_ok():\n    pass\n")
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert "real parts not exercised" not in result.stdout.str()
