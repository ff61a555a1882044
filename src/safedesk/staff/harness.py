"""A light desk for the staff app without guards or models: for tests, the inbox benchmark and demos.

The staff app needs only `db`, `vault`, `config`, `project` and `knowledge` from a desk; a real
`safedesk.desk.Desk` has them all, and so does `LightDesk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedesk.config import BusinessConfig, DeskConfig, Project
from safedesk.storage.db import Database
from safedesk.vault import Vault


@dataclass
class LightDesk:
    project: Project
    db: Database
    vault: Vault
    knowledge: Any

    @property
    def config(self) -> DeskConfig:
        return self.project.config

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        business: str = "Test Shop",
        sample_rate: float = 0.1,
        database_url: str | None = None,
        migrate: bool = True,
    ) -> LightDesk:
        """A desk on `root` (created with a minimal safedesk.yaml when missing)."""
        from safedesk.knowledge.base import KnowledgeBase

        root = Path(root)
        (root / "knowledge").mkdir(parents=True, exist_ok=True)
        config = DeskConfig.model_validate(
            {"business": BusinessConfig(name=business).model_dump(), "review": {"sample_rate": sample_rate}}
        )
        if database_url:
            config = config.model_copy(update={"storage": config.storage.model_copy(update={"url": database_url})})
        project = Project(root.resolve(), config)
        db = Database(project.database_url, run_migrations=migrate)
        vault = Vault.of_project(project.data_dir)
        knowledge = KnowledgeBase.load(project.knowledge_dir, embedder=None)
        return cls(project, db, vault, knowledge)

    def close(self) -> None:
        self.db.dispose()


def staff_app(desk: Any) -> Any:
    """A FastAPI app with only the staff router mounted on `desk`."""
    from fastapi import FastAPI

    from safedesk.staff.routes import mount

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    mount(app, desk)
    return app
