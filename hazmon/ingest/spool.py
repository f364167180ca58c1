"""The disk spool: readings that could not reach InfluxDB wait here, in order.

Each batch is one file, written to a temporary name, fsynced and renamed, so a crash
leaves either the whole batch or nothing. Files are numbered; draining takes the lowest
numbers first, which keeps the original order.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".lp"


class SpoolFull(Exception):  # noqa: N818 - a state the sink waits out
    pass


@dataclass(frozen=True, slots=True)
class Chunk:
    files: tuple[Path, ...]
    body: bytes
    lines: int


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.dir.glob("*.tmp"):  # half-written by a crash: never acknowledged
            tmp.unlink()
        self._files: list[tuple[int, Path, int, int]] = []  # (number, path, bytes, lines)
        for p in sorted(self.dir.glob(f"*{SUFFIX}")):
            data = p.read_bytes()
            self._files.append((int(p.stem), p, len(data), data.count(b"\n")))
        self._files.sort()
        self._next = self._files[-1][0] + 1 if self._files else 1
        self.bytes = sum(f[2] for f in self._files)
        self.lines = sum(f[3] for f in self._files)
        if self._files:
            log.info("spool %s holds %d readings in %d files from before", self.dir,
                     self.lines, len(self._files))

    @property
    def empty(self) -> bool:
        return not self._files

    @property
    def files(self) -> int:
        return len(self._files)

    def append(self, body: bytes, lines: int) -> None:
        """Write one batch durably (blocking: call from a worker thread)."""
        if self.bytes + len(body) > self.max_bytes:
            raise SpoolFull(f"spool {self.dir} would exceed {self.max_bytes} bytes")
        n = self._next
        self._next += 1
        path = self.dir / f"{n:020d}{SUFFIX}"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.rename(path)
        dfd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self._files.append((n, path, len(body), lines))
        self.bytes += len(body)
        self.lines += lines

    def oldest(self, max_lines: int) -> Chunk:
        """The oldest files, together up to about max_lines (at least one file)."""
        files: list[Path] = []
        parts: list[bytes] = []
        lines = 0
        for _, path, _, n in self._files:
            if files and lines + n > max_lines:
                break
            parts.append(path.read_bytes())
            files.append(path)
            lines += n
        return Chunk(tuple(files), b"".join(parts), lines)

    def remove(self, chunk: Chunk) -> None:
        done = set(chunk.files)
        kept = []
        for entry in self._files:
            if entry[1] in done:
                entry[1].unlink(missing_ok=True)
                self.bytes -= entry[2]
                self.lines -= entry[3]
            else:
                kept.append(entry)
        self._files = kept
