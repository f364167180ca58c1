"""Metrics: Prometheus text exposition format 0.0.4."""

from __future__ import annotations

import pytest

from hazmon.core.metrics import Counter, Gauge, Metrics


def test_counter_without_labels_renders_help_type_and_value() -> None:
    m = Metrics()
    c = m.counter("hazmon_things_total", "Things seen")
    assert m.render() == (
        "# HELP hazmon_things_total Things seen\n"
        "# TYPE hazmon_things_total counter\n"
        "hazmon_things_total 0\n"
    )
    c.inc()
    c.inc(2.5)
    assert c.get() == 3.5
    assert m.render().splitlines()[-1] == "hazmon_things_total 3.5"


def test_counter_with_labels() -> None:
    m = Metrics()
    c = m.counter("hazmon_batches_total", "Batches", ("enterprise", "outcome"))
    assert m.render() == (
        "# HELP hazmon_batches_total Batches\n# TYPE hazmon_batches_total counter\n"
    )  # no series until one is counted
    c.inc(1, "E2", "rejected")
    c.inc(1, "E1", "accepted")
    c.inc(4, "E1", "accepted")
    assert c.get("E1", "accepted") == 5
    assert c.get("E1", "rejected") == 0
    assert c.total() == 6
    assert m.render().splitlines()[2:] == [  # series sorted by label values
        'hazmon_batches_total{enterprise="E1",outcome="accepted"} 5',
        'hazmon_batches_total{enterprise="E2",outcome="rejected"} 1',
    ]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain", "plain"),
        ('say "hi"', 'say \\"hi\\"'),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        ('\\"\n', '\\\\\\"\\n'),
        ("中文 ok", "中文 ok"),
    ],
)
def test_label_values_are_escaped(value: str, escaped: str) -> None:
    m = Metrics()
    m.counter("x_total", "X", ("v",)).inc(1, value)
    assert m.render().splitlines()[2] == f'x_total{{v="{escaped}"}} 1'


def test_values_keep_full_precision_and_integers_stay_plain() -> None:
    m = Metrics()
    g = m.gauge("g", "G", ("k",))
    g.set(1e-9, "a")
    g.set(0.1, "b")
    g.set(12345678901234.0, "c")
    g.set(float("inf"), "d")
    g.set(-2.0, "e")
    samples = dict(line.rsplit(" ", 1) for line in m.render().splitlines()[2:])
    assert float(samples['g{k="a"}']) == 1e-9
    assert float(samples['g{k="b"}']) == 0.1
    assert samples['g{k="c"}'] == "12345678901234"
    assert float(samples['g{k="d"}']) == float("inf")
    assert samples['g{k="e"}'] == "-2"


def test_gauge_set_and_fn() -> None:
    m = Metrics()
    state = {"n": 3}
    m.gauge("hazmon_pending", "Pending readings", fn=lambda: state["n"])
    g = m.gauge("hazmon_level", "Level")
    g.set(7.25)
    assert m.render() == (
        "# HELP hazmon_level Level\n# TYPE hazmon_level gauge\nhazmon_level 7.25\n"
        "# HELP hazmon_pending Pending readings\n# TYPE hazmon_pending gauge\n"
        "hazmon_pending 3\n"
    )
    state["n"] = 11  # the function is read at each render
    assert "hazmon_pending 11\n" in m.render()


def test_metrics_are_rendered_sorted_by_name() -> None:
    m = Metrics()
    m.counter("b_total", "B")
    m.gauge("a", "A")
    m.counter("c_total", "C")
    names = [line.split()[2] for line in m.render().splitlines() if line.startswith("# TYPE")]
    assert names == ["a", "b_total", "c_total"]


def test_same_name_and_kind_is_shared() -> None:
    m = Metrics()
    a = m.counter("x_total", "X")
    b = m.counter("x_total", "X again")
    assert a is b
    a.inc()
    b.inc()
    assert m.render().count("# TYPE x_total counter") == 1
    assert "x_total 2\n" in m.render()


def test_same_name_other_kind_is_refused() -> None:
    m = Metrics()
    m.counter("x", "X")
    with pytest.raises(ValueError, match="already registered as counter"):
        m.gauge("x", "X")


def test_kinds() -> None:
    m = Metrics()
    assert isinstance(m.counter("c_total", "C"), Counter)
    assert isinstance(m.gauge("g", "G"), Gauge)
    assert m.render().endswith("\n")
