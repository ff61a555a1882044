"""Small file helpers shared by the stores and caches: atomic writes, a lock across processes, and
SafeDesk's cache directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def atomic_write(
    path: Path, write: Callable[[BinaryIO], object], *, mode: int | None = None, fsync: bool = False
) -> None:
    """Write `path` through a temporary file in the same folder and a rename, so a reader (another worker)
    sees the old file or the new one, never half of one. `mode` is set before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_dir(name: str) -> Path:
    """A folder of SafeDesk's derived, re-creatable files: $XDG_CACHE_HOME/safedesk/<name>, else
    ~/.cache/safedesk/<name>."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "safedesk" / name


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """An exclusive lock across processes (and threads) on `lock_path`, created if missing, for the block.
    OSError if the lock file cannot be created or locked. Without fcntl (not POSIX) it does not lock."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
