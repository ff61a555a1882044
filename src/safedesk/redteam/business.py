"""What the red team knows about a business: read from its directory, never from the desk under test.

The probes are built from these facts (titles and headings of non-public knowledge, customer names and
order numbers), and the judge recognises leaks by them (canary tokens, non-public text and codes,
customers' contact details). Reading them changes nothing in the directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from safedesk.canaries import PLANT_LABEL, read_canaries, strip_planted
from safedesk.config import Project
from safedesk.customers import CustomerDirectory
from safedesk.domain import KnowledgeChunk
from safedesk.guards._outbound_text import squash
from safedesk.knowledge.ingest import load_knowledge

CUSTOMER_CANARY_PREFIX = "customer:"

# A code worth keeping secret: letters and digits, often hyphenated ("SORRY-NL-15", "VINTERLYS30"),
# or a long grouped number ("3624.51.88120"). Filtered further in `_distinctive_codes`.
_CODE_RE = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])")
_NUMBER_RE = re.compile(r"(?<![\w.])\d[\d. ]{6,}\d(?!\w)(?!\.\d)")


@dataclass(frozen=True, slots=True)
class ProtectedDoc:
    """A non-public knowledge file: what a probe may name, and what must never come back."""

    source: str  # file name relative to knowledge/
    title: str
    access: str  # internal | restricted
    headings: tuple[str, ...]
    text: str  # the file's text (without planted canary lines)
    canary: str | None  # its planted token, when the desk has made one
    codes: tuple[str, ...]  # distinctive codes and numbers that no public page states


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    id: str
    name: str
    email: str
    phone: str  # E.164, "" when none
    national_number: str  # the phone without country code, for matching however it is written
    order_ids: tuple[str, ...]
    canary: str | None

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.id


@dataclass(frozen=True, slots=True)
class Business:
    root: Path
    name: str
    disclosure: str
    languages: tuple[str, ...]
    contact_email: str
    public_chunks: tuple[KnowledgeChunk, ...]
    protected: tuple[ProtectedDoc, ...]
    customers: tuple[CustomerFacts, ...]
    canaries: dict[str, str]  # source -> token, every stored one

    @property
    def public_text(self) -> str:
        return "\n\n".join(c.text for c in self.public_chunks)

    @property
    def public_titles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.title for c in self.public_chunks))

    @property
    def knowledge_canaries(self) -> dict[str, str]:
        return {s: t for s, t in self.canaries.items() if not s.startswith(CUSTOMER_CANARY_PREFIX)}

    def all_tokens(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.canaries.values())))


def load_business(project_dir: Path | str) -> Business:
    """Read a business directory (raises `ProjectNotFound` / `ConfigError` like every command)."""
    project = Project.load(project_dir)
    config = project.config
    chunks = load_knowledge(project.knowledge_dir)
    canaries = read_canaries(project.root / "data")
    public = tuple(c for c in chunks if c.is_public)
    public_squashed = squash("\n".join(c.text for c in public) + "\n" + config.business.contact_email)

    protected: list[ProtectedDoc] = []
    by_source: dict[str, list[KnowledgeChunk]] = {}
    for chunk in chunks:
        if not chunk.is_public:
            by_source.setdefault(chunk.source, []).append(chunk)
    for source, parts in by_source.items():
        title = parts[0].title
        text = "\n\n".join(strip_planted(c.text) for c in parts)
        headings = tuple(
            dict.fromkeys(
                c.heading
                for c in parts
                if c.heading and not c.heading.casefold().startswith(title.casefold()) and c.heading != title
            )
        )
        protected.append(
            ProtectedDoc(
                source=source,
                title=title,
                access=parts[0].access.value,
                headings=headings,
                text=text,
                canary=canaries.get(source),
                codes=_distinctive_codes(text, public_squashed),
            )
        )

    directory = CustomerDirectory.load(project.customers_file, config.business.regions)
    customers = tuple(
        CustomerFacts(
            id=record.id,
            name=record.name,
            email=record.email,
            phone=record.phone,
            national_number=national_number(record.phone),
            order_ids=tuple(o.order_id for o in record.orders),
            canary=canaries.get(f"{CUSTOMER_CANARY_PREFIX}{record.id}"),
        )
        for record in directory
    )
    return Business(
        root=project.root,
        name=config.business.name,
        disclosure=config.disclosure_text(),
        languages=tuple(config.business.languages),
        contact_email=config.business.contact_email,
        public_chunks=public,
        protected=tuple(protected),
        customers=customers,
        canaries=canaries,
    )


def national_number(e164: str) -> str:
    """The phone number without its country code ("+47 912 34 567" -> "91234567")."""
    if not e164:
        return ""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)


def _distinctive_codes(text: str, public_squashed: str) -> tuple[str, ...]:
    """Codes and long numbers in non-public text that no public page states (squashed comparison)."""
    text = text.replace(PLANT_LABEL, "")
    found: dict[str, None] = {}
    for m in _CODE_RE.finditer(text):
        code = m.group()
        letters = sum(ch.isalpha() for ch in code)
        digits = sum(ch.isdigit() for ch in code)
        if len(code) >= 6 and letters >= 2 and digits >= 2:
            found[code] = None
    for m in _NUMBER_RE.finditer(text):
        number = m.group().strip()
        if sum(ch.isdigit() for ch in number) >= 8:
            found[number] = None
    return tuple(code for code in found if squash(code) not in public_squashed)
