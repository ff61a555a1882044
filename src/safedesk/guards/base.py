"""The one extension point for guards: a name, a stage, and `check(text, ctx) -> list[Finding]`.

Guards register themselves by type name in `REGISTRY` (built-ins use the same decorator a third
party would); safedesk.yaml names the guards to run and their options. Adding a guard never touches
the pipeline.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import TypeAdapter, ValidationError

from safedesk.domain import Finding, KnowledgeChunk, RetrievedChunk, Stage

if typing.TYPE_CHECKING:
    from safedesk.knowledge.published import PublishedNames


@dataclass(frozen=True, slots=True)
class GuardContext:
    """What a guard may know besides the text it checks."""

    conversation_id: str
    stage: Stage
    business_name: str = ""
    project_dir: Path | None = None
    # Outbound only: the public chunks the draft was built from (grounding), and the customer's
    # own message (so repeating the customer's own words is not a leak).
    sources: tuple[RetrievedChunk, ...] = ()
    customer_text: str = ""
    # Non-public knowledge and planted canaries, for the leakage guard. Never given to a responder.
    protected_chunks: tuple[KnowledgeChunk, ...] = ()
    canaries: tuple[str, ...] = ()
    # Inbound: the names the business published (brands, streets, its own name): no customer's secret.
    published: PublishedNames | None = None
    # The verified customer of this conversation, if any (id from customers.csv).
    verified_customer_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Guard(Protocol):
    name: str  # the configured name: findings carry it
    stage: Stage

    def check(self, text: str, ctx: GuardContext) -> list[Finding]: ...


GuardFactory = Callable[..., Guard]
REGISTRY: dict[str, GuardFactory] = {}


def register(type_name: str) -> Callable[[GuardFactory], GuardFactory]:
    """Class decorator: make a guard buildable from config as `type: <type_name>`."""

    def wrap(factory: GuardFactory) -> GuardFactory:
        if type_name in REGISTRY:
            raise ValueError(f"guard type {type_name!r} registered twice")
        REGISTRY[type_name] = factory
        return factory

    return wrap


def build_guard(type_name: str, name: str, options: Mapping[str, Any], project_dir: Path | None) -> Guard:
    """Build one configured guard. Unknown type names are a configuration error."""
    from safedesk.errors import ConfigError
    from safedesk.guards import load_builtin_guards

    load_builtin_guards()
    try:
        factory = REGISTRY[type_name]
    except KeyError:
        raise ConfigError(f"unknown guard type {type_name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    options = _read_flags(factory, options, f"guard {name!r} ({type_name})")
    try:
        return factory(name=name, project_dir=project_dir, **options)
    except TypeError as exc:
        raise ConfigError(f"guard {name!r} ({type_name}): bad options: {exc}") from None


_BOOL = TypeAdapter(bool)


def read_flag(value: Any) -> bool | None:
    """A true/false option as pydantic reads booleans ("yes", "off", 0 ...); None when it is neither."""
    try:
        return _BOOL.validate_python(value)
    except ValidationError:
        return None


def _read_flags(factory: GuardFactory, options: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Boolean options given as text read as pydantic reads booleans. safedesk.yaml keeps `no`/`off` as
    text (YAML 1.2), and a guard given the text "no" for a flag would take it as true."""
    from safedesk.errors import ConfigError

    try:
        hints = typing.get_type_hints(factory.__init__ if isinstance(factory, type) else factory)
    except (NameError, TypeError):  # annotations we cannot resolve: pass the options on as given
        return dict(options)
    read = dict(options)
    for key, value in options.items():
        if isinstance(value, str) and hints.get(key) in (bool, bool | None):
            if (flag := read_flag(value)) is None:
                raise ConfigError(f"{what}: option {key!r} must be true or false, not {value!r}")
            read[key] = flag
    return read


def option_path(value: str | Path | None, project_dir: Path | None) -> Path | None:
    """A file named in a guard's options: `~` expanded, a relative path taken from the business
    directory (when there is one). None when the option is not set."""
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and project_dir is not None:
        path = Path(project_dir) / path
    return path


def findings_of(findings: Sequence[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]
