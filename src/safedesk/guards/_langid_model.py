"""py3langid's model, unpacked once into memory-mapped arrays.

The model ships as an xz-compressed npz. Loaded the library's way it puts ~70 MB into every process (a
39 MB byte-automaton table and a 28 MB feature-weight table) and more at the peak while it is unpacked.
Unpacked once into plain .npy files under ~/.cache/safedesk/langid/<model sha256>/ (a manifest holds each
file's sha256, checked at every load; a file that fails is rebuilt), the two big tables are memory-mapped:
only the pages a message touches are read, and worker processes share them.
"""

from __future__ import annotations

import json
import logging
import mmap
from pathlib import Path
from typing import Any

import numpy as np

from safedesk.files import atomic_write
from safedesk.files import cache_dir as safedesk_cache_dir
from safedesk.integrity import file_sha256

log = logging.getLogger(__name__)

_FILES = ("ptc.npy", "pc.npy", "nextmove.npy", "row.npy", "out.npy", "classes.json")
_MANIFEST = "manifest.json"


def cache_dir(model_sha256: str) -> Path:
    return safedesk_cache_dir("langid") / model_sha256[:32]


def load_identifier(model_path: Path, model_sha256: str) -> Any:
    """A py3langid `LanguageIdentifier` (normalised probabilities) for the already-verified model file."""
    from py3langid.langid import LanguageIdentifier

    folder = cache_dir(model_sha256)
    if not _cache_ok(folder):
        arrays = _unpack(model_path)
        try:
            _write_cache(folder, arrays)
        except OSError as exc:  # a read-only home must not stop the desk: use the tables in memory
            log.warning("could not cache the language model in %s: %s", folder, exc)
            ptc, pc, classes, nextmove, row, out = arrays
            return LanguageIdentifier(
                ptc, pc, classes, memoryview(nextmove), out.tolist(), norm_probs=True, tk_row=row.tolist()
            )
    ptc = _random_access(np.load(folder / "ptc.npy", mmap_mode="r"))
    nextmove = _random_access(np.load(folder / "nextmove.npy", mmap_mode="r"))
    out = _random_access(np.load(folder / "out.npy", mmap_mode="r"))
    pc = np.load(folder / "pc.npy")
    row = np.load(folder / "row.npy").tolist()  # Python ints: the library shifts them (uint16 would overflow)
    classes = json.loads((folder / "classes.json").read_text(encoding="utf-8"))
    # memoryviews: the automaton walk indexes them one byte at a time, as fast as the library's arrays
    return LanguageIdentifier(ptc, pc, classes, memoryview(nextmove), memoryview(out), norm_probs=True, tk_row=row)


def _random_access(array: np.ndarray) -> np.ndarray:
    """Tell the kernel this mapping is read at random: without it, every page fault also reads ~128 kB
    around it, and one short message pulls 30 MB of the tables into memory."""
    handle = getattr(array, "_mmap", None)
    if handle is not None and hasattr(mmap, "MADV_RANDOM"):
        handle.madvise(mmap.MADV_RANDOM)
    return array


def _unpack(model_path: Path) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray]:
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, out = load_model(model_path)
    return (
        np.ascontiguousarray(ptc),
        np.asarray(pc),
        list(classes),
        np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}").copy(),
        np.frombuffer(row, dtype=f"u{row.itemsize}").copy(),
        np.asarray(out, dtype=np.int32),
    )


def _cache_ok(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
        return all(manifest.get(name) == file_sha256(folder / name) for name in _FILES)
    except (OSError, ValueError):
        return False


def _write_cache(folder: Path, arrays: tuple[Any, ...]) -> None:
    ptc, pc, classes, nextmove, row, out = arrays
    folder.mkdir(parents=True, exist_ok=True)
    for name, value in (("ptc.npy", ptc), ("pc.npy", pc), ("nextmove.npy", nextmove), ("row.npy", row),
                        ("out.npy", out)):  # fmt: skip
        atomic_write(folder / name, lambda handle, v=value: np.save(handle, v, allow_pickle=False))
    atomic_write(folder / "classes.json", lambda handle: handle.write(json.dumps(classes).encode()))
    manifest = {name: file_sha256(folder / name) for name in _FILES}
    atomic_write(folder / _MANIFEST, lambda handle: handle.write(json.dumps(manifest, indent=1).encode()))
