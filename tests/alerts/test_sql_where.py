"""The WHERE builder (hazmon.alerts.sql.Where) behind AlarmFilter and WarningFilter: the
clauses it writes, and the rows they select on SQLite and a real PostgreSQL."""

from __future__ import annotations

from enum import StrEnum

import pytest

from hazmon.alerts.sql import Where, connect
from hazmon.alerts.store import AlarmFilter
from hazmon.warnings.store import WarningFilter


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


ROWS = [  # id, region, colour, n, flag, ts
    (1, "320921", "red", 1, 1, 100),
    (2, "320902", "blue", 2, 0, 200),
    (3, "321002", "red", 3, 1, 300),
    (4, "330100", "blue", 1, 0, 400),
]


def test_no_condition_is_no_clause() -> None:
    w = Where()
    for none in (w.eq, w.flag, w.among):
        none("c", None)
    w.since_until("ts", None, None)
    w.region_prefix(None)
    assert w.sql() == ("", [])


def test_conditions_join_in_order_with_their_parameters() -> None:
    w = Where()
    w.region_prefix("3209")
    w.eq("colour", Colour.RED)
    w.among("n", [1, 3])
    w.flag("flag", True)
    w.since_until("ts", 100, 300)
    assert w.sql() == (" WHERE region LIKE ? AND colour = ? AND n IN (?, ?) AND flag = ?"
                       " AND ts >= ? AND ts < ?", ["3209%", "red", 1, 3, 1, 100, 300])


def test_an_enum_member_is_sent_as_its_value() -> None:
    w = Where()
    w.among("colour", [Colour.RED, Colour.BLUE])
    _, params = w.sql()
    assert params == ["red", "blue"]
    assert all(type(p) is str for p in params)


def test_an_empty_list_matches_nothing() -> None:
    w = Where()
    w.among("n", [])
    assert w.sql() == (" WHERE 1 = 0", [])


@pytest.mark.parametrize("bad", ["", "32%", "3209_", "1234567", "32a"])
def test_a_region_prefix_is_one_to_six_digits_never_a_pattern(bad: str) -> None:
    with pytest.raises(ValueError, match="region prefix must be 1-6 digits"):
        Where().region_prefix(bad)
    with pytest.raises(ValueError, match="region prefix must be 1-6 digits"):
        AlarmFilter(region_prefix=bad).where()
    with pytest.raises(ValueError, match="region prefix must be 1-6 digits"):
        WarningFilter(region_prefix=bad).where()


def test_both_filters_build_their_scope_the_same_way() -> None:
    alarm = AlarmFilter(region_prefix="3209", enterprise="E", hazard_source="H",
                        simulated=True, open=False, since_ms=1, until_ms=2).where()
    warning = WarningFilter(region_prefix="3209", enterprise="E", hazard_source="H",
                            simulated=True, open=False, since_ms=1, until_ms=2).where()
    assert alarm[1] == warning[1] == ["3209%", "E", "H", 0, 1, 1, 2]
    scope = (" WHERE region LIKE ? AND enterprise = ? AND hazard_source = ? AND is_open = ?"
             " AND simulated = ? AND {at} >= ? AND {at} < ?")
    assert alarm[0] == scope.format(at="raised_at")
    assert warning[0] == scope.format(at="opened_at")


async def test_the_clauses_select_the_rows_on_both_engines(db_url: str) -> None:
    db = await connect(db_url)
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (id INTEGER, region TEXT, colour TEXT,"
                             " n INTEGER, flag INTEGER, ts BIGINT)")
            for r in ROWS:
                await tx.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", r)

        async def ids(w: Where) -> list[int]:
            where, params = w.sql()
            return [int(r[0]) for r in await db.fetchall(
                f"SELECT id FROM t{where} ORDER BY id", params)]

        w = Where()
        assert await ids(w) == [1, 2, 3, 4]
        w = Where()
        w.region_prefix("32")
        assert await ids(w) == [1, 2, 3]
        w.region_prefix("3209")
        assert await ids(w) == [1, 2]
        w = Where()
        w.among("colour", [Colour.RED])
        assert await ids(w) == [1, 3]
        w.flag("flag", True)
        w.since_until("ts", 200, None)
        assert await ids(w) == [3]
        w = Where()
        w.eq("colour", Colour.BLUE)
        w.since_until("ts", None, 400)
        assert await ids(w) == [2]
        w = Where()
        w.among("n", [])
        assert await ids(w) == []
        w = Where()
        w.flag("flag", False)
        w.among("n", [1, 2])
        assert await ids(w) == [2, 4]
    finally:
        await db.close()
