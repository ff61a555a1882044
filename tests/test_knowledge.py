"""Knowledge ingest (labels, formats, chunking), embeddings and their cache, KnowledgeBase, demo shop."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import safedesk
from safedesk.config import BusinessConfig, load_config
from safedesk.desk import Desk
from safedesk.domain import Access
from safedesk.errors import ConfigError
from safedesk.knowledge import KnowledgeBase, load_knowledge
from safedesk.knowledge.business_facts import with_business_facts
from safedesk.knowledge.embeddings import (
    EMBEDDING_DIM,
    VOCAB_PATH,
    VOCAB_SHA256,
    Embedder,
    default_embedder,
    embed_cached,
    file_sha256,
)
from safedesk.knowledge.ingest import MAX_CHUNK_CHARS, chunk_id_for
from safedesk.knowledge.text import word_spans

DEMO = Path(safedesk.__file__).parent / "demo"


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal text PDF (Type1 Helvetica), one line of text per input line."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    page_ids = [4 + 2 * i for i in range(len(pages))]
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for page_id, text in zip(page_ids, pages, strict=True):
        ops = "BT /F1 11 Tf 14 TL 72 740 Td " + " T* ".join(f"({esc(x)}) Tj" for x in text.split("\n")) + " ET"
        stream = ops.encode("latin-1")
        objs.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            + f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objs.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    info = ""
    if title:
        objs.append(f"<< /Title ({esc(title)}) >>".encode())
        info = f" /Info {len(objs)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- access labels -----------------------------------------------------------------------------

BODY = "# Page\n\nSome text about the shop.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\naccess: public\n---\n" + BODY, Access.PUBLIC),
        ("---\naccess: internal\n---\n" + BODY, Access.INTERNAL),
        ("---\naccess: restricted\n---\n" + BODY, Access.RESTRICTED),
        ("---\naccess: Public \n---\n" + BODY, Access.PUBLIC),  # case and spaces forgiven
        (BODY, Access.INTERNAL),  # no front matter: internal, safe by default
        ("---\ntitle: Page\n---\n" + BODY, Access.INTERNAL),  # front matter without a label
        ("---\n---\n" + BODY, Access.INTERNAL),  # empty front matter
        ("---\naccess:\n---\n" + BODY, Access.INTERNAL),  # empty label
    ],
)
def test_markdown_access_labels(tmp_path: Path, text: str, expected: Access) -> None:
    write(tmp_path, "page.md", text)
    chunks = load_knowledge(tmp_path)
    assert chunks
    assert {c.access for c in chunks} == {expected}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\naccess: secret\n---\n" + BODY, "invalid access label 'secret'"),
        ("---\naccess: publik\n---\n" + BODY, "invalid access label"),
        ("---\naccess: [public]\n---\n" + BODY, "invalid access label"),
        ("---\naccess: true\n---\n" + BODY, "invalid access label"),
        ("---\naccess: 1\n---\n" + BODY, "invalid access label"),
        ("---\naccess: [public\n---\n" + BODY, "broken front matter"),
        ("---\naccess: public\n" + BODY, "no closing '---'"),
        ("---\n- public\n---\n" + BODY, "must be a mapping"),
        ("---\ntitle: [a, b]\naccess: public\n---\n" + BODY, "'title' must be text"),
        # Found by a bug hunt: the last of two access keys won silently and published an internal page.
        (
            "---\ntitle: Loyalty\naccess: internal\naccess: public\n---\n" + BODY,
            "line 4: broken front matter: the key 'access' is given twice",
        ),
        ("---\n{access: internal, 'access': public}\n---\n" + BODY, "given twice"),
        ("---\nbase: &b {access: public}\n<<: *b\n---\n" + BODY, "merge keys"),
        # Found by a new-user walkthrough: the typo was ignored and the page stayed internal without a word.
        (
            "---\ntitle: Returns\nacess: public\n---\n" + BODY,
            "unknown front matter key 'acess' (did you mean 'access'?)",
        ),
        ("---\nAccess: public\n---\n" + BODY, "unknown front matter key 'Access' (did you mean 'access'?)"),
    ],
)
def test_bad_front_matter_is_a_config_error_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "sub/bad-page.md", text)
    write(tmp_path, "good.md", "---\naccess: public\n---\n" + BODY)
    with pytest.raises(ConfigError) as info:
        load_knowledge(tmp_path)
    assert "sub/bad-page.md" in str(info.value)
    assert message in str(info.value)


def test_other_front_matter_keys_of_a_static_site_are_accepted(tmp_path: Path) -> None:
    """Only a key that looks like a misspelt label is refused; an exported page keeps its author and date."""
    write(
        tmp_path,
        "page.md",
        "---\ntitle: Returns\nsubtitle: All about returns\naccess: public\nauthor: Kari\ndate: 2026-01-02\n---\n"
        + BODY,
    )  # "subtitle" was refused as a misspelt "title" (found by the verification run)
    assert {c.access for c in load_knowledge(tmp_path)} == {Access.PUBLIC}


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "latin.md", "---\naccess: public\n---\nK\xf8benhavn\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin\.md: not UTF-8"):
        load_knowledge(tmp_path)


# --- Markdown chunking ---------------------------------------------------------------------------

MARKDOWN = """---
title: Shipping
access: public
---

Intro text before any heading.

# Shipping and delivery

We ship **fast** with [Posten](https://example.com/posten) and `Bring`.

## Delivery times

Delivery in Norway takes 2-4 business days.
Remote areas take longer.

- Sweden: 3-5 days
- Other EU countries: 3-7 days
  - nested item

## Empty section

### Prices

| Country | Price |
|---|---|
| Norway | 79 NOK |

#### Small print

Prices include VAT.
"""


def test_markdown_chunks_by_heading_with_provenance(tmp_path: Path) -> None:
    write(tmp_path, "info/shipping.md", MARKDOWN)
    chunks = load_knowledge(tmp_path)
    assert [c.heading for c in chunks] == ["", "Shipping and delivery", "Delivery times", "Prices"]
    for chunk in chunks:
        assert chunk.title == "Shipping"
        assert chunk.source == "info/shipping.md"
        assert chunk.access is Access.PUBLIC
        assert chunk.text.strip()
    by_heading = {c.heading: c.text for c in chunks}
    assert by_heading[""] == "Intro text before any heading."
    # Inline markup is gone, link text kept, URL dropped.
    assert by_heading["Shipping and delivery"] == "We ship fast with Posten and Bring."
    # Soft line breaks join a paragraph; list items keep their own lines.
    assert by_heading["Delivery times"] == (
        "Delivery in Norway takes 2-4 business days. Remote areas take longer.\n\n"
        "- Sweden: 3-5 days\n- Other EU countries: 3-7 days\n  - nested item"
    )
    # Tables become rows; h4 and below stay inside their h3 section.
    assert by_heading["Prices"] == "Country | Price\nNorway | 79 NOK\n\nSmall print\n\nPrices include VAT."


def test_title_falls_back_to_first_h1_then_file_name(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\naccess: public\n---\n# From Heading\n\ntext\n")
    write(tmp_path, "opening-hours.md", "---\naccess: public\n---\nJust text.\n")
    titles = {c.source: c.title for c in load_knowledge(tmp_path)}
    assert titles == {"a.md": "From Heading", "opening-hours.md": "Opening hours"}


def test_chunk_ids_are_stable_and_unique(tmp_path: Path) -> None:
    write(tmp_path, "shipping.md", MARKDOWN + "\n## Delivery times\n\nA second section with the same heading.\n")
    first = load_knowledge(tmp_path)
    second = load_knowledge(tmp_path)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first)
    assert first[0].chunk_id == chunk_id_for("shipping.md", "", 0)


def test_long_sections_are_split_by_paragraph(tmp_path: Path) -> None:
    paragraphs = [f"Paragraph {i} " + "about tents and tarps. " * 12 for i in range(10)]
    one_huge_paragraph = "Run on sentence about kayaks. " * 80
    write(
        tmp_path,
        "long.md",
        "---\naccess: public\n---\n## Long\n\n" + "\n\n".join(paragraphs) + "\n\n## Huge\n\n" + one_huge_paragraph,
    )
    chunks = load_knowledge(tmp_path)
    long_chunks = [c for c in chunks if c.heading == "Long"]
    huge_chunks = [c for c in chunks if c.heading == "Huge"]
    assert len(long_chunks) > 1 and len(huge_chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= MAX_CHUNK_CHARS
    joined = "\n\n".join(c.text for c in long_chunks)
    for paragraph in paragraphs:
        assert paragraph.strip() in joined  # nothing lost, no paragraph cut in two
    assert " ".join(c.text for c in huge_chunks).split() == one_huge_paragraph.split()


def test_unsupported_hidden_and_missing(tmp_path: Path) -> None:
    write(tmp_path, "notes.txt", "not knowledge")
    write(tmp_path, "data.yaml", "access: public")
    write(tmp_path, ".hidden.md", "---\naccess: public\n---\nsecret draft")
    write(tmp_path, ".git/info.md", "---\naccess: public\n---\nrepo stuff")
    write(tmp_path, "empty.md", "---\naccess: public\n---\n# Only a heading\n")
    assert load_knowledge(tmp_path) == []
    assert load_knowledge(tmp_path / "does-not-exist") == []


# --- HTML ----------------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><meta name="access" content="{access}"><title>Size guide</title>
<style>.x {{ color: red }}</style></head><body>
<nav>Home / Shop</nav>
<h1>Size guide</h1><p>Our clothing follows <b>European</b> sizes.</p>
<div>Loose text in a div.</div>
<h2>Jackets</h2><p>Measure your chest.</p>
<table><tr><th>Size</th><th>Chest</th></tr><tr><td>M</td><td>94-100</td></tr></table>
<ul><li>Try before you buy</li><li>Wear your socks</li></ul>
<h3>Kids</h3><p>Kids sizes by height.</p>
<h4>Note</h4><p>Small print.</p>
<script>var secret = "not content";</script>
</body></html>"""


def test_html_labels_title_and_headings(tmp_path: Path) -> None:
    write(tmp_path, "size.html", HTML.format(access="public"))
    chunks = load_knowledge(tmp_path)
    assert [c.heading for c in chunks] == ["Size guide", "Jackets", "Kids"]
    assert {c.title for c in chunks} == {"Size guide"}
    assert {c.access for c in chunks} == {Access.PUBLIC}
    text = {c.heading: c.text for c in chunks}
    assert text["Size guide"] == "Our clothing follows European sizes.\n\nLoose text in a div."
    assert (
        text["Jackets"] == "Measure your chest.\n\nSize | Chest\nM | 94-100\n\n- Try before you buy\n- Wear your socks"
    )
    assert text["Kids"] == "Kids sizes by height.\n\nNote\n\nSmall print."
    everything = " ".join(c.text for c in chunks)
    assert "secret" not in everything and "color" not in everything and "Home / Shop" not in everything


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ('<meta name="access" content="public">', Access.PUBLIC),
        ('<meta name="ACCESS" content="restricted">', Access.RESTRICTED),
        ("", Access.INTERNAL),
        ('<meta name="description" content="public">', Access.INTERNAL),
    ],
)
def test_html_access_labels(tmp_path: Path, head: str, expected: Access) -> None:
    write(tmp_path, "page.htm", f"<html><head>{head}</head><body><h1>T</h1><p>Body text.</p></body></html>")
    chunks = load_knowledge(tmp_path)
    assert {c.access for c in chunks} == {expected}
    assert chunks[0].title == "T"


@pytest.mark.parametrize("head", ['<meta name="access" content="everyone">', '<meta name="access">'])
def test_html_bad_label_is_a_config_error(tmp_path: Path, head: str) -> None:
    write(tmp_path, "page.html", f"<html><head>{head}</head><body><p>x</p></body></html>")
    with pytest.raises(ConfigError, match=r"page\.html"):
        load_knowledge(tmp_path)


def test_text_a_browser_never_shows_is_not_public_knowledge(tmp_path: Path) -> None:
    """Found by a bug hunt: a staff note in <div hidden> of a public page was quoted to customers."""
    write(
        tmp_path,
        "collect.html",
        '<html><head><meta name="access" content="public"></head><body><h1>Click and collect</h1>'
        "<p>Collect your order in Bergen.</p>"
        "<div hidden><p>Staff note: goodwill code PICKUP-SORRY-4471.</p></div>"
        '<p style="color: red; display : none">Excess 3,750 NOK.</p><span aria-hidden="true">ARIA-SECRET</span>'
        "<ul><li>Shown item</li><li hidden>HIDDEN-ITEM</li></ul>"
        "<textarea>TEXTAREA-SECRET</textarea><select><option>OPTION-SECRET</option></select>"
        # Found by the verification run: hidden by a style sheet, and by other ways of writing it.
        "<style>/* notes */ .staff, #x { display : none }</style><p class='staff'>CLASS-SECRET</p>"
        '<p style="display:/**/none">COMMENT-SECRET</p><p style="opacity:0">OPACITY-SECRET</p>'
        '<p style="font-size:0">FONT-SECRET</p><p style="visibility:collapse">COLLAPSE-SECRET</p>'
        '<p style="opacity:0.8">Half-seen text.</p></body></html>',
    )
    everything = " ".join(c.text for c in load_knowledge(tmp_path))
    assert "Collect your order in Bergen." in everything and "Shown item" in everything
    assert "Half-seen text." in everything
    for secret in ("PICKUP-SORRY", "3,750", "ARIA-SECRET", "HIDDEN-ITEM", "TEXTAREA-SECRET", "OPTION-SECRET",
                   "CLASS-SECRET", "COMMENT-SECRET", "OPACITY-SECRET", "FONT-SECRET", "COLLAPSE-SECRET"):  # fmt: skip
        assert secret not in everything


@pytest.mark.parametrize(
    "hiding",
    [
        "<div hidden>\n\nStaff only: damage excess 3,750 NOK.\n\n</div>",
        "<div style=display:none>\n\nStaff only: damage excess 3,750 NOK.\n\n</div>",  # unquoted (review)
        '<div data-x=">" hidden>\n\nStaff only: damage excess 3,750 NOK.\n\n</div>',  # ">" in an attribute
        "<div hidden>\n\nStaff only: damage excess 3,750 NOK.",  # never closed
        '<style>.note { display: none }</style>\n\n<p class="note">Staff only: damage excess 3,750 NOK.</p>',
    ],
)
def test_a_public_markdown_page_with_hidden_html_is_refused(tmp_path: Path, hiding: str) -> None:
    text = "---\naccess: public\n---\n# Rentals\n\n" + hiding + "\n"
    write(tmp_path, "rentals.md", text)
    with pytest.raises(ConfigError, match=r"rentals\.md: a public page with hidden HTML") as info:
        load_knowledge(tmp_path)
    assert "3,750" not in str(info.value)  # the error (logged, shown to owners) never repeats the hidden text
    write(tmp_path, "rentals.md", text.replace("access: public", "access: internal"))
    assert load_knowledge(tmp_path)  # an internal page may hold anything


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_with_sidecar_label(tmp_path: Path) -> None:
    write(
        tmp_path,
        "warranty.pdf",
        make_pdf(
            [
                "Warranty terms\nAll tents have a five year warranty against\nmanufacturing faults.",
                "Send photos of the fault (and your order number) to customer service.",
            ],
            title="Warranty",
        ),
    )
    write(tmp_path, "warranty.pdf.yaml", "access: public\n")
    chunks = load_knowledge(tmp_path)
    assert [c.heading for c in chunks] == ["Page 1", "Page 2"]
    assert {c.access for c in chunks} == {Access.PUBLIC}
    assert {c.title for c in chunks} == {"Warranty"}
    assert {c.source for c in chunks} == {"warranty.pdf"}
    assert "five year warranty against manufacturing faults." in chunks[0].text  # visual lines re-joined
    assert "(and your order number)" in chunks[1].text


def test_pdf_sidecar_title_wins_and_missing_sidecar_is_internal(tmp_path: Path) -> None:
    write(tmp_path, "a.pdf", make_pdf(["Alpha text."], title="Meta title"))
    write(tmp_path, "a.pdf.yaml", "access: public\ntitle: Sidecar title\n")
    write(tmp_path, "b.pdf", make_pdf(["Bravo text."]))
    chunks = {c.source: c for c in load_knowledge(tmp_path)}
    assert chunks["a.pdf"].title == "Sidecar title"
    assert chunks["b.pdf"].access is Access.INTERNAL
    assert chunks["b.pdf"].title == "B"


@pytest.mark.parametrize(
    ("sidecar", "pdf", "match"),
    [
        ("access: open\n", None, r"a\.pdf: invalid access label"),
        ("access: [public\n", None, r"a\.pdf\.yaml: broken YAML"),
        ("- public\n", None, r"a\.pdf\.yaml: must be a mapping"),
        ("access: public\n", b"%PDF-1.4 this is not really a pdf", r"a\.pdf: cannot read PDF"),
    ],
)
def test_pdf_errors_name_the_file(tmp_path: Path, sidecar: str, pdf: bytes | None, match: str) -> None:
    write(tmp_path, "a.pdf", pdf if pdf is not None else make_pdf(["Alpha text."]))
    write(tmp_path, "a.pdf.yaml", sidecar)
    with pytest.raises(ConfigError, match=match):
        load_knowledge(tmp_path)


# --- KnowledgeBase ---------------------------------------------------------------------------------


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_knowledge_base_splits_public_from_protected(tmp_path: Path) -> None:
    write(tmp_path, "faq.md", "---\ntitle: FAQ\naccess: public\n---\n## Gift cards\n\nWe sell gift cards.\n")
    write(tmp_path, "prices.md", "---\ntitle: Costs\naccess: internal\n---\n## Cost\n\nCost price 100 NOK.\n")
    write(tmp_path, "codes.md", "---\ntitle: Codes\naccess: restricted\n---\n## Alarm\n\nAlarm code 4482.\n")
    kb = KnowledgeBase.load(tmp_path)
    assert len(kb.chunks) == 3
    assert [c.title for c in kb.retriever.chunks] == ["FAQ"]
    assert {c.title for c in kb.protected_chunks} == {"Costs", "Codes"}
    assert all(not c.is_public for c in kb.protected_chunks)
    assert kb.public_titles() == ["FAQ"]


def test_refresh_reingests_only_on_change(tmp_path: Path) -> None:
    page = write(tmp_path, "faq.md", "---\ntitle: FAQ\naccess: public\n---\n## Gift cards\n\nWe sell gift cards.\n")
    kb = KnowledgeBase.load(tmp_path)
    assert kb.refresh() is False

    # Changing a label takes the page out of the index at once.
    page.write_text("---\ntitle: FAQ\naccess: internal\n---\n## Gift cards\n\nWe sell gift cards.\n")
    _bump_mtime(page)
    assert kb.refresh() is True
    assert kb.retriever.chunks == ()
    assert kb.retriever.search("gift cards") == []
    assert kb.refresh() is False

    write(tmp_path, "new.md", "---\ntitle: New\naccess: public\n---\n## Rentals\n\nWe rent kayaks.\n")
    assert kb.refresh() is True
    assert kb.public_titles() == ["New"]

    (tmp_path / "new.md").unlink()
    assert kb.refresh() is True
    assert kb.public_titles() == []


def test_refresh_with_a_broken_file_fails_closed_then_recovers(tmp_path: Path) -> None:
    write(tmp_path, "faq.md", "---\ntitle: FAQ\naccess: public\n---\n## Gift cards\n\nWe sell gift cards.\n")
    write(tmp_path, "codes.md", "---\naccess: restricted\n---\n## Alarm\n\nAlarm code 4482.\n")
    kb = KnowledgeBase.load(tmp_path)
    protected = kb.protected_chunks
    # The owner relabels the FAQ but mistypes the label: it must not stay public meanwhile.
    write(tmp_path, "faq.md", "---\ntitle: FAQ\naccess: internl\n---\n## Gift cards\n\nWe sell gift cards.\n")
    _bump_mtime(tmp_path / "faq.md")
    with pytest.raises(ConfigError, match=r"faq\.md"):
        kb.refresh()
    assert kb.last_error and "faq.md" in kb.last_error
    assert kb.public_titles() == [] and kb.retriever.search("gift cards") == []
    assert kb.protected_chunks == protected  # the leakage guard keeps its reference text
    assert kb.refresh() is False  # raised once; the desk keeps running, answering nothing from knowledge
    write(tmp_path, "faq.md", "---\ntitle: FAQ\naccess: public\n---\n## Gift cards\n\nWe sell gift cards.\n")
    _bump_mtime(tmp_path / "faq.md")
    assert kb.refresh() is True
    assert kb.last_error is None
    assert kb.public_titles() == ["FAQ"]


# --- embeddings ------------------------------------------------------------------------------------


def test_shipped_vocab_matches_pinned_digest() -> None:
    assert file_sha256(VOCAB_PATH) == VOCAB_SHA256
    assert (VOCAB_PATH.parent / "NOTICE.txt").read_text().count("Apache License") == 1


def test_embedder_vectors_are_normalised_and_meaningful() -> None:
    embedder = default_embedder()
    assert default_embedder() is embedder  # one model per process
    vectors = embedder.embed(
        [
            "How long does delivery take?",
            "Delivery in Norway takes 2-4 business days.",
            "What is the capital of Peru?",
            "",
        ]
    )
    assert vectors.shape == (4, EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert np.array_equal(embedder.embed(["How long does delivery take?"])[0], vectors[0])  # memory cache
    assert embedder.embed([]).shape == (0, EMBEDDING_DIM)


def test_embedder_refuses_files_that_do_not_match_their_digest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="refusing to load"):
        Embedder(vocab_path=VOCAB_PATH, vocab_sha256="0" * 64)
    tampered = write(tmp_path, "vocab.txt", VOCAB_PATH.read_text(encoding="utf-8") + "extra\n")
    with pytest.raises(ConfigError, match="sha256"):
        Embedder(vocab_path=tampered, vocab_sha256=VOCAB_SHA256)
    fake_model = write(tmp_path, "model.onnx", b"not a model")
    with pytest.raises(ConfigError, match="refusing to load"):
        Embedder(model_path=fake_model, model_sha256="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6")
    with pytest.raises(ConfigError, match="not found"):
        Embedder(model_path=tmp_path / "missing.onnx")


def test_embedder_accepts_a_local_copy_with_its_digest(tmp_path: Path) -> None:
    vocab = tmp_path / "my-vocab.txt"
    shutil.copy(VOCAB_PATH, vocab)
    embedder = Embedder(vocab_path=vocab, vocab_sha256=VOCAB_SHA256, memory_cache=0)
    assert embedder.fingerprint == default_embedder().fingerprint
    texts = ["tents", "Delivery in Norway takes 2-4 business days, longer to Svalbard and Finnmark."]
    batched = embedder.embed(texts)
    assert np.allclose(batched, default_embedder().embed(texts), atol=1e-5)
    # Padding inside a batch does not change a text's vector.
    assert np.allclose(batched[0], embedder.embed(texts[:1])[0], atol=1e-5)


class CountingEmbedder:
    fingerprint = "test-counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i, len(text) % 4] = 1.0
        return out


def test_embedding_cache_reuses_vectors_and_never_pickles(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    first = embed_cached(embedder, ["a", "bb", "a"], tmp_path)
    assert embedder.seen == ["a", "bb"]
    cache_files = list(tmp_path.glob("embeddings-*.npz"))
    assert len(cache_files) == 1
    with np.load(cache_files[0], allow_pickle=False) as data:
        assert data["vectors"].shape == (2, 4)
    again = embed_cached(CountingEmbedder(), ["a", "bb", "a"], tmp_path)
    assert np.array_equal(first, again)

    other = CountingEmbedder()
    embed_cached(other, ["bb", "ccc"], tmp_path)
    assert other.seen == ["ccc"]

    cache_files[0].write_bytes(b"garbage")
    damaged = CountingEmbedder()
    assert embed_cached(damaged, ["bb"], tmp_path).shape == (1, 4)
    assert damaged.seen == ["bb"]


def test_knowledge_base_cache_makes_reload_cheap(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    write(knowledge, "faq.md", "---\ntitle: FAQ\naccess: public\n---\n## Gift cards\n\nWe sell gift cards.\n")
    write(knowledge, "secret.md", "---\naccess: restricted\n---\n## Alarm\n\nAlarm code 4482.\n")
    first = CountingEmbedder()
    KnowledgeBase.load(knowledge, tmp_path / "cache", embedder=first)
    assert first.seen and not any("4482" in t for t in first.seen)
    second = CountingEmbedder()
    KnowledgeBase.load(knowledge, tmp_path / "cache", embedder=second)
    assert second.seen == []


# --- the demo business -----------------------------------------------------------------------------


def test_demo_config_validates() -> None:
    config = load_config(DEMO / "safedesk.yaml")
    assert config.business.name == "Nordlys Outdoor"
    assert config.business.timezone == "Europe/Oslo"
    assert config.business.hours["sat"] != "closed"
    assert config.business.contact_email
    assert "NO" in config.business.regions


def test_demo_knowledge_has_every_label() -> None:
    chunks = load_knowledge(DEMO / "knowledge")
    by_source: dict[str, set[Access]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, set()).add(chunk.access)
    public = {s for s, a in by_source.items() if a == {Access.PUBLIC}}
    assert {"faq.md", "shipping.md", "returns.md", "opening-hours.md", "payment.md", "size-guide.html"} <= public
    assert by_source["supplier-prices.md"] == {Access.INTERNAL}
    assert by_source["staff-handbook.md"] == {Access.INTERNAL}
    assert by_source["winter-sale-plan.md"] == {Access.INTERNAL}  # no label at all
    assert by_source["security-procedures.md"] == {Access.RESTRICTED}
    for source in by_source:
        assert sum(1 for c in chunks if c.source == source) >= 2, source  # several sections per page


def test_demo_customers_are_fictional() -> None:
    with open(DEMO / "customers.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6
    assert list(rows[0]) == ["id", "name", "email", "phone", "order_id", "order_status", "delivery_date"]
    for row in rows:
        assert row["email"].endswith(("@example.com", "@example.org"))
        assert row["phone"].startswith("+")
    assert len({r["id"] for r in rows}) == len({r["order_id"] for r in rows}) == 6


def test_optimised_model_cache_is_verified_and_gives_the_same_vectors(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The embedding graph is optimised once and cached; a cached file that fails its digest is rebuilt."""
    import numpy as np

    from safedesk.knowledge.embeddings import Embedder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = Embedder().embed_one("How long does delivery take?")
    cached = list((tmp_path / "safedesk" / "onnx").glob("*.onnx"))
    assert len(cached) == 1 and cached[0].with_suffix(".sha256").is_file()
    second = Embedder().embed_one("How long does delivery take?")  # loads the cached, optimised graph
    np.testing.assert_allclose(first, second, atol=1e-6)
    cached[0].write_bytes(b"not a model")  # tampered: the digest no longer matches
    third = Embedder().embed_one("How long does delivery take?")
    np.testing.assert_allclose(first, third, atol=1e-6)
    assert cached[0].stat().st_size > 1000  # rebuilt from the pinned model


def test_the_graph_is_prepared_once_by_concurrent_starts_in_a_child(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """Workers starting together on a fresh machine: one prepares the graph (in a child process, so its
    one-off memory peak stays out of the server), the others wait for it and load it."""
    import resource
    import threading

    import numpy as np

    from safedesk.knowledge import embeddings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[str] = []
    real = embeddings.prepare_in_child

    def counting(model_path, target):  # type: ignore[no-untyped-def]
        calls.append(str(target))
        real(model_path, target)

    monkeypatch.setattr(embeddings, "prepare_in_child", counting)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    vectors: list[np.ndarray] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            vectors.append(embeddings.Embedder().embed_one("Do you ship to Norway?"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(vectors) == 3 and len(calls) == 1
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > children_before  # the work ran in a child
    assert "preparing it here" not in caplog.text  # ... and succeeded there (no in-process fallback)
    assert not list((tmp_path / "safedesk" / "onnx").glob(".prepare-*"))  # its scratch folder is gone


def test_the_graph_is_still_prepared_when_no_child_process_can_run(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from safedesk import graph_prep
    from safedesk.knowledge.embeddings import Embedder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(graph_prep.sys, "executable", str(tmp_path / "no-such-python"))
    vector = Embedder().embed_one("Do you ship to Norway?")
    assert vector.shape == (384,)
    assert "preparing it here" in caplog.text


def test_a_child_that_runs_out_of_time_leaves_no_scratch_files(tmp_path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from safedesk import graph_prep
    from safedesk.knowledge.embeddings import Embedder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(graph_prep, "CHILD_TIMEOUT_S", 0.05)  # killed mid-way, as a stuck or OOM-killed child is
    assert Embedder().embed_one("Do you ship to Norway?").shape == (384,)
    assert "timed out" in caplog.text
    assert not [p for p in (tmp_path / "safedesk" / "onnx").iterdir() if p.name.startswith((".prepare-", "tmp"))]


def test_a_valid_cached_graph_loads_even_where_it_cannot_be_locked(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A read-only cache (or a file system without locks) that already holds the graph: load it, prepare
    nothing."""
    from safedesk.knowledge import embeddings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    embeddings.Embedder()  # prepares and caches the graph

    def no_lock(path):  # type: ignore[no-untyped-def]
        raise OSError(30, "Read-only file system", str(path))

    def must_not_prepare(model_path, target):  # type: ignore[no-untyped-def]
        raise AssertionError("prepared again")

    monkeypatch.setattr(embeddings, "exclusive_lock", no_lock)
    monkeypatch.setattr(embeddings, "prepare_in_child", must_not_prepare)
    assert embeddings.Embedder().embed_one("Do you ship to Norway?").shape == (384,)


def test_a_page_relabelled_with_its_old_size_and_time_is_seen_as_changed(tmp_path: Path) -> None:
    """Found by a bug hunt: a running desk kept serving a page relabelled from public to internal when the new
    file had the same size and modification time (as `cp -p` leaves it)."""
    import time

    from safedesk.knowledge.base import knowledge_fingerprint

    page = tmp_path / "loyalty.md"
    write(tmp_path, "loyalty.md", "---\naccess: public\n---\nMembers get 10% off.\n")
    before = knowledge_fingerprint(tmp_path)
    stat = page.stat()
    time.sleep(0.01)
    write(
        tmp_path, "loyalty.md", "---\naccess: intern\n---\nMembers get 10% off.\n"
    )  # same length: 'public' -> 'intern'
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert page.stat().st_size == stat.st_size and page.stat().st_mtime_ns == stat.st_mtime_ns
    assert knowledge_fingerprint(tmp_path) != before


# --- facts from safedesk.yaml --------------------------------------------------------------------


def _business(**hours: str) -> BusinessConfig:
    return BusinessConfig(name="Eikeland Sykkel", timezone="Europe/Oslo", hours=hours)


def test_configured_hours_become_public_knowledge_only_when_no_page_states_times(tmp_path: Path) -> None:
    """Found by a new-user walkthrough: with the hours only in safedesk.yaml, "When are you open?" got a
    repair-price sentence, although the desk told customers those hours at every hand-off."""
    business = _business(mon="08:00-12:00, 13:00-17:00", tue="08:00-17:00", wed="08:00-17:00", sat="10:00-14:00")
    write(tmp_path, "welcome.md", "---\naccess: public\n---\n# About\n\nWe repair bikes.\n")
    write(tmp_path, "staff.md", "---\naccess: internal\n---\n# Rota\n\nKari works 07:00-15:00.\n")
    chunks = with_business_facts(load_knowledge(tmp_path), business)
    added = [c for c in chunks if c.source == "safedesk.yaml"]
    assert len(added) == 1 and added[0].is_public  # an internal page's times do not count as published
    assert added[0].text.splitlines()[1:] == [
        "- Monday: 08:00-12:00 and 13:00-17:00",
        "- Tuesday to Wednesday: 08:00-17:00",
        "- Thursday to Friday: closed",
        "- Saturday: 10:00-14:00",
        "- Sunday: closed",
    ]
    assert "Europe/Oslo" in added[0].text
    default = BusinessConfig(name="Eikeland Sykkel")  # the built-in hours: the owner never wrote them
    assert not any(c.source == "safedesk.yaml" for c in with_business_facts(load_knowledge(tmp_path), default))
    # Found by a review: a page giving hours in another form ("10-18", "10am-6pm") got a contradicting chunk.
    for stated in ("We are open 9.00 – 17.00 on weekdays.", "Our store is open Monday to Saturday 10-18.",
                   "Customer service: 10am-6pm.", "Åpningstider: se butikken.", "Vi har åpent kl. 10–18."):  # fmt: skip
        write(tmp_path, "hours.md", f"---\naccess: public\n---\n# Hours\n\n{stated}\n")
        chunks = with_business_facts(load_knowledge(tmp_path), business)
        assert not any(c.source == "safedesk.yaml" for c in chunks), stated
    write(tmp_path, "hours.md", "---\naccess: public\n---\n# Shipping\n\nDelivery takes 2-4 business days.\n")
    assert any(c.source == "safedesk.yaml" for c in with_business_facts(load_knowledge(tmp_path), business))


def test_a_desk_answers_opening_hours_from_its_config_and_keeps_them_after_a_reload(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    (project / "knowledge").mkdir(parents=True)
    write(project / "knowledge", "welcome.md", "---\naccess: public\n---\n# Repairs\n\nA service takes 2-3 days.\n")
    (project / "safedesk.yaml").write_text(
        "business:\n  name: Eikeland Sykkel\n  timezone: Europe/Oslo\n  hours:\n    sat: '10:00-14:00'\n",
        encoding="utf-8",
    )
    desk = Desk.open(project)  # built the way `safedesk serve` builds it
    try:
        hits = desk.knowledge.retriever.search("When are you open?", k=1)
        assert hits and hits[0].chunk.source == "safedesk.yaml" and "Saturday: 10:00-14:00" in hits[0].chunk.text
        write(project / "knowledge", "prices.md", "---\naccess: public\n---\n# Prices\n\nA puncture is 250 NOK.\n")
        assert desk.knowledge.refresh()
        assert any(c.source == "safedesk.yaml" for c in desk.knowledge.public_chunks)
    finally:
        desk.close()


def test_word_spans_keep_hyphenated_words_whole_with_their_offsets() -> None:
    text = "Do you sell second-hand tents at 10:00?"
    spans = word_spans(text)
    assert [w for _, _, w in spans] == ["Do", "you", "sell", "second-hand", "tents", "at", "10:00"]
    assert all(text[start:end] == word for start, end, word in spans)


def test_an_unknown_pdf_sidecar_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.pdf", b"%PDF-1.4 not read: the sidecar is checked first")
    write(tmp_path, "a.pdf.yaml", "acces: public\n")
    with pytest.raises(ConfigError, match=r"a\.pdf\.yaml: unknown front matter key 'acces'"):
        load_knowledge(tmp_path)


def test_files_without_an_access_label_are_listed_for_a_warning(tmp_path: Path) -> None:
    from safedesk.knowledge.ingest import unlabelled_files

    write(tmp_path, "labelled.md", "---\naccess: internal\n---\n" + BODY)
    write(tmp_path, "plain.md", BODY)
    write(tmp_path, "empty-label.md", "---\naccess:\n---\n" + BODY)
    write(tmp_path, "page.html", "<html><head><title>T</title></head><body><p>Text.</p></body></html>")
    write(
        tmp_path, "public.html", '<html><head><meta name="access" content="public"></head><body><p>x</p></body></html>'
    )
    assert unlabelled_files(tmp_path) == ["empty-label.md", "page.html", "plain.md"]


def test_a_contact_line_inside_a_long_paragraph_is_found() -> None:
    """Found by a new-user walkthrough: "What is your phone number?" got "not sure" although the about page
    gives it; the fitting sentence (cosine 0.62) was averaged with the whole paragraph (0.08)."""
    from safedesk.domain import KnowledgeChunk
    from safedesk.knowledge import PublicRetriever

    about = KnowledgeChunk(
        "about",
        "About Eikeland Sykkelverksted",
        "About us",
        "Eikeland Sykkelverksted is a small bicycle repair shop in Bergen (Nygårdsgaten 12, 5015 Bergen) with a web "
        "shop for parts and accessories. We repair all brands of bicycles, including e-bikes from Bosch, Shimano "
        "and Yamaha. Phone: +47 55 00 12 34. Email: post@eikeland-sykkel.example.",
        "about.md",
        Access.PUBLIC,
    )
    others = [
        KnowledgeChunk(f"o{i}", title, heading, text, f"o{i}.md", Access.PUBLIC)
        for i, (title, heading, text) in enumerate(
            [
                ("Services", "Prices", "A normal service takes 2-3 working days and costs 990 NOK."),
                ("Services", "Winter storage", "We store bicycles over the winter from 1 November to 1 April."),
                ("Web shop", "Delivery", "Parts ordered in the web shop are delivered in 2-4 working days."),
                ("Web shop", "Returns", "Unused parts can be returned within 30 days."),
            ]
        )
    ]
    retriever = PublicRetriever([about, *others], default_embedder())
    best = retriever.search("What is your phone number?", k=1)[0]
    assert best.chunk.chunk_id == "about" and best.score >= 0.35  # the approved responder's threshold
    assert retriever.search("Do you sell helicopters?", k=1)[0].score < 0.35
