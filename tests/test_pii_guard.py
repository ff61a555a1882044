"""The PII guard: what it finds, what it must not find, and what it survives. Tables first."""

from __future__ import annotations

import itertools
import time

import pytest

from safedesk.domain import Access, Finding, KnowledgeChunk, Stage
from safedesk.errors import ConfigError
from safedesk.guards import build_guard
from safedesk.guards.base import GuardContext
from safedesk.guards.pii import DEFAULT_REGIONS, PiiGuard, PiiSpan, spacy_model_path, worth_ner
from safedesk.knowledge.published import PublishedNames


@pytest.fixture(scope="module")
def guard() -> PiiGuard:
    g = PiiGuard("pii")
    g.warm_up()
    return g


@pytest.fixture(scope="module")
def guard_no_ner() -> PiiGuard:
    g = PiiGuard("pii", use_ner=False)
    g.warm_up()
    return g


def found(guard: PiiGuard, text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in guard.analyze(text)]


# --------------------------------------------------------------------------------------------------
# What it finds: (text, entity type, the exact value it must cover)

FINDS = [
    # emails (the whole address, nothing around it)
    ("Mail me at kari.nordmann@example.no please", "EMAIL_ADDRESS", "kari.nordmann@example.no"),
    ("JOHN.DOE+shop@Gmail.com is my address", "EMAIL_ADDRESS", "JOHN.DOE+shop@Gmail.com"),
    ("write to kari (at) example (dot) com", "EMAIL_ADDRESS", "kari (at) example (dot) com"),
    # Norwegian phones
    ("Ring meg på 912 34 567", "PHONE_NUMBER", "912 34 567"),
    ("My number is +47 912 34 567.", "PHONE_NUMBER", "+47 912 34 567"),
    ("tlf 0047 91234567", "PHONE_NUMBER", "0047 91234567"),
    ("Office: 22 33 44 55", "PHONE_NUMBER", "22 33 44 55"),
    # Swedish
    ("Ring mig på 070-123 45 67", "PHONE_NUMBER", "070-123 45 67"),
    ("Reach me on +46 70 123 45 67", "PHONE_NUMBER", "+46 70 123 45 67"),
    ("Stockholm office 08-123 456 78", "PHONE_NUMBER", "08-123 456 78"),
    ("Call +46 (0)8 928 571 38 today", "PHONE_NUMBER", "+46 (0)8 928 571 38"),
    # German
    ("Meine Nummer: 030 12345678", "PHONE_NUMBER", "030 12345678"),
    ("Handy 0151 23456789", "PHONE_NUMBER", "0151 23456789"),
    ("call +49 30 12345678", "PHONE_NUMBER", "+49 30 12345678"),
    # UK
    ("text 07700 900123 when here", "PHONE_NUMBER", "07700 900123"),
    ("London: +44 20 7946 0958.", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("landline 020 7946 0958", "PHONE_NUMBER", "020 7946 0958"),
    # US
    ("call (212) 555-0123 now", "PHONE_NUMBER", "(212) 555-0123"),
    ("+1 415 555 2671 is my cell", "PHONE_NUMBER", "+1 415 555 2671"),
    ("Desk: +1-903-140-4508x769", "PHONE_NUMBER", "+1-903-140-4508x769"),
    # Danish / Finnish
    ("ring til +45 32 12 34 56", "PHONE_NUMBER", "+45 32 12 34 56"),
    ("puhelin 040 1234567", "PHONE_NUMBER", "040 1234567"),
    # payment cards (Luhn-valid)
    ("card 4111 1111 1111 1111 expired", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("my mastercard 5555-5555-5555-4444", "CREDIT_CARD", "5555-5555-5555-4444"),
    ("amex 378282246310005", "CREDIT_CARD", "378282246310005"),
    ("new Mastercard 2223000048400011", "CREDIT_CARD", "2223000048400011"),
    # IBAN (checksum)
    ("IBAN NO93 8601 1117 947", "IBAN_CODE", "NO93 8601 1117 947"),
    ("pay to DE89 3704 0044 0532 0130 00 please", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("my iban is gb82west12345698765432", "IBAN_CODE", "gb82west12345698765432"),
    # addresses
    ("I live at Storgata 12, 0155 Oslo.", "ADDRESS", "Storgata 12, 0155 Oslo"),
    ("Send it to Kirkeveien 5B please", "ADDRESS", "Kirkeveien 5B"),
    ("Karl Johans gate 22, 0162 Oslo", "ADDRESS", "Karl Johans gate 22, 0162 Oslo"),
    ("Drottninggatan 53, 111 21 Stockholm", "ADDRESS", "Drottninggatan 53, 111 21 Stockholm"),
    ("Lieferadresse: Hauptstraße 5, 10115 Berlin", "ADDRESS", "Hauptstraße 5, 10115 Berlin"),
    ("221B Baker Street, London NW1 6XE", "ADDRESS", "221B Baker Street, London NW1 6XE"),
    ("ship to 1600 Pennsylvania Avenue", "ADDRESS", "1600 Pennsylvania Avenue"),
    ("Rua do Arenque 1634, Goiânia", "ADDRESS", "Rua do Arenque 1634, Goiânia"),
    ("Kari Nordmann\nStorgata 12\n0155 Oslo", "ADDRESS", "Storgata 12\n0155 Oslo"),
    ("PO Box 123", "ADDRESS", "PO Box 123"),
    ("ZIP: 75534-030", "ADDRESS", "75534-030"),
    # order and account numbers
    ("Where is order #A-12345?", "ORDER_NUMBER", "A-12345"),
    ("ordrenummer 4455667 har ikke kommet", "ORDER_NUMBER", "4455667"),
    ("Bestellnummer: 123456789", "ORDER_NUMBER", "123456789"),
    ("about #100234", "ORDER_NUMBER", "100234"),
    ("cancel purchase 732201349959", "ORDER_NUMBER", "732201349959"),
    ("customer number 55512345", "ACCOUNT_NUMBER", "55512345"),
    # names
    ("My name is Kari Nordmann and my parcel is late", "PERSON", "Kari Nordmann"),
    ("Hi, I'm John Smith", "PERSON", "John Smith"),
    ("Regards,\nOla Hansen", "PERSON", "Ola Hansen"),
    ("Jeg heter Ingrid Bergstrøm", "PERSON", "Ingrid Bergstrøm"),
    ("my name is eva kleist", "PERSON", "eva kleist"),
    ("Name: Anna Svensson\nPhone: 070-123 45 67", "PERSON", "Anna Svensson"),
    ("I spoke with Mr. Jones yesterday", "PERSON", "Jones"),
    # identity numbers, dates of birth, IP addresses
    ("SSN 536-22-8943", "US_SSN", "536-22-8943"),
    ("personnummer 811218-9876", "NATIONAL_ID", "811218-9876"),
    ("fødselsnummer 01017010170", "NATIONAL_ID", "01017010170"),
    ("HETU 131052-308T", "NATIONAL_ID", "131052-308T"),
    ("born 12.03.1985", "DATE_OF_BIRTH", "12.03.1985"),
    ("Date of birth: 1985-03-12", "DATE_OF_BIRTH", "1985-03-12"),
    ("my IP is 192.168.10.24", "IP_ADDRESS", "192.168.10.24"),
    # Found by a bug hunt: the span took in the "to" before the street, so a restored answer read "Send it to to".
    ("Send it to Karl Johans gate 5, 0154 Oslo.", "ADDRESS", "Karl Johans gate 5, 0154 Oslo"),
    # Found by a bug hunt: the small English model took only "Bjørnstad" out of a quoted email's attribution.
    ("Øyvind Bjørnstad wrote: the parcel is late.", "PERSON", "Øyvind Bjørnstad"),
    ("On Mon, 3 Mar 2025, Emil Østby <emil@example.no> skrev:", "PERSON", "Emil Østby"),
]


@pytest.mark.parametrize(("text", "entity", "value"), FINDS)
def test_finds(guard: PiiGuard, text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(guard, text)


# Without NER everything but free-standing names still works.
@pytest.mark.parametrize(("text", "entity", "value"), [row for row in FINDS if row[1] != "PERSON"][::3])
def test_finds_without_ner(guard_no_ner: PiiGuard, text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(guard_no_ner, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("My name is Kari Nordmann", "Kari Nordmann"), ("Regards,\nOla Hansen", "Ola Hansen")],
)
def test_cue_names_without_ner(guard_no_ner: PiiGuard, text: str, value: str) -> None:
    assert ("PERSON", value) in found(guard_no_ner, text)


# --------------------------------------------------------------------------------------------------
# What it must not find: (text, entity types that must not appear)

NOT_FOUND = [
    ("Where is my order?", None),
    ("Do you ship to Norway?", None),
    ("I bought 2 shirts for 499 kr", None),
    ("Delivery takes 2-4 business days, we are open 09:00-17:00", None),
    ("Can I change to the Platinum account?", None),
    ("Order 12345 was placed on 2024-05-01", {"PHONE_NUMBER", "DATE_OF_BIRTH", "PERSON"}),
    ("ordered 12.05.2024, it is now 2024/06/01", None),
    ("Visit https://shop.example.com/orders/12345 for tracking", {"EMAIL_ADDRESS", "PHONE_NUMBER"}),
    ("card 4111 1111 1111 1112", {"CREDIT_CARD"}),  # Luhn fails
    ("IBAN DE89 3704 0044 0532 0130 01", {"IBAN_CODE"}),  # checksum fails
    ("Thanks for the help!", None),
    ("Sorry, I meant the blue one", None),
    ("I ordered from Japan and it took 3 days", None),
    ("version 1.2.3.4 of the app", {"PHONE_NUMBER"}),
]


@pytest.mark.parametrize(("text", "forbidden"), NOT_FOUND)
def test_does_not_find(guard: PiiGuard, text: str, forbidden: set[str] | None) -> None:
    types = {t for t, _ in found(guard, text)}
    if forbidden is None:
        assert types == set(), found(guard, text)
    else:
        assert not (types & forbidden), found(guard, text)


def test_order_number_is_not_date_or_org(guard: PiiGuard) -> None:
    text = "Order 2024-0577 from Oslo AS arrived broken"
    spans = found(guard, text)
    assert ("ORDER_NUMBER", "2024-0577") in spans
    assert {t for t, _ in spans} == {"ORDER_NUMBER"}


def test_email_is_not_split_into_url_or_name(guard: PiiGuard) -> None:
    text = "Contact john.smith@example.com about it"
    assert found(guard, text) == [("EMAIL_ADDRESS", "john.smith@example.com")]


def test_spans_do_not_overlap_and_are_sorted(guard: PiiGuard) -> None:
    text = (
        "Hi, I'm John Smith, order #AB-123456. Call +47 912 34 567 or mail john.smith@example.com. "
        "I live at Storgata 12, 0155 Oslo. Card 4111 1111 1111 1111."
    )
    spans = guard.analyze(text)
    assert [s.start for s in spans] == sorted(s.start for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert {s.type for s in spans} == {
        "PERSON", "ORDER_NUMBER", "PHONE_NUMBER", "EMAIL_ADDRESS", "ADDRESS", "CREDIT_CARD",
    }  # fmt: skip


# --------------------------------------------------------------------------------------------------
# The guard interface


def test_check_returns_findings(guard: PiiGuard) -> None:
    ctx = GuardContext(conversation_id="c1", stage=Stage.INBOUND)
    findings = guard.check("mail kari@example.com", ctx)
    assert findings == [
        Finding(guard="pii", kind="pii", score=1.0, reason="email address", label="EMAIL_ADDRESS", span=(5, 21))
    ]
    assert guard.stage is Stage.INBOUND


def test_built_from_config() -> None:
    g = build_guard("pii", "my-pii", {"regions": ["NO", "SE"], "use_ner": False}, None)
    assert isinstance(g, PiiGuard)
    assert g.name == "my-pii" and g.regions == ("NO", "SE") and g.use_ner is False


def test_default_regions_come_from_config() -> None:
    from safedesk.config import BusinessConfig

    assert list(DEFAULT_REGIONS) == BusinessConfig.model_fields["regions"].default
    assert PiiGuard("pii").regions == DEFAULT_REGIONS


def test_regions_from_business_directory(tmp_path) -> None:
    (tmp_path / "safedesk.yaml").write_text('business:\n  name: Shop\n  regions: ["NO", DK]\n', encoding="utf-8")
    assert PiiGuard("pii", project_dir=tmp_path).regions == ("NO", "DK")


@pytest.mark.parametrize(
    "options",
    [
        {"regions": ["XX"]},
        {"order_number_pattern": "(unclosed"},
        {"score_threshold": 2},
        {"entities": ["SHOE_SIZE"]},
        {"no_such_option": 1},
    ],
)
def test_bad_options_are_config_errors(options: dict) -> None:
    with pytest.raises(ConfigError):
        build_guard("pii", "pii", options, None)


def test_custom_order_number_pattern() -> None:
    g = PiiGuard("pii", use_ner=False, order_number_pattern=r"\bSO-\d{6}\b")
    assert found(g, "status of SO-123456?") == [("ORDER_NUMBER", "SO-123456")]
    g2 = PiiGuard("pii", use_ner=False, order_number_pattern=r"(?i)\bsak\s+(\d{5})\b")
    assert found(g2, "sak 12345") == [("ORDER_NUMBER", "12345")]


def test_entity_subset_and_threshold() -> None:
    text = "kari@example.com, +47 912 34 567"
    assert found(PiiGuard("pii", use_ner=False, entities=["EMAIL_ADDRESS"]), text) == [
        ("EMAIL_ADDRESS", "kari@example.com")
    ]
    assert found(PiiGuard("pii", use_ner=False, score_threshold=0.95), "ring 912 34 567") == []


def test_redact_convenience(guard: PiiGuard) -> None:
    r = guard.redact("Kari here, kari@example.com")
    assert r.text == "<PERSON_1> here, <EMAIL_1>"


def test_offline_model_path() -> None:
    path = spacy_model_path()
    assert (path / "config.cfg").is_file() and (path / "ner").is_dir()


def test_ner_gate() -> None:
    assert worth_ner("Please call Kari tomorrow")
    assert not worth_ner("Where is my order? I want a refund.")
    assert not worth_ner("I'm waiting, OK?")


# --------------------------------------------------------------------------------------------------
# Hostile input: never crash, offsets always point into the original text


def _valid(text: str, spans: list[PiiSpan]) -> None:
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02",
        "\ud800 kari@example.com \udfff",  # lone surrogates
        "Привет, меня зовут Иван, тел +7 912 345-67-89",
        "山田太郎です。電話は 090-1234-5678",
        "مرحبا kari@example.com שלום",
        "🙂" * 500 + " +47 912 34 567",
        "1-" * 3000,
        "a." * 3000,
        "Aaaa " * 2000,
        "<PERSON_1> <EMAIL_2> {{x}} ${jndi:ldap://x}",
    ],
)
def test_hostile_input(guard: PiiGuard, text: str) -> None:
    _valid(text, guard.analyze(text))


def test_zero_width_characters_do_not_hide_pii(guard: PiiGuard) -> None:
    text = "mail: k\u200bari@exa\u200dmple.com, tlf 912\u200b34\u200b567"
    spans = guard.analyze(text)
    _valid(text, spans)
    values = {(s.type, text[s.start : s.end].replace("\u200b", "").replace("\u200d", "")) for s in spans}
    assert ("EMAIL_ADDRESS", "kari@example.com") in values
    assert ("PHONE_NUMBER", "91234567") in values


def test_fullwidth_digits_are_folded(guard: PiiGuard) -> None:
    text = "card ４１１１ １１１１ １１１１ １１１１"
    assert found(guard, text) == [("CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１")]


def test_100_kb_input(guard: PiiGuard) -> None:
    line = "Kari Nordmann, kari@example.com, +47 912 34 567, Storgata 12, 0155 Oslo. Where is order #A-12345?\n"
    text = (line * (100_000 // len(line) + 1))[:100_000]
    started = time.perf_counter()
    spans = guard.analyze(text)
    elapsed = time.perf_counter() - started
    _valid(text, spans)
    assert sum(s.type == "EMAIL_ADDRESS" for s in spans) >= 1000
    assert elapsed < 60  # linear in the size (windows); ~1-8 s on 2 busy cores


def test_non_string_is_a_type_error(guard: PiiGuard) -> None:
    with pytest.raises(TypeError):
        guard.analyze(None)  # type: ignore[arg-type]


def test_thread_safe(guard: PiiGuard) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [
        f"Kari Nordmann {i}, kari{i}@example.com, +47 912 34 {i:03d}, order #A-{10000 + i}, Storgata {i + 1}"
        for i in range(40)
    ]
    expected = [guard.analyze(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(guard.analyze, texts)) == expected


def _published(*pages: str, business: str = "Eikeland Sykkel") -> PublishedNames:
    chunks = [KnowledgeChunk(f"c{i}", "Page", "", text, "p.md", Access.PUBLIC) for i, text in enumerate(pages)]
    return PublishedNames.of(chunks, business)


def test_check_leaves_names_the_business_published_and_hides_the_rest(guard: PiiGuard) -> None:
    published = _published("We service e-bikes from Bosch and Shimano in Bergen. Ask Kari in the workshop.")
    ctx = GuardContext(conversation_id="c1", stage=Stage.INBOUND, published=published)
    text = "Kari Nordmann here. Is the Bosch motor better than Shimano? Ask Eikeland."
    hidden = {text[f.span[0] : f.span[1]] for f in guard.check(text, ctx) if f.label == "PERSON"}
    assert any("Nordmann" in h for h in hidden)  # a customer's full name: only part of it is published
    assert not any(h in ("Bosch", "Shimano", "Eikeland") for h in hidden)
    without = {text[f.span[0] : f.span[1]] for f in guard.check(text, GuardContext("c1", Stage.INBOUND))}
    assert {"Shimano", "Eikeland"} <= without  # with nothing published, the brands were read as names
    # Found by a second review: a surname that is also a place on the pages, after a title, is a person.
    titled = "I am Mrs Bergen and my order is late. Regards, Mr. Shimano"
    hidden = {titled[f.span[0] : f.span[1]] for f in guard.check(titled, ctx) if f.label == "PERSON"}
    assert any("Bergen" in h for h in hidden) and any("Shimano" in h for h in hidden), hidden


@pytest.mark.parametrize(
    ("name", "covered"),
    [
        ("Bosch", True),
        ("Bosch e-bikes", True),  # the other word is on the pages too
        ("Shimano Nordic", True),  # the phrase is on a page
        ("Eikeland Sykkel", True),  # the business's name
        # Found by a review: every capitalised word of any page, and of the business name, counted on its own.
        ("Ingrid Hansen", False),  # "Ingrid" on the about page and "Hansen" in the shop's name
        ("Ingrid hansen", False),  # a lower-case surname was not looked at
        ("Bergen nordmann", False),
        ("Returns", False),  # only ever capitalised at the start of a sentence
        ("Kari Eikeland", False),
    ],
)
def test_only_what_the_business_published_counts_as_published(name: str, covered: bool) -> None:
    published = _published(
        "Returns are free. Ask Ingrid in the workshop about e-bikes from Bosch.",
        "We are the importer of Shimano Nordic parts in Bergen.",
        business="Hansen Eikeland Sykkel",
    )
    assert published.covers(name) is covered
