"""Preparing the embedding graph once (see `knowledge.embeddings._session`): optimise the packaged int8
graph, then quantise it dynamically.

It runs in a child process (`python -P -m safedesk.graph_prep MODEL TARGET WORKDIR`): optimising and
quantising briefly takes about 500 MB, and a serving process that did it itself would keep that as its
peak (and part of it as resident memory) for its whole life. The parent owns the child's scratch folder and
removes it even when the child is killed (timeout, out of memory). Where no child can be started (no
`sys.executable`, a frozen app) it runs in this process.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

CHILD_TIMEOUT_S = 300  # it takes a few seconds; a child still busy after this is stuck


def _quiet_quantiser(record: logging.LogRecord) -> bool:
    return "pre-processing before quantization" not in record.getMessage()


def prepare_graph(model_path: Path, target: Path, workdir: Path | None = None) -> None:
    """Optimise the packaged graph (float), then quantise it dynamically into `target` (atomically). The
    intermediate files go to `workdir` (the caller removes it), else to a temporary folder beside `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if workdir is None:
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            _prepare(model_path, target, Path(tmp))
    else:
        _prepare(model_path, target, workdir)


def _prepare(model_path: Path, target: Path, workdir: Path) -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    optimised = workdir / "optimised.onnx"
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(optimised)
    options.log_severity_level = 3
    ort.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    quantised = workdir / "quantised.onnx"
    root = logging.getLogger()
    root.addFilter(_quiet_quantiser)  # its generic advice to pre-process is noise for a user
    try:
        quantize_dynamic(str(optimised), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.removeFilter(_quiet_quantiser)
    os.replace(quantised, target)


def prepare_in_child(model_path: Path, target: Path) -> None:
    """`prepare_graph` in a child process; in this one if no child can run or the child fails."""
    if not sys.executable or getattr(sys, "frozen", False):
        prepare_graph(model_path, target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=target.parent, prefix=".prepare-"))
    # -P: the working directory does not go on sys.path (nothing there can shadow a module)
    cmd = [sys.executable, "-P", "-m", __name__, str(model_path), str(target), str(workdir)]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=CHILD_TIMEOUT_S, cwd=workdir)
        if target.is_file():
            return
        reason = "it wrote no graph"
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        reason = f"{exc} {stderr.decode('utf-8', 'replace')[-300:]}".strip()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log.warning("preparing the embedding graph in a child process failed (%s); preparing it here", reason)
    prepare_graph(model_path, target)


if __name__ == "__main__":
    prepare_graph(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
