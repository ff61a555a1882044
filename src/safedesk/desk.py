"""The composition root: build a business's desk (storage, knowledge, guards, responder, pipeline)
from its directory. The CLI, the web app and the tests all open a desk through `Desk.open`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from safedesk.canaries import all_tokens, load_or_create_canaries
from safedesk.config import DeskConfig, GuardSpec, Project
from safedesk.domain import Stage
from safedesk.errors import ConfigError
from safedesk.guards.base import Guard, build_guard
from safedesk.knowledge.base import KnowledgeBase, default_embedder
from safedesk.knowledge.business_facts import with_business_facts
from safedesk.pipeline import TurnPipeline
from safedesk.responders.approved import ApprovedAnswerResponder
from safedesk.responders.base import Responder
from safedesk.storage.db import Database
from safedesk.vault import Vault
from safedesk.verification import build_verification_desk


def build_guards(specs: list[GuardSpec], stage: Stage, project_dir: Path | None) -> list[Guard]:
    guards = []
    for spec in specs:
        guard = build_guard(spec.type, spec.name, spec.options, project_dir)
        if guard.stage is not stage:
            raise ConfigError(
                f"guard {spec.name!r} ({spec.type}) runs on {guard.stage.value} text, "
                f"but is listed under guards.{stage.value}"
            )
        guards.append(guard)
    return guards


def build_responder(config: DeskConfig, llm_url: str | None) -> Responder:
    approved = ApprovedAnswerResponder(
        min_confidence=config.responder.min_confidence,
        max_sources=config.responder.max_sources,
        embedder=default_embedder(),
    )
    if llm_url is None and config.responder.kind == "approved":
        return approved
    from safedesk.responders.openai_compat import OpenAICompatResponder

    settings = config.responder.openai
    if llm_url is not None:
        settings = settings.model_copy(update={"base_url": llm_url})
    return OpenAICompatResponder(settings, fallback=approved)


@dataclass
class Desk:
    project: Project
    db: Database
    vault: Vault
    knowledge: KnowledgeBase
    pipeline: TurnPipeline

    @property
    def config(self) -> DeskConfig:
        return self.project.config

    @classmethod
    def open(
        cls,
        project_dir: Path | str,
        *,
        llm_url: str | None = None,
        database_url: str | None = None,
        warm_up: bool = True,
    ) -> Desk:
        project = Project.load(project_dir)
        if database_url:
            project = Project(
                project.root,
                project.config.model_copy(
                    update={"storage": project.config.storage.model_copy(update={"url": database_url})}
                ),
            )
        config = project.config
        vault = Vault.of_project(project.data_dir)
        db = Database(project.database_url)
        knowledge = KnowledgeBase.load(
            project.knowledge_dir,
            project.data_dir / "cache",
            embedder=default_embedder(),
            canary_dir=project.data_dir,
            supplement=partial(with_business_facts, business=config.business),
        )
        verifier = build_verification_desk(project)
        if verifier is not None:  # one canary per customer record too: recognisable if records ever leak
            load_or_create_canaries(project.data_dir, [f"customer:{record.id}" for record in verifier.customers])
        inbound = build_guards(config.guards.inbound, Stage.INBOUND, project.root)
        outbound = build_guards(config.guards.outbound, Stage.OUTBOUND, project.root)
        pipeline = TurnPipeline(
            config=config,
            db=db,
            vault=vault,
            knowledge=knowledge,
            responder=build_responder(config, llm_url),
            inbound=inbound,
            outbound=outbound,
            verifier=verifier,
            canaries=lambda: all_tokens(project.data_dir),
        )
        if warm_up:
            pipeline.warm_up()
        return cls(project, db, vault, knowledge, pipeline)

    def guard(self, name: str) -> Guard | None:
        return next((g for g in self.pipeline.inbound + self.pipeline.outbound if g.name == name), None)

    def close(self) -> None:
        self.pipeline.close()
        self.db.dispose()
