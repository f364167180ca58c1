"""The disk spool: durable batches, drained oldest first, across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.ingest.spool import Spool, SpoolFull


def body(n: int, lines: int = 1) -> bytes:
    return b"".join(f"m v={n}.{i} {n}\n".encode() for i in range(lines))


def test_a_new_spool_is_empty(tmp_path: Path) -> None:
    s = Spool(tmp_path / "spool", 10_000)
    assert s.dir.is_dir()
    assert s.empty
    assert (s.files, s.bytes, s.lines) == (0, 0, 0)


def test_append_oldest_remove_in_order_across_many_files(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    bodies = [body(n) for n in range(25)]
    for b in bodies:
        s.append(b, 1)
    assert s.files == 25
    assert s.lines == 25
    assert s.bytes == sum(len(b) for b in bodies)
    assert len(list(tmp_path.glob("*.lp"))) == 25

    got: list[bytes] = []
    while not s.empty:
        chunk = s.oldest(1)
        assert chunk.lines == 1
        assert len(chunk.files) == 1
        got.append(chunk.body)
        s.remove(chunk)
    assert got == bodies
    assert (s.files, s.bytes, s.lines) == (0, 0, 0)
    assert list(tmp_path.iterdir()) == []


def test_numbering_keeps_order_past_nine_and_after_removal(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    for n in range(12):
        s.append(body(n), 1)
    s.remove(s.oldest(5))  # removes 0..4
    for n in range(12, 15):
        s.append(body(n), 1)
    chunk = s.oldest(100)
    assert chunk.body == b"".join(body(n) for n in range(5, 15))
    assert chunk.lines == 10


def test_oldest_groups_files_up_to_max_lines(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    s.append(body(0, 3), 3)
    s.append(body(1, 4), 4)
    s.append(body(2, 2), 2)
    s.append(body(3, 5), 5)

    chunk = s.oldest(7)  # 3 + 4 fit, + 2 would not
    assert chunk.lines == 7
    assert len(chunk.files) == 2
    assert chunk.body == body(0, 3) + body(1, 4)

    assert s.oldest(9).lines == 9  # exactly fits three files
    assert s.oldest(100).lines == 14
    assert s.oldest(100).body == body(0, 3) + body(1, 4) + body(2, 2) + body(3, 5)


def test_oldest_takes_at_least_one_file(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    s.append(body(0, 10), 10)
    s.append(body(1, 1), 1)
    chunk = s.oldest(2)
    assert chunk.lines == 10
    assert chunk.body == body(0, 10)
    assert len(chunk.files) == 1


def test_oldest_does_not_remove(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    s.append(body(0), 1)
    assert s.oldest(10) == s.oldest(10)
    assert s.files == 1


def test_remove_only_the_chunk(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    for n in range(4):
        s.append(body(n, 2), 2)
    first = s.oldest(4)
    s.append(body(9, 1), 1)  # arrives while the chunk is being written
    s.remove(first)
    assert s.files == 3
    assert s.lines == 5
    assert s.bytes == 2 * len(body(0, 2)) + len(body(9))
    assert all(not f.exists() for f in first.files)
    assert s.oldest(100).body == body(2, 2) + body(3, 2) + body(9, 1)


def test_remove_tolerates_files_already_gone(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    s.append(body(0), 1)
    chunk = s.oldest(1)
    chunk.files[0].unlink()
    s.remove(chunk)
    assert s.empty
    assert s.bytes == 0
    assert s.lines == 0


def test_a_new_spool_on_the_same_dir_sees_the_same_files(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    bodies = [body(n, n + 1) for n in range(5)]
    for n, b in enumerate(bodies):
        s.append(b, n + 1)
    s.remove(s.oldest(1))  # body 0 gone

    again = Spool(tmp_path, 1_000_000)
    assert again.files == 4
    assert again.lines == 2 + 3 + 4 + 5  # counted from the newlines in the files
    assert again.bytes == sum(len(b) for b in bodies[1:])
    assert again.oldest(1000).body == b"".join(bodies[1:])

    # new files are numbered after the old ones
    again.append(body(99), 1)
    assert again.oldest(1000).body == b"".join(bodies[1:]) + body(99)
    third = Spool(tmp_path, 1_000_000)
    assert third.oldest(1000).body == b"".join(bodies[1:]) + body(99)


def test_leftover_tmp_files_are_removed_at_open(tmp_path: Path) -> None:
    s = Spool(tmp_path, 1_000_000)
    s.append(body(0), 1)
    half = tmp_path / f"{2:020d}.tmp"
    half.write_bytes(b"m v=1 1\nm v=")  # a crash during the write
    other = tmp_path / "x.tmp"
    other.write_bytes(b"junk")

    again = Spool(tmp_path, 1_000_000)
    assert not half.exists()
    assert not other.exists()
    assert again.files == 1
    assert again.oldest(100).body == body(0)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".lp"]


def test_spool_full_at_max_bytes(tmp_path: Path) -> None:
    b = b"x" * 100
    s = Spool(tmp_path, 250)
    s.append(b, 1)
    s.append(b, 1)
    with pytest.raises(SpoolFull):
        s.append(b, 1)
    assert s.files == 2
    assert s.bytes == 200
    assert len(list(tmp_path.iterdir())) == 2

    s.append(b"y" * 50, 1)  # exactly at the limit is allowed
    assert s.bytes == 250
    with pytest.raises(SpoolFull):
        s.append(b"z", 1)

    s.remove(s.oldest(1))  # space again
    s.append(b"z" * 100, 1)
    assert s.bytes == 250
    assert s.oldest(100).body == b + b"y" * 50 + b"z" * 100


def test_spool_full_counts_bytes_found_at_open(tmp_path: Path) -> None:
    Spool(tmp_path, 1_000).append(b"x" * 200, 1)
    small = Spool(tmp_path, 250)
    with pytest.raises(SpoolFull):
        small.append(b"y" * 51, 1)
