"""Preparing the embedding graph once (see `embeddings._session`): optimise the packaged int8 graph, then
quantise it dynamically.

It runs in a child process (`python -m safedesk.knowledge._graph_prep MODEL TARGET`): optimising and
quantising briefly takes about 500 MB, and a serving process that did it itself would keep that as its peak
(and part of it as resident memory) for its whole life. A lock file makes several workers starting together
on a fresh machine prepare it once, not once each.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

CHILD_TIMEOUT_S = 900


def _quiet_quantiser(record: logging.LogRecord) -> bool:
    return "pre-processing before quantization" not in record.getMessage()


def prepare_graph(model_path: Path, target: Path) -> None:
    """Optimise the packaged graph (float), then quantise it dynamically into `target` (atomically)."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        optimised = Path(tmp) / "optimised.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimised)
        options.log_severity_level = 3
        ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
        quantised = Path(tmp) / "quantised.onnx"
        root = logging.getLogger()
        root.addFilter(_quiet_quantiser)  # its generic advice to pre-process is noise for a user
        try:
            quantize_dynamic(str(optimised), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.removeFilter(_quiet_quantiser)
        os.replace(quantised, target)


def prepare_in_child(model_path: Path, target: Path) -> None:
    """`prepare_graph` in a child process; in this one if the child cannot run or fails."""
    cmd = [sys.executable, "-m", __name__, str(model_path), str(target)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=CHILD_TIMEOUT_S)
        if target.is_file():
            return
        reason = "it wrote no graph"
    except (OSError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        reason = f"{exc}: {stderr.decode('utf-8', 'replace')[-300:]}".strip()
    log.warning("preparing the embedding graph in a child process failed (%s); preparing it here", reason)
    prepare_graph(model_path, target)


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if missing) for the block; OSError if it cannot be."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


if __name__ == "__main__":
    prepare_graph(Path(sys.argv[1]), Path(sys.argv[2]))
