"""Canary tokens: one unique random marker per non-public knowledge file and per customer record.

The knowledge module plants a file's token into each of its non-public chunks at ingest (`plant`);
customer lookups can carry a record's token the same way. No responder is ever given non-public text,
so a token in a draft means that text reached a model anyway (a misconfigured access label, a
retrieval bug, a prompt that smuggled it in). The leakage guard blocks any draft that contains one,
however it is disguised (see `safedesk.guards.leakage`).

Tokens live in DATA_DIR/canaries.json (mode 0600), keyed by source ("staff-handbook.md",
"customer:C-1001"), and are stable across runs: a source keeps its token until the file is deleted
by hand. Tokens of sources that have disappeared are kept too, so a leak of an old copy is still caught.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from safedesk.files import atomic_write, exclusive_lock

CANARY_FILE = "canaries.json"
PREFIX = "SDC-"
TOKEN_HEX_CHARS = 10  # 40 random bits: unique per desk, never guessed or produced by accident
# Any canary-shaped token, even one not in this desk's list (a stale or foreign file).
TOKEN_RE = re.compile(r"SDC-[0-9a-f]{10}")
# The same, for squashed text (lower-case letters and digits only).
SQUASHED_TOKEN_RE = re.compile(r"sdc[0-9a-f]{10}")
PLANT_LABEL = "Internal reference"


def new_token(taken: Iterable[str] = ()) -> str:
    taken = set(taken)
    while True:
        token = PREFIX + secrets.token_hex(TOKEN_HEX_CHARS // 2)
        if token not in taken:
            return token


def load_or_create_canaries(data_dir: Path, sources: Iterable[str]) -> dict[str, str]:
    """Token per source (a new random one for each source seen for the first time), saved 0600.

    Returns the tokens of the given sources only; `all_tokens` lists every stored token.
    """
    data_dir = Path(data_dir)
    wanted = list(dict.fromkeys(str(s) for s in sources))
    with _locked(data_dir):
        stored = _read(data_dir / CANARY_FILE)
        added = False
        for source in wanted:
            if source not in stored:
                stored[source] = new_token(stored.values())
                added = True
        if added or not (data_dir / CANARY_FILE).exists():
            _write(data_dir / CANARY_FILE, stored)
    return {source: stored[source] for source in wanted}


def read_canaries(data_dir: Path) -> dict[str, str]:
    """Every stored source -> token ({} when none were made yet). For `safedesk kb canaries`."""
    return _read(Path(data_dir) / CANARY_FILE)


_tokens_cache: dict[Path, tuple[float, tuple[str, ...]]] = {}


def all_tokens(data_dir: Path) -> tuple[str, ...]:
    """Every stored token, cached on the file's modification time (cheap to call every turn)."""
    path = Path(data_dir) / CANARY_FILE
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ()
    cached = _tokens_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    tokens = tuple(sorted(set(_read(path).values())))
    _tokens_cache[path] = (mtime, tokens)
    return tokens


def plant(chunk_text: str, token: str) -> str:
    """The chunk's text with a canary line appended (idempotent: a planted text is returned as is)."""
    if token in chunk_text:
        return chunk_text
    return f"{chunk_text.rstrip()}\n\n{PLANT_LABEL}: {token}"


def strip_planted(text: str) -> str:
    """The text without planted canary lines (for showing a non-public chunk to staff)."""
    return re.sub(rf"\n*{re.escape(PLANT_LABEL)}: {TOKEN_RE.pattern}\s*$", "", text)


# ---- storage ---------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, str]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        from safedesk.errors import ConfigError

        raise ConfigError(f"{path}: not valid JSON ({exc.msg}); fix or delete it to make new canaries") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        from safedesk.errors import ConfigError

        raise ConfigError(f"{path}: expected an object of source -> token")
    return dict(data)


def _write(path: Path, data: dict[str, str]) -> None:
    text = json.dumps(dict(sorted(data.items())), indent=2) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")), mode=0o600)


def _locked(data_dir: Path) -> contextlib.AbstractContextManager[None]:
    """An exclusive lock across processes (the web app and the CLI may start at the same time)."""
    return exclusive_lock(data_dir / ".canaries.lock")
