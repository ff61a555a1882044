"""DeskConfig: a business directory's safedesk.yaml, validated. Defaults live here and only here."""

from __future__ import annotations

import re
from datetime import datetime, time
from email.utils import parseaddr
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from safedesk import strict_yaml
from safedesk.disclosure import says_ai
from safedesk.domain import Lane, Stage, Topic
from safedesk.errors import ConfigError, ProjectNotFound

CONFIG_FILE = "safedesk.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# One opening span: HH:MM-HH:MM. The end may be 24:00 (midnight); an end before the start means the span
# runs past midnight into the next day ("18:00-02:00").
_SPAN_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$")
_HOURS_FORMAT = "'HH:MM-HH:MM' (00:00 to 24:00), several separated by commas, or 'closed'"
Span = tuple[time, time]  # (opens, closes); closes <= opens: closes the next day, at that time

# ISO 639-1: the two-letter language codes (`business.languages`; a region may follow: en-GB).
ISO_639_1 = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee "
    "el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is "
    "it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms "
    "mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk "
    "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu".split()
)
# A language tag: a two-letter ISO 639-1 code, or a three-letter ISO 639-2/3 one ("fil"), then optional
# script or region subtags ("en-GB", "zh-Hant").
_LANGUAGE_TAG_RE = re.compile(r"^([a-z]{2,3})(?:-[A-Za-z0-9]{2,8})*$")
_EMAIL_RE = re.compile(r"^[^\s@]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+$")
# Below this retrieval score the approved-answer responder would quote pages for questions they do not cover:
# on the demo shop's calibration sets uncovered questions score a median 0.21-0.24 (knowledge/retrieve.py).
MIN_CONFIDENCE_FLOOR = 0.25


def _parse_time(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def parse_day_hours(value: str) -> list[Span]:
    """One weekday's hours: 'closed', or spans like '09:00-12:00, 13:00-17:00' or '18:00-02:00'.

    Raises ValueError with a message a shop owner can act on."""
    value = value.strip()
    if value == "closed":
        return []
    spans: list[Span] = []
    for part in (p.strip() for p in value.split(",")):
        if not _SPAN_RE.match(part):
            raise ValueError(f"{part!r} is not {_HOURS_FORMAT}")
        start_text, end_text = part.split("-")
        if start_text == end_text:
            raise ValueError(f"{part!r} opens and closes at the same time (open all day is 00:00-24:00)")
        spans.append((_parse_time(start_text), _parse_time(end_text)))
    _refuse_overlaps(spans)
    return spans


def _same_day_part(span: Span) -> Span:
    """The part of a span on its own day: a span past midnight runs to the day's end (time.max)."""
    return (span[0], time.max) if _runs_past_midnight(span) else span


def _refuse_overlaps(spans: list[Span]) -> None:
    """Two spans of one day that overlap are a typo ("08:00-12:00, 11:00-17:00"): refuse, do not guess."""
    ordered = sorted(_same_day_part(span) for span in spans)
    for (opens, closes), (next_opens, _) in pairwise(ordered):
        if next_opens < closes:
            raise ValueError(f"spans overlap: {opens:%H:%M}-{_hhmm(closes)} and one that opens at {next_opens:%H:%M}")


def _hhmm(value: time) -> str:
    return "24:00" if value == time.max else f"{value:%H:%M}"


def _runs_past_midnight(span: Span) -> bool:
    opens, closes = span
    return closes <= opens


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BusinessConfig(_Strict):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = "UTC"
    languages: list[str] = ["en"]
    # Opening hours per weekday: "09:00-17:00", "09:00-12:00, 13:00-17:00", "18:00-02:00" (runs past
    # midnight) or "closed". Staff are reachable in these hours.
    hours: dict[str, str] = Field(
        default_factory=lambda: {d: ("09:00-17:00" if d not in ("sat", "sun") else "closed") for d in WEEKDAYS}
    )
    # Phone-number regions the business serves (ISO 3166 alpha-2), for PII detection.
    regions: list[str] = ["NO", "SE", "DK", "FI", "IS", "DE", "FR", "IT", "ES", "NL", "PL", "GB", "US"]
    contact_email: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Oslo)") from None
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str]) -> dict[str, str]:
        parsed: dict[str, list[Span]] = {}
        for day, text in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            try:
                parsed[day] = parse_day_hours(text)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        # A late span runs on into the next day ("fri 18:00-02:00"): that day may not open before it closes.
        for index, day in enumerate(WEEKDAYS):
            tails = [closes for opens, closes in parsed.get(day, []) if _runs_past_midnight((opens, closes))]
            following = WEEKDAYS[(index + 1) % 7]
            for opens, _ in parsed.get(following, []):
                if tails and opens < max(tails):
                    raise ValueError(
                        f"{following}: opens at {opens:%H:%M}, before {day}'s late span closes ({max(tails):%H:%M})"
                    )
        return value

    @field_validator("languages")
    @classmethod
    def _iso_languages(cls, value: list[str]) -> list[str]:
        out = []
        for code in value:
            primary, _, rest = code.strip().partition("-")
            tag = primary.lower() + (f"-{rest}" if rest else "")  # "EN" is en
            match = _LANGUAGE_TAG_RE.match(tag)
            if match is None or (len(match.group(1)) == 2 and match.group(1) not in ISO_639_1):
                raise ValueError(f"{code!r} is not a language code (ISO 639, like en, no, sv, de, or en-GB)")
            out.append(tag)
        return out

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: list[str]) -> list[str]:
        from phonenumbers import SUPPORTED_REGIONS

        for code in value:
            if code not in SUPPORTED_REGIONS:
                raise ValueError(
                    f"{code!r} is not a phone-number region (ISO 3166 alpha-2 in capitals, like NO, SE, GB, US)"
                )
        return value

    @field_validator("contact_email")
    @classmethod
    def _email_address(cls, value: str) -> str:
        """The address itself: "Eikeland Sykkel <post@eikeland.no>" and stray spaces are accepted, and kept
        as the bare address (the desk compares it with text in replies)."""
        address = parseaddr(value.strip())[1] if "<" in value else value.strip()
        if value.strip() and not _EMAIL_RE.match(address):
            raise ValueError(f"{value!r} is not an email address (like hello@your-shop.example)")
        return address

    def _spans(self, day_index: int) -> list[Span]:
        return parse_day_hours(self.hours.get(WEEKDAYS[day_index % 7], "closed"))

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        now, today = local.time(), local.weekday()
        for opens, closes in self._spans(today):
            if _runs_past_midnight((opens, closes)):
                if now >= opens:
                    return True
            elif opens <= now < closes:
                return True
        # Yesterday's late spans that run on into today ("fri 18:00-02:00" is open at 01:00 on Saturday).
        return any(_runs_past_midnight(span) and now < span[1] for span in self._spans(today - 1))

    def hours_runs(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Runs of consecutive weekdays with the same hours: (first day, last day, spans or ("closed",))."""
        runs: list[tuple[str, str, tuple[str, ...]]] = []
        for day in WEEKDAYS:
            spans = tuple(part.strip() for part in self.hours.get(day, "closed").split(","))
            if runs and runs[-1][2] == spans:
                runs[-1] = (runs[-1][0], day, spans)
            else:
                runs.append((day, day, spans))
        return runs

    def hours_sentence(self) -> str:
        """Human-readable opening hours, grouping equal consecutive days: 'Mon-Fri 09:00-17:00; ...'."""
        parts = []
        for first, last, spans in self.hours_runs():
            days = first.title() if first == last else f"{first.title()}-{last.title()}"
            parts.append(f"{days} {', '.join(spans)}")
        return "; ".join(parts) + f" ({self.timezone})"


class OpenAIResponderConfig(_Strict):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "local"
    api_key_env: str = "SAFEDESK_LLM_API_KEY"
    timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    max_tokens: int = Field(default=300, ge=16, le=4096)
    temperature: float = Field(default=0.2, ge=0, le=2)


class ResponderConfig(_Strict):
    kind: Literal["approved", "openai"] = "approved"
    # Below this fused retrieval score the desk says it does not know and offers a person.
    min_confidence: float = Field(default=0.35, le=1)
    max_sources: int = Field(default=2, ge=1, le=5)
    openai: OpenAIResponderConfig = OpenAIResponderConfig()

    @field_validator("min_confidence")
    @classmethod
    def _not_answer_everything(cls, value: float) -> float:
        if value < MIN_CONFIDENCE_FLOOR:
            raise ValueError(
                f"{value} is below {MIN_CONFIDENCE_FLOOR}: the desk would answer questions its pages do not cover "
                "(0 answers everything with the nearest page); the default is 0.35"
            )
        return value


# The built-in guard types and the text each checks. `tests/test_config.py` keeps this in step with the guards'
# registry (importing the guards here would load their models on every config read).
BUILTIN_GUARD_STAGES: dict[str, Stage] = {
    "pii": Stage.INBOUND,
    "injection": Stage.INBOUND,
    "language": Stage.INBOUND,
    "router": Stage.INBOUND,
    "leakage": Stage.OUTBOUND,
    "commitments": Stage.OUTBOUND,
    "grounding": Stage.OUTBOUND,
}
# Safety minimums: a guard list in safedesk.yaml replaces the default one, so a list that forgot one of these
# (an owner who only wanted to set the language guard's options) would silently switch it off.
REQUIRED_GUARDS: dict[Stage, tuple[str, ...]] = {
    Stage.INBOUND: ("pii", "injection", "language", "router"),
    Stage.OUTBOUND: ("leakage", "commitments", "grounding"),
}


# Options of the built-in guards that would loosen a safety minimum past its calibrated value: a number may
# only go the stricter way (the tuned values are in each model's metadata), and no PII type may be dropped.
# `tests/test_config.py` keeps these in step with the models and the PII guard.
_CALIBRATED_MAX = {("injection", "threshold"): 0.5, ("router", "answer_guard"): 0.4, ("pii", "score_threshold"): 0.5}
PII_ENTITY_TYPES = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "ADDRESS", "ORDER_NUMBER",
    "ACCOUNT_NUMBER", "US_SSN", "NATIONAL_ID", "IP_ADDRESS", "DATE_OF_BIRTH",
})  # fmt: skip


class GuardSpec(_Strict):
    name: str = Field(min_length=1)
    type: str
    options: dict[str, Any] = {}

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        from safedesk.guards.base import REGISTRY  # a guard of the business's own, registered before loading

        if value not in BUILTIN_GUARD_STAGES and value not in REGISTRY:
            raise ValueError(f"unknown guard type {value!r} (built in: {', '.join(BUILTIN_GUARD_STAGES)})")
        return value


_EXAMPLE_SPEC = {
    Stage.INBOUND: "- {name: language, type: language, options: {readable: [en, no]}}",
    Stage.OUTBOUND: "- {name: grounding, type: grounding}",
}


def _loosened(spec: GuardSpec) -> str | None:
    """Why `spec`'s options weaken a safety minimum, or None."""
    for (kind, option), limit in _CALIBRATED_MAX.items():
        value = spec.options.get(option) if spec.type == kind else None
        try:  # the guards take float(value): "1.0" is 1.0 to them
            number = float(value) if value is not None and not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None  # not a number: the guard itself refuses it when the desk is built
        if number is not None and not number <= limit:  # NaN is not <= anything
            return f"{option} {value} is above the calibrated {limit}: it may only be lowered (stricter)"
    if spec.type == "pii":
        if "entities" in spec.options:
            entities = spec.options["entities"]
            if not isinstance(entities, list) or not all(isinstance(e, str) for e in entities):
                return "entities must be a list of entity types"
            if dropped := sorted(PII_ENTITY_TYPES - set(entities)):
                return f"entities leaves out {', '.join(dropped)}: every type of personal data is redacted"
        from safedesk.guards.base import read_flag  # as the guard will read it

        if "use_ner" in spec.options and read_flag(spec.options["use_ner"]) is not True:
            return "use_ner other than true would stop redacting names"
    return None


def _check_guard_list(specs: list[GuardSpec], stage: Stage) -> list[GuardSpec]:
    """Raise ValueError when `specs` (guards.<stage>) lacks a required guard, holds a guard of the other stage,
    or gives one name twice (findings are keyed by name)."""
    where = f"guards.{stage.value}"
    for spec in specs:
        listed = BUILTIN_GUARD_STAGES.get(spec.type)
        if listed is not None and listed is not stage:
            raise ValueError(f"guard {spec.name!r} ({spec.type}) checks {listed.value} text, not {stage.value}")
        if reason := _loosened(spec):
            raise ValueError(f"guard {spec.name!r} ({spec.type}): {reason}")
    names = [spec.name for spec in specs]
    if repeated := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"guard name {repeated[0]!r} is used twice")
    types = {spec.type for spec in specs}
    required = REQUIRED_GUARDS[stage]
    if missing := [t for t in required if t not in types]:
        raise ValueError(
            f"the {', '.join(missing)} guard{'s are' if len(missing) > 1 else ' is'} missing: "
            f"{', '.join(required)} are safety minimums and cannot be turned off. A list under {where} replaces "
            "the default one: list every one of them, with options where you want them "
            f"(e.g. `{_EXAMPLE_SPEC[stage]}`)"
        )
    return specs


def _default_inbound() -> list[GuardSpec]:
    return [GuardSpec(name=t, type=t) for t in REQUIRED_GUARDS[Stage.INBOUND]]


def _default_outbound() -> list[GuardSpec]:
    return [GuardSpec(name=t, type=t) for t in REQUIRED_GUARDS[Stage.OUTBOUND]]


class GuardsConfig(_Strict):
    inbound: list[GuardSpec] = Field(default_factory=_default_inbound)
    outbound: list[GuardSpec] = Field(default_factory=_default_outbound)
    # A guard slower than this fails closed (the turn goes to a person).
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("inbound")
    @classmethod
    def _inbound_minimums(cls, value: list[GuardSpec]) -> list[GuardSpec]:
        return _check_guard_list(value, Stage.INBOUND)

    @field_validator("outbound")
    @classmethod
    def _outbound_minimums(cls, value: list[GuardSpec]) -> list[GuardSpec]:
        return _check_guard_list(value, Stage.OUTBOUND)


DEFAULT_LANES: dict[Topic, Lane] = {
    Topic.GENERAL_INFO: Lane.ANSWER,
    Topic.ORDER_STATUS: Lane.VERIFY,
    Topic.ORDER_CHANGE: Lane.VERIFY,
    Topic.CANCEL_ORDER: Lane.VERIFY,
    Topic.SHIPPING_ADDRESS_CHANGE: Lane.VERIFY,
    Topic.REFUND: Lane.HUMAN,
    Topic.PAYMENT_ISSUE: Lane.VERIFY,
    Topic.PAYMENT_METHOD_CHANGE: Lane.VERIFY,
    Topic.ACCOUNT_ACCESS: Lane.VERIFY,
    Topic.ACCOUNT_CHANGE: Lane.VERIFY,
    Topic.DELETE_ACCOUNT_OR_DATA: Lane.VERIFY,
    Topic.COMPLAINT: Lane.HUMAN,
    Topic.DISPUTE_OR_LEGAL: Lane.HUMAN,
    Topic.HUMAN_REQUEST: Lane.HUMAN,
    Topic.PROBING_OR_ATTACK: Lane.REFUSE,
    Topic.OTHER: Lane.ANSWER,
}

# Lanes a business may not loosen a topic to: these topics always need a person or a verified identity.
MINIMUM_LANES: dict[Topic, set[Lane]] = {
    Topic.PROBING_OR_ATTACK: {Lane.REFUSE},
    Topic.REFUND: {Lane.HUMAN, Lane.VERIFY},
    Topic.DISPUTE_OR_LEGAL: {Lane.HUMAN},
    Topic.HUMAN_REQUEST: {Lane.HUMAN},
    Topic.ACCOUNT_ACCESS: {Lane.VERIFY, Lane.HUMAN},
    Topic.ACCOUNT_CHANGE: {Lane.VERIFY, Lane.HUMAN},
    Topic.PAYMENT_METHOD_CHANGE: {Lane.VERIFY, Lane.HUMAN},
    Topic.PAYMENT_ISSUE: {Lane.VERIFY, Lane.HUMAN},
    Topic.DELETE_ACCOUNT_OR_DATA: {Lane.VERIFY, Lane.HUMAN},
}


class PolicyConfig(_Strict):
    lanes: dict[Topic, Lane] = Field(default_factory=lambda: dict(DEFAULT_LANES))
    # Frustrated, angry, distressed or urgent customers go to a person even on routine topics.
    emotional_to_human: bool = True

    @field_validator("lanes")
    @classmethod
    def _no_unsafe_lanes(cls, value: dict[Topic, Lane]) -> dict[Topic, Lane]:
        merged = {**DEFAULT_LANES, **value}
        for topic, allowed in MINIMUM_LANES.items():
            if merged[topic] not in allowed:
                raise ValueError(
                    f"{topic.value}: lane {merged[topic].value!r} is not allowed "
                    f"(must be one of {', '.join(sorted(lane.value for lane in allowed))})"
                )
        return merged

    def lane_for(self, topic: Topic) -> Lane:
        return self.lanes.get(topic, DEFAULT_LANES[topic])


class StorageConfig(_Strict):
    # Any SQLAlchemy URL; empty = SQLite in DIR/data/safedesk.db
    url: str = ""


class LimitsConfig(_Strict):
    max_message_chars: int = Field(default=4000, ge=100, le=100_000)
    max_request_bytes: int = Field(default=64_000, ge=1_000, le=10_000_000)
    # Empty: each worker keeps its own rate-limit buckets. A Redis URL (redis://host:6379/0, needs
    # `pip install safedesk[redis]`): every worker shares them, so N workers do not allow N times the limit.
    rate_limit_redis_url: str = ""
    rate_limit_redis_prefix: str = "safedesk:rl:"

    @field_validator("rate_limit_redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{value!r} is not a Redis URL (redis://, rediss:// or unix://)")
        return value


class SmtpConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = "SAFEDESK_SMTP_PASSWORD"  # noqa: S105 - the name of an env variable
    sender: str = "no-reply@localhost"
    timeout_seconds: float = 10.0


class VerificationConfig(_Strict):
    code_digits: int = Field(default=6, ge=6, le=10)
    expiry_seconds: int = Field(default=600, ge=60, le=3600)
    max_attempts: int = Field(default=5, ge=1, le=10)
    max_codes_per_hour: int = Field(default=3, ge=1, le=20)
    email_transport: Literal["smtp", "log"] = "log"
    smtp: SmtpConfig = SmtpConfig()


class ReviewConfig(_Strict):
    sample_rate: float = Field(default=0.1, ge=0, le=1)


class DeskConfig(_Strict):
    business: BusinessConfig
    # The demo shop made by `safedesk init --demo`: its one-time codes may go to data/outbox.log.
    demo: bool = False
    disclosure: str = (
        "I'm the AI assistant of {business}. I answer from the shop's published information. "
        'Type "person" at any time to reach a member of staff.'
    )
    responder: ResponderConfig = ResponderConfig()
    guards: GuardsConfig = GuardsConfig()
    policy: PolicyConfig = PolicyConfig()
    storage: StorageConfig = StorageConfig()
    limits: LimitsConfig = LimitsConfig()
    verification: VerificationConfig = VerificationConfig()
    review: ReviewConfig = ReviewConfig()

    @field_validator("disclosure")
    @classmethod
    def _says_it_is_an_ai(cls, value: str) -> str:
        # Customers must always be told they talk to an AI; `{business}` is left out so that a shop named
        # "AI Outdoor" does not pass for a disclosure. The red team's judge uses the same check on replies.
        text = value.replace("{business}", " ").strip()
        if not text:
            raise ValueError("the disclosure may not be empty: customers must be told that they talk to an AI")
        if not says_ai(text):
            raise ValueError(
                f"{value!r} does not say that the customer talks to an AI (write e.g. \"I'm the AI assistant of "
                '{business}" in your language: AI, KI, IA, "virtual assistant", "kunstig intelligens" ...)'
            )
        return value

    def disclosure_text(self) -> str:
        return self.disclosure.replace("{business}", self.business.name)

    def setup_warnings(self) -> list[str]:
        """Settings that load but are not fit for real customers: `serve` prints them, the dashboard shows them."""
        warnings = []
        if self.verification.email_transport == "log" and not self.demo:
            warnings.append(
                "verification.email_transport is 'log': one-time codes are written to data/outbox.log and "
                "customers never receive them, so no one can verify. Set email_transport: smtp and "
                "verification.smtp before customers use the desk."
            )
        return warnings


class Project:
    """A business directory on disk: its config and where its files go."""

    def __init__(self, root: Path, config: DeskConfig) -> None:
        self.root = root
        self.config = config

    @property
    def knowledge_dir(self) -> Path:
        return self.root / "knowledge"

    @property
    def customers_file(self) -> Path:
        return self.root / "customers.csv"

    @property
    def data_dir(self) -> Path:
        path = self.root / "data"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def database_url(self) -> str:
        return self.config.storage.url or f"sqlite:///{self.data_dir / 'safedesk.db'}"

    @classmethod
    def load(cls, root: Path | str) -> Project:
        root = Path(root).expanduser().resolve()
        path = root / CONFIG_FILE
        if not path.is_file():
            raise ProjectNotFound(
                f"{root} is not a SafeDesk business directory (no {CONFIG_FILE}); create one with: safedesk init {root}"
            )
        return cls(root, load_config(path))


def load_config(path: Path) -> DeskConfig:
    """Parse and validate safedesk.yaml; errors name the file, the key path and its line."""
    text = path.read_text(encoding="utf-8")
    try:
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return DeskConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(text, loc)
            where = f" (line {line})" if line else ""
            lines.append(f"{key}{where}: {err['msg']}")
        raise ConfigError(f"{path}: invalid settings:\n  " + "\n  ".join(lines)) from None


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, or of its nearest existing parent."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key_node = next((k for k, v in node.value if k.value == str(part)), None)
            if match is None:
                break
            line = key_node.start_mark.line + 1 if key_node is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
