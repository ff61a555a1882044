"""safedesk.yaml validation: defaults in one place, clear errors that name the key and its line."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from safedesk.config import DEFAULT_LANES, DeskConfig, PolicyConfig, load_config
from safedesk.domain import Lane, Topic
from safedesk.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "safedesk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_safe_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "business:\n  name: Test Shop\n"))
    assert config.business.name == "Test Shop"
    assert config.policy.lane_for(Topic.REFUND) is Lane.HUMAN
    assert config.policy.lane_for(Topic.ACCOUNT_ACCESS) is Lane.VERIFY
    assert "Test Shop" in config.disclosure_text()
    assert [g.type for g in config.guards.inbound] == ["pii", "injection", "language", "router"]


@pytest.mark.parametrize(
    ("yaml_text", "key", "line"),
    [
        ("business:\n  name: Shop\n  timezone: Mars/Olympus\n", "business.timezone", 3),
        ("business:\n  name: Shop\n  hours:\n    mon: '9-5'\n", "business.hours", 3),
        ("business:\n  name: Shop\nresponder:\n  kind: magic\n", "responder.kind", 4),
        ("business:\n  name: Shop\nunknown_key: 1\n", "unknown_key", 3),
        ("business:\n  name: Shop\npolicy:\n  lanes:\n    refund: answer\n", "policy.lanes", 4),
        ("business:\n  name: Shop\npolicy:\n  lanes:\n    probing_or_attack: answer\n", "policy.lanes", 4),
        ("business: {}\n", "business.name", 1),
    ],
)
def test_invalid_settings_name_key_and_line(tmp_path: Path, yaml_text: str, key: str, line: int) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, yaml_text))
    message = str(err.value)
    assert key in message
    assert f"line {line}" in message


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 2"):
        load_config(write(tmp_path, "business:\n\tname: Shop\n"))


def test_business_may_tighten_but_not_loosen_lanes() -> None:
    tightened = PolicyConfig(lanes={Topic.GENERAL_INFO: Lane.HUMAN})
    assert tightened.lane_for(Topic.GENERAL_INFO) is Lane.HUMAN
    assert tightened.lane_for(Topic.ORDER_STATUS) is DEFAULT_LANES[Topic.ORDER_STATUS]
    with pytest.raises(ValueError, match="account_access"):
        PolicyConfig(lanes={Topic.ACCOUNT_ACCESS: Lane.ANSWER})


@pytest.mark.parametrize(
    ("iso", "open_"),
    [
        ("2026-11-23T10:00:00+01:00", True),  # Monday 10:00 Oslo
        ("2026-11-23T08:59:00+01:00", False),
        ("2026-11-23T17:00:00+01:00", False),
        ("2026-11-29T12:00:00+01:00", False),  # Sunday
    ],
)
def test_opening_hours(iso: str, open_: bool) -> None:
    config = DeskConfig.model_validate({"business": {"name": "S", "timezone": "Europe/Oslo"}})
    assert config.business.is_open(datetime.fromisoformat(iso).astimezone(UTC)) is open_
    assert "Mon-Fri 09:00-17:00" in config.business.hours_sentence()


@pytest.mark.parametrize(
    ("hours", "iso", "open_"),
    [
        # A lunch break: two spans on one day.
        ({"mon": "09:00-12:00, 13:00-17:00"}, "2026-11-23T11:59:00+01:00", True),
        ({"mon": "09:00-12:00, 13:00-17:00"}, "2026-11-23T12:30:00+01:00", False),
        ({"mon": "09:00-12:00,13:00-17:00"}, "2026-11-23T13:00:00+01:00", True),
        # A late span runs on into the next day (Friday 18:00 to Saturday 02:00) ...
        ({"fri": "18:00-02:00", "sat": "closed"}, "2026-11-27T23:30:00+01:00", True),
        ({"fri": "18:00-02:00", "sat": "closed"}, "2026-11-28T01:59:00+01:00", True),
        ({"fri": "18:00-02:00", "sat": "closed"}, "2026-11-28T02:00:00+01:00", False),
        ({"fri": "18:00-02:00", "sat": "closed"}, "2026-11-27T17:59:00+01:00", False),
        # ... and Sunday's into Monday across the week's end.
        ({"sun": "20:00-01:00", "mon": "closed"}, "2026-11-23T00:30:00+01:00", True),
        ({"mon": "00:00-24:00"}, "2026-11-23T23:59:00+01:00", True),
        ({"mon": "18:00-00:00", "tue": "closed"}, "2026-11-24T00:00:00+01:00", False),
    ],
)
def test_opening_hours_with_breaks_and_past_midnight(hours: dict[str, str], iso: str, open_: bool) -> None:
    business = {"name": "S", "timezone": "Europe/Oslo", "hours": hours}
    config = DeskConfig.model_validate({"business": business})
    assert config.business.is_open(datetime.fromisoformat(iso).astimezone(UTC)) is open_


def test_hours_sentence_lists_every_span() -> None:
    hours = {d: "09:00-12:00,13:00-17:00" for d in ("mon", "tue")} | {"fri": "18:00-02:00"}
    config = DeskConfig.model_validate({"business": {"name": "S", "hours": hours}})
    assert config.business.hours_sentence().startswith("Mon-Tue 09:00-12:00, 13:00-17:00; ")
    assert "Fri 18:00-02:00" in config.business.hours_sentence()


@pytest.mark.parametrize(
    "span", ["09:00-24:30", "10:00-10:00", "9:00-17:00", "09:00-12:00,", "09:00-12:00; 13:00-17:00"]
)
def test_malformed_opening_hours_are_refused_at_load(tmp_path: Path, span: str) -> None:
    """Found by a bug hunt: "09:00-24:30" loaded fine, then every hand-off on that day crashed."""
    from safedesk.config import load_config

    path = tmp_path / "safedesk.yaml"
    path.write_text(f'business:\n  name: Shop\n  hours:\n    fri: "{span}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="fri"):
        load_config(path)


def test_a_setting_given_twice_is_refused_naming_its_line(tmp_path: Path) -> None:
    """A repeated key kept its last value silently; for policy and guards a typo must be loud."""
    from safedesk.config import load_config

    path = tmp_path / "safedesk.yaml"
    path.write_text("business:\n  name: Shop\n  name: Other\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3.*'name' is given twice"):
        load_config(path)


# ---- guard lists: the safety minimums cannot be left out -----------------------------------------------

_INBOUND_ALL = (
    "    - {name: pii, type: pii}\n    - {name: injection, type: injection}\n"
    "    - {name: language, type: language}\n    - {name: router, type: router}\n"
)


@pytest.mark.parametrize(
    ("guards_yaml", "missing"),
    [
        # The README tells owners to set the language guard's `readable` option; a list of that guard alone
        # replaced the defaults, and refunds went to the answer lane with raw contact details.
        (
            "  inbound:\n    - name: language\n      type: language\n      options: {readable: [en, no]}\n",
            "pii, injection, router",
        ),
        ("  inbound:\n" + _INBOUND_ALL.replace("    - {name: injection, type: injection}\n", ""), "injection"),
        ("  inbound:\n" + _INBOUND_ALL.replace("    - {name: router, type: router}\n", ""), "router"),
        ("  inbound: []\n", "pii, injection, language, router"),
        (
            "  outbound:\n    - {name: leakage, type: leakage}\n    - {name: commitments, type: commitments}\n",
            "grounding",
        ),
        ("  outbound: []\n", "leakage, commitments, grounding"),
    ],
)
def test_a_guard_list_without_a_required_guard_is_refused(tmp_path: Path, guards_yaml: str, missing: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "business:\n  name: Shop\nguards:\n" + guards_yaml))
    message = str(err.value)
    stage = "outbound" if "outbound" in guards_yaml else "inbound"
    assert f"guards.{stage} (line 4)" in message
    assert f"the {missing} guard" in message and "safety minimums" in message


def test_a_full_guard_list_with_options_and_an_extra_guard_loads(tmp_path: Path) -> None:
    text = "business:\n  name: Shop\nguards:\n  inbound:\n" + _INBOUND_ALL.replace(
        "type: language}", "type: language, options: {readable: [en, no, sv]}}"
    )
    config = load_config(write(tmp_path, text))
    assert [g.type for g in config.guards.inbound] == ["pii", "injection", "language", "router"]
    assert config.guards.inbound[2].options == {"readable": ["en", "no", "sv"]}
    assert [g.type for g in config.guards.outbound] == ["leakage", "commitments", "grounding"]


@pytest.mark.parametrize(
    ("extra", "key", "line", "says"),
    [
        # A misspelt type was only noticed when a turn ran (the desk failed to open then).
        ("    - {name: pii2, type: pi}\n", "guards.inbound.4.type", 9, "unknown guard type 'pi'"),
        ("    - {name: leak, type: leakage}\n", "guards.inbound", 4, "checks outbound text"),
        ("    - {name: pii, type: pii}\n", "guards.inbound", 4, "'pii' is used twice"),
    ],
)
def test_guard_types_stages_and_names_are_checked_at_load(
    tmp_path: Path, extra: str, key: str, line: int, says: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "business:\n  name: Shop\nguards:\n  inbound:\n" + _INBOUND_ALL + extra))
    assert f"{key} (line {line}): " in str(err.value)
    assert says in str(err.value)


def test_builtin_guard_table_matches_the_registry() -> None:
    from safedesk.config import BUILTIN_GUARD_STAGES
    from safedesk.guards import REGISTRY, load_builtin_guards

    load_builtin_guards()
    builtin = {name: f for name, f in REGISTRY.items() if f.__module__.startswith("safedesk.guards.")}
    assert {name: f.stage for name, f in builtin.items()} == BUILTIN_GUARD_STAGES


# ---- YAML 1.2 booleans --------------------------------------------------------------------------------


def test_no_yes_on_off_stay_text_in_lists(tmp_path: Path) -> None:
    """YAML 1.1 read `no` as false: `languages: [en, no]` failed with "Input should be a valid string"."""
    text = "business:\n  name: Shop\n  languages: [en, no]\n  regions: [NO, SE]\n"
    config = load_config(write(tmp_path, text))
    assert config.business.languages == ["en", "no"]
    assert config.business.regions == ["NO", "SE"]


@pytest.mark.parametrize(
    ("word", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("yes", True), ("on", True),
     ("false", False), ("False", False), ("no", False), ("off", False), ("NO", False)],
)  # fmt: skip
def test_boolean_settings_accept_what_they_accepted(tmp_path: Path, word: str, value: bool) -> None:
    text = (
        f"business:\n  name: Shop\npolicy:\n  emotional_to_human: {word}\n"
        f"verification:\n  smtp:\n    starttls: {word}\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.policy.emotional_to_human is value
    assert config.verification.smtp.starttls is value


def test_a_guard_flag_given_as_no_is_false() -> None:
    """`options: {use_ner: no}` now reaches the guard as the text "no", which is truthy: read it as a flag."""
    from safedesk.guards.base import build_guard

    assert build_guard("pii", "pii", {"use_ner": "no", "regions": ["NO"]}, None).use_ner is False  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="'use_ner' must be true or false"):
        build_guard("pii", "pii", {"use_ner": "maybe"}, None)


# ---- the AI disclosure ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disclosure",
    ['""', '"  "', '"{business}"', '"Hi, welcome!"', '"Hi, I\'m Sarah from {business}."', '"Ich bin keine KI."',
     '"I am not a bot, welcome to {business}"', '"Hei og velkommen til {business}!"'],
)  # fmt: skip
def test_a_disclosure_that_does_not_say_ai_is_refused(tmp_path: Path, disclosure: str) -> None:
    """`disclosure: ""` was accepted, and customers were never told they talk to an AI."""
    with pytest.raises(ConfigError, match=r"disclosure \(line 3\): .*(empty|does not say)"):
        load_config(write(tmp_path, f"business:\n  name: AI Shop\ndisclosure: {disclosure}\n"))


@pytest.mark.parametrize(
    "disclosure",
    ["I'm the AI assistant of {business}.", "Du chatter med {business} sin KI-assistent.",
     "Jeg er en kunstig intelligens.", "Du skriver med en automatiseret assistent.", "Jag är en AI-assistent.",
     "Sie schreiben mit einem virtuellen Assistenten.", "Ich bin ein digitaler Assistent.",
     "Je suis l'assistant virtuel de {business}.", "Vous parlez à une IA.",
     "Soy el asistente virtual de {business}.", "Hablas con una inteligencia artificial."],
)  # fmt: skip
def test_a_disclosure_in_the_desks_languages_is_accepted(tmp_path: Path, disclosure: str) -> None:
    config = load_config(write(tmp_path, f'business:\n  name: Shop\ndisclosure: "{disclosure}"\n'))
    assert config.disclosure == disclosure


def test_the_red_team_judge_uses_the_same_ai_check() -> None:
    from safedesk.disclosure import says_ai
    from safedesk.redteam import judge

    assert judge._says_ai is says_ai
    assert says_ai("Ich bin ein KI-Assistent.") and not says_ai("Nein, ich bin keine KI.")


# ---- settings that load but are not ready for customers ----------------------------------------------


def test_a_desk_that_logs_one_time_codes_is_warned_about_unless_it_is_the_demo(tmp_path: Path) -> None:
    """A desk made without --demo wrote its one-time codes to data/outbox.log, silently."""
    plain = load_config(write(tmp_path, "business:\n  name: Shop\n"))
    assert any("outbox.log" in w and "email_transport" in w for w in plain.setup_warnings())
    demo = load_config(write(tmp_path, "business:\n  name: Shop\ndemo: true\n"))
    assert demo.setup_warnings() == []
    smtp = load_config(write(tmp_path, "business:\n  name: Shop\nverification:\n  email_transport: smtp\n"))
    assert smtp.setup_warnings() == []


def test_init_makes_configs_that_load_and_only_the_plain_one_warns(tmp_path: Path) -> None:
    from safedesk.scaffold import init_project

    plain = load_config(init_project(tmp_path / "plain", demo=False) / "safedesk.yaml")
    demo = load_config(init_project(tmp_path / "demo", demo=True, business_name="Fjell") / "safedesk.yaml")
    assert plain.setup_warnings() and not demo.setup_warnings()
    assert demo.business.name == "Fjell" and demo.demo


# ---- business details and the responder's floor ----------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "key", "says"),
    [
        ("  regions: [NO, XX]\n", "business.regions", "'XX' is not a phone-number region"),
        ("  regions: [no]\n", "business.regions", "'no' is not a phone-number region"),
        ("  languages: [english]\n", "business.languages", "'english' is not a language code"),
        ("  languages: [en, xx]\n", "business.languages", "'xx' is not a language code"),
        ("  contact_email: shop.example\n", "business.contact_email", "is not an email address"),
        ("  contact_email: 'a b@shop.example'\n", "business.contact_email", "is not an email address"),
        ("  hours:\n    mon: '08:00-12:00, 11:00-17:00'\n", "business.hours", "mon: spans overlap"),
        ("  hours:\n    fri: '18:00-02:00, 17:00-19:00'\n", "business.hours", "fri: spans overlap"),
        ("  hours:\n    fri: '18:00-02:00'\n    sat: '01:00-05:00'\n", "business.hours", "sat: opens at 01:00"),
    ],
)
def test_business_details_are_checked_with_key_and_line(tmp_path: Path, setting: str, key: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "business:\n  name: Shop\n" + setting))
    assert f"{key} (line 3): " in str(err.value) and says in str(err.value)


def test_good_business_details_load(tmp_path: Path) -> None:
    text = (
        "business:\n  name: Shop\n  languages: [en, no, en-GB]\n  regions: [NO, GB, US]\n"
        "  contact_email: kundeservice@nordlys-outdoor.no\n"
        "  hours:\n    mon: '08:00-12:00, 12:00-17:00'\n    fri: '18:00-02:00'\n    sat: '02:00-05:00'\n"
    )
    business = load_config(write(tmp_path, text)).business
    assert business.languages == ["en", "no", "en-GB"] and business.regions == ["NO", "GB", "US"]


def test_ordinary_ways_of_writing_a_language_or_an_address_load(tmp_path: Path) -> None:
    """Found by the verification run: "EN", "zh-Hant", "fil" and "Shop <post@shop.example>" were refused."""
    text = (
        "business:\n  name: Shop\n  languages: [EN, zh-Hant, fil]\n"
        "  contact_email: 'Eikeland Sykkel <post@eikeland-sykkel.no> '\n"
    )
    business = load_config(write(tmp_path, text)).business
    assert business.languages == ["en", "zh-Hant", "fil"] and business.contact_email == "post@eikeland-sykkel.no"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        # Found by the verification run: every required guard listed, and the injection guard made blind.
        ("{name: injection, type: injection, options: {threshold: 1.0}}", "threshold 1.0 is above the calibrated 0.5"),
        ("{name: router, type: router, options: {answer_guard: 0.9}}", "answer_guard 0.9 is above the calibrated 0.4"),
        ("{name: pii, type: pii, options: {entities: [EMAIL_ADDRESS]}}", "leaves out ACCOUNT_NUMBER, ADDRESS"),
        ("{name: pii, type: pii, options: {use_ner: false}}", "would stop redacting names"),
        ("{name: pii, type: pii, options: {score_threshold: 0.9}}", "score_threshold 0.9 is above the calibrated 0.5"),
        ("{name: injection, type: injection, options: {threshold: '1.0'}}", "threshold 1.0 is above the calibrated"),
        ("{name: injection, type: injection, options: {threshold: .nan}}", "threshold nan is above the calibrated"),
        ("{name: pii, type: pii, options: {use_ner: 0}}", "would stop redacting names"),
        ("{name: pii, type: pii, options: {use_ner: ~}}", "would stop redacting names"),
        ("{name: pii, type: pii, options: {use_ner: 'False'}}", "would stop redacting names"),
        ("{name: pii, type: pii, options: {entities: {EMAIL_ADDRESS: 1}}}", "entities must be a list"),
    ],
)
def test_guard_options_may_tighten_but_not_loosen_a_safety_minimum(tmp_path: Path, options: str, says: str) -> None:
    kind = options.split("type: ")[1].split(",")[0]
    guards = _INBOUND_ALL.replace(f"    - {{name: {kind}, type: {kind}}}\n", f"    - {options}\n")
    assert options in guards
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "business:\n  name: Shop\nguards:\n  inbound:\n" + guards))
    assert "guards.inbound (line 4): " in str(err.value) and says in str(err.value)
    stricter = _INBOUND_ALL.replace(
        "    - {name: injection, type: injection}\n",
        "    - {name: injection, type: injection, options: {threshold: 0.3}}\n",
    )
    assert load_config(write(tmp_path, "business:\n  name: Shop\nguards:\n  inbound:\n" + stricter)).guards


def test_the_calibrated_limits_follow_the_models_and_the_pii_guard() -> None:
    import json

    from safedesk.config import _CALIBRATED_MAX, PII_ENTITY_TYPES
    from safedesk.guards.injection import DEFAULT_MODEL
    from safedesk.guards.pii import ENTITY_REASONS
    from safedesk.guards.routing import ROUTER_MODEL

    injection = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    router = json.loads(ROUTER_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert _CALIBRATED_MAX[("injection", "threshold")] == injection["threshold"]
    assert _CALIBRATED_MAX[("router", "answer_guard")] == router["decision"]["answer_guard"]
    assert PII_ENTITY_TYPES == set(ENTITY_REASONS)
    from inspect import signature

    from safedesk.guards.pii import PiiGuard

    assert _CALIBRATED_MAX[("pii", "score_threshold")] == signature(PiiGuard).parameters["score_threshold"].default


@pytest.mark.parametrize("value", ["0", "0.1", "0.24", "-1"])
def test_a_min_confidence_that_answers_uncovered_questions_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match=r"responder.min_confidence \(line 4\): .*questions its pages do not cover"):
        load_config(write(tmp_path, f"business:\n  name: Shop\nresponder:\n  min_confidence: {value}\n"))
    assert load_config(write(tmp_path, "business:\n  name: S\nresponder:\n  min_confidence: 0.5\n")).responder
