"""The owners' knowledge page: list the files with their access labels, upload or edit a Markdown file
(front matter validated, safe names only, written atomically inside knowledge/), re-ingest."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safedesk.domain import Access
from safedesk.errors import ConfigError, UserError
from safedesk.files import atomic_write
from safedesk.knowledge.ingest import (
    SUPPORTED_SUFFIXES,
    UNLABELLED_HINT,
    check_meta_keys,
    markdown_has_text,
    parse_access,
    split_front_matter,
)

# A file name staff may create or edit: a plain Markdown file directly in knowledge/.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}\.md$")
MAX_FILE_BYTES = 256 * 1024


class KnowledgeFileError(UserError):
    """An upload or edit refused: unsafe name, bad front matter, not UTF-8, too big."""


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    name: str
    title: str
    access: str
    chunks: int
    size: int
    modified: datetime | None
    editable: bool
    loaded: bool  # False: on disk but not (yet) in the loaded knowledge


def list_files(knowledge: Any, knowledge_dir: Path) -> list[KnowledgeFile]:
    """Files on disk and in the loaded knowledge, with labels and chunk counts."""
    counts: Counter[str] = Counter()
    meta: dict[str, tuple[str, str]] = {}
    for chunk in getattr(knowledge, "chunks", ()) or ():
        counts[chunk.source] += 1
        meta.setdefault(chunk.source, (chunk.title, chunk.access.value))
    names = set(meta)
    if knowledge_dir.is_dir():
        for path in knowledge_dir.rglob("*"):
            rel = path.relative_to(knowledge_dir)
            if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                if path.suffix.lower() in SUPPORTED_SUFFIXES:
                    names.add(rel.as_posix())
    files = []
    for name in sorted(names):
        path = knowledge_dir / name
        try:
            stat = path.stat()
            size, modified = stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
        except OSError:
            size, modified = 0, None
        title, access = meta.get(name, ("", "?"))
        files.append(
            KnowledgeFile(
                name=name,
                title=title,
                access=access,
                chunks=counts.get(name, 0),
                size=size,
                modified=modified,
                editable=bool(SAFE_NAME.match(name)) and path.is_file() and not path.is_symlink(),
                loaded=name in meta,
            )
        )
    return files


def safe_path(knowledge_dir: Path, name: str) -> Path:
    """The path of `name` inside knowledge/, or KnowledgeFileError for anything but a plain .md name."""
    name = (name or "").strip()
    if not SAFE_NAME.match(name):
        raise KnowledgeFileError(
            f"Refused file name {name[:100]!r}: use letters, digits, '-' or '_' and end in .md "
            "(no folders, no leading dot)."
        )
    base = knowledge_dir.resolve()
    path = base / name
    if path.resolve().parent != base or path.is_symlink():
        raise KnowledgeFileError(f"Refused file name {name!r}: it points outside the knowledge folder.")
    return path


@dataclass(frozen=True, slots=True)
class Checked:
    text: str
    title: str
    access: Access
    warnings: tuple[str, ...]


def validate_markdown(name: str, data: bytes | str) -> Checked:
    """Decode and check a Markdown file as the ingester will read it."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise KnowledgeFileError(f"{name}: too big ({len(data)} bytes; at most {MAX_FILE_BYTES}).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeFileError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    if "\x00" in text:
        raise KnowledgeFileError(f"{name}: contains NUL characters (not a text file).")
    text = text.replace("\r\n", "\n")
    try:
        front, body = split_front_matter(text, name)
        check_meta_keys(front, name)  # refused, as the ingester refuses it: never saved and then not loaded
        access = parse_access(front.get("access"), name)
    except ConfigError as exc:
        raise KnowledgeFileError(str(exc)) from None
    warnings = []
    if front.get("access") in (None, ""):
        warnings.append(f"{name}: {UNLABELLED_HINT}.")
    title = front.get("title")
    if title is not None and not isinstance(title, str | int | float):
        raise KnowledgeFileError(f"{name}: 'title' must be text.")
    if not body.strip() or not markdown_has_text(body):
        raise KnowledgeFileError(
            f"{name}: the file has no text to answer from besides its front matter (only headings, comments or markup)."
        )
    return Checked(text, str(title or ""), access, tuple(warnings))


def read_file(knowledge_dir: Path, name: str) -> str:
    path = safe_path(knowledge_dir, name)
    if not path.is_file():
        raise KnowledgeFileError(f"No file named {name!r}.")
    return path.read_text(encoding="utf-8-sig")


def write_file(knowledge_dir: Path, name: str, checked: Checked, *, replace: bool = True) -> tuple[Path, str]:
    """Write atomically (temp file + rename in the same folder); returns (path, sha256 of the content).
    With `replace=False` the file must not exist yet, checked atomically (a hard link fails on an existing
    name), so two people saving a new page of the same name at once cannot overwrite each other."""
    knowledge_dir.mkdir(parents=True, exist_ok=True)
    path = safe_path(knowledge_dir, name)
    data = checked.text.encode("utf-8")
    if replace:
        atomic_write(path, lambda handle: handle.write(data), mode=0o644, fsync=True)
        return path, hashlib.sha256(data).hexdigest()
    draft = path.with_name(f".{path.name}.new-{os.getpid()}-{threading.get_ident()}")
    try:
        atomic_write(draft, lambda handle: handle.write(data), mode=0o644, fsync=True)
        os.link(draft, path)  # never an empty or half-written file under the real name
    except FileExistsError:
        raise KnowledgeFileError(
            f"A knowledge file named {name} already exists. Edit it, choose another name, or (for an upload) tick "
            "'Replace a file of the same name'."
        ) from None
    finally:
        draft.unlink(missing_ok=True)
    return path, hashlib.sha256(data).hexdigest()
