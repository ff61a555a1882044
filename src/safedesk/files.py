"""Small file helpers shared by the stores and caches: atomic writes, and SafeDesk's cache directory."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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
