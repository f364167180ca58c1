"""Rewriting the broker's files safely: whole or not at all, and never readable by all."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# The broker's group (Debian: mosquitto) reads; nobody else. Kept from the existing file.
NEW_FILE_MODE = 0o640


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def atomic_write(path: Path, text: str) -> None:
    """Replace `path` by a complete new file, with the old one's mode and owner.

    Mosquitto may reload at any moment (SIGHUP from another tool): it must see the old
    file or the new one, never half of one.
    """
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    mode = NEW_FILE_MODE if st is None else st.st_mode & 0o777 & ~0o007
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        if st is not None and (st.st_uid != os.getuid() or st.st_gid != os.getgid()):
            with contextlib.suppress(PermissionError):  # not root: the file becomes ours
                os.fchown(fd, st.st_uid, st.st_gid)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise concurrent `hazmon gateway` runs on the same files."""
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
