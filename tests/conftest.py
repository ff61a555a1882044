"""Shared fixtures for the whole test suite.

- `demo_dir` (session): the demo business directory, as `safedesk init --demo` makes it. Shared by
  every test: do not write to it. Tests that need their own state use `fresh_demo_dir`.
- `fresh_demo_dir`: a private copy of `demo_dir` for one test (without any database).
- `desk`: `Desk.open` on a `fresh_demo_dir`, closed after the test.
- `app_server`: a function; `with app_server(app) as base_url:` runs an ASGI app under a real
  uvicorn server on a free localhost port, in a background thread.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_DATABASE_FILES = shutil.ignore_patterns("*.db", "*.db-wal", "*.db-shm", "*.db-journal")


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo business directory, created once per session. Treat it as read-only."""
    from safedesk.scaffold import init_project

    root = init_project(tmp_path_factory.mktemp("demo") / "shop", demo=True)
    _warm_knowledge_cache(root)
    return root


def _warm_knowledge_cache(root: Path) -> None:
    """Embed the knowledge once (data/cache), so every copy opens in a fraction of a second instead
    of several seconds. An optimisation only: if it fails, the tests that open a desk will say why."""
    try:
        from safedesk.config import Project
        from safedesk.knowledge.base import KnowledgeBase, default_embedder

        project = Project.load(root)
        KnowledgeBase.load(project.knowledge_dir, project.data_dir / "cache", embedder=default_embedder())
    except Exception:  # noqa: S110 - see the docstring
        pass


@pytest.fixture
def fast_argon2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for the staff tests' speed, except in a test that asks for `real_argon2`."""
    if "real_argon2" in request.fixturenames:
        return
    from argon2 import PasswordHasher

    from safedesk.staff import accounts

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", fast)
    dummy = fast.hash("dummy")
    monkeypatch.setattr(accounts, "_dummy_hash", lambda: dummy)


def copy_project(source: Path, target: Path) -> Path:
    """Copy a business directory (knowledge, config, keys, caches) without its database."""
    shutil.copytree(source, target, ignore=_DATABASE_FILES)
    return target


@pytest.fixture
def fresh_demo_dir(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo directory for one test."""
    return copy_project(demo_dir, tmp_path / "shop")


@pytest.fixture
def desk(fresh_demo_dir: Path) -> Iterator[Any]:
    """An open desk on a private copy of the demo business."""
    from safedesk.desk import Desk

    opened = Desk.open(fresh_demo_dir)
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 20.0) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1 (free port) in a thread; yield its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def app_server() -> Any:
    """`with app_server(app) as base_url: ...` serves `app` over real HTTP for the block."""
    return serve_app
