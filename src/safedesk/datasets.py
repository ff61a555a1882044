"""Where the public, labelled development data lives (../shared/data, not in this repository)."""

from __future__ import annotations

import os
from pathlib import Path

from safedesk.errors import UserError

_ENV = "SAFEDESK_SHARED_DATA"


def shared_data_dir() -> Path:
    """$SAFEDESK_SHARED_DATA, else ../shared/data beside the checkout, else /work/shared/data."""
    candidates = []
    if os.environ.get(_ENV):
        candidates.append(Path(os.environ[_ENV]))
    repo = Path(__file__).resolve().parents[2]
    candidates += [repo.parent / "shared" / "data", Path("/work/shared/data")]
    for path in candidates:
        if (path / "README.md").is_file():
            return path
    raise UserError(f"shared data not found (looked in {', '.join(map(str, candidates))}); set {_ENV}")


def has_shared_data() -> bool:
    try:
        shared_data_dir()
    except UserError:
        return False
    return True
