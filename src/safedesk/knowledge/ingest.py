"""Read a business's knowledge files into heading-sized chunks with provenance and access labels.

Supported files (anything else in knowledge/ is ignored):

- Markdown (`.md`, `.markdown`): optional YAML front matter with `title` and
  `access: public | internal | restricted`; chunked at `#`, `##` and `###` headings.
- HTML (`.html`, `.htm`): title from `<title>` or the first `<h1>`, access from
  `<meta name="access" content="public">`; chunked at `<h1>`-`<h3>`.
- PDF (`.pdf`): access and title from a sidecar `NAME.pdf.yaml` (`access: public`); chunked by page
  and paragraph group.

A file without an access label is INTERNAL: safe by default (`unlabelled_files` lists them, for a warning).
An invalid label, a front matter key that looks like a misspelt label (`acess: public`), broken front matter
or an unreadable file raises `ConfigError` naming the file, so a typo never silently publishes (or silently
hides) a page.

Chunk text is plain text: inline markup (`**`, links, code ticks) is removed, list items keep a
leading "- " (or "1. ") on their own line, table rows become "cell | cell", blocks are separated by a
blank line. Long sections are split at block (then line, then sentence) boundaries.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safedesk import strict_yaml
from safedesk.domain import Access, KnowledgeChunk
from safedesk.errors import ConfigError

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES

# About 130-180 MiniLM tokens: long enough for a whole answer, short enough that the embedding of
# the chunk (truncated at 128 tokens) still covers most of it.
MAX_CHUNK_CHARS = 700
DEFAULT_ACCESS = Access.INTERNAL
# The front matter (and PDF sidecar) keys the desk reads. A key that looks like a misspelt one is refused: a
# `acess: public` would otherwise be ignored and leave the page internal without a word. Other keys are ignored.
_LABEL_KEYS = ("access", "title")
UNLABELLED_HINT = (
    "no access label, so it is INTERNAL (never used for answers); to publish it add 'access: public' to its "
    'front matter (Markdown), <meta name="access" content="public"> (HTML) or NAME.pdf.yaml (PDF)'
)

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9ÆØÅÄÖ])")
_WS = re.compile(r"[ \t\r\f\v]+")


@dataclass(slots=True)
class _Section:
    heading: str
    blocks: list[str] = field(default_factory=list)


def load_knowledge(knowledge_dir: Path) -> list[KnowledgeChunk]:
    """All chunks of all supported files under `knowledge_dir`, in a stable order.

    A missing directory yields no chunks (the desk then answers nothing from knowledge).
    """
    knowledge_dir = Path(knowledge_dir)
    if not knowledge_dir.is_dir():
        log.warning("knowledge directory %s does not exist; no knowledge loaded", knowledge_dir)
        return []
    chunks: list[KnowledgeChunk] = []
    for path in knowledge_files(knowledge_dir):
        chunks.extend(load_file(path, knowledge_dir))
    return chunks


def knowledge_files(knowledge_dir: Path) -> list[Path]:
    """The files `load_knowledge` reads: supported suffixes, no hidden files or directories."""
    found = []
    for path in sorted(knowledge_dir.rglob("*")):
        rel = path.relative_to(knowledge_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(path)
    return found


def load_file(path: Path, knowledge_dir: Path) -> list[KnowledgeChunk]:
    """Chunks of one knowledge file. `source` is its path relative to `knowledge_dir`."""
    source = path.relative_to(knowledge_dir).as_posix()
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        title, access, sections = _parse_markdown(path, source)
    elif suffix in HTML_SUFFIXES:
        title, access, sections = _parse_html(path, source)
    elif suffix in PDF_SUFFIXES:
        title, access, sections = _parse_pdf(path, source)
    else:
        raise ConfigError(f"{source}: unsupported knowledge file type {suffix!r}")
    return list(_make_chunks(source, title, access, sections))


# --- access labels -----------------------------------------------------------------------------


def parse_access(value: Any, source: str) -> Access:
    """An access label from front matter/meta/sidecar. Missing -> INTERNAL; invalid -> ConfigError."""
    if value is None:
        return DEFAULT_ACCESS
    if isinstance(value, str):
        cleaned = value.strip().lower()
        if not cleaned:
            return DEFAULT_ACCESS
        try:
            return Access(cleaned)
        except ValueError:
            pass
    allowed = ", ".join(a.value for a in Access)
    raise ConfigError(f"{source}: invalid access label {value!r} (use one of: {allowed})")


def check_meta_keys(meta: dict[Any, Any], source: str) -> None:
    """Refuse a key that looks like a misspelt `access` or `title` (`acess: public`, `Access: public`): the
    page would silently stay internal or lose its title. Other keys (author, date, slug ...) are the page's
    own business, as in any static-site generator's front matter, and are ignored."""
    for key in meta:
        name = str(key)
        if name in _LABEL_KEYS:
            continue
        close = difflib.get_close_matches(name.lower(), _LABEL_KEYS, n=1, cutoff=0.8)  # not subtitle
        if close:
            raise ConfigError(
                f"{source}: unknown front matter key {name!r} (did you mean {close[0]!r}?); the page would "
                f"otherwise be loaded without its {close[0]}"
            )


def unlabelled_files(knowledge_dir: Path) -> list[str]:
    """The knowledge files (relative paths) that give no access label and are therefore internal."""
    knowledge_dir = Path(knowledge_dir)
    if not knowledge_dir.is_dir():
        return []
    found = []
    for path in knowledge_files(knowledge_dir):
        source = path.relative_to(knowledge_dir).as_posix()
        if _raw_access(path, source) in (None, ""):
            found.append(source)
    return found


def _raw_access(path: Path, source: str) -> Any:
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return split_front_matter(_read_text(path, source), source)[0].get("access")
    if suffix in HTML_SUFFIXES:
        from bs4 import BeautifulSoup

        return _html_access_value(BeautifulSoup(_read_text(path, source), "html.parser"), source)
    return _pdf_sidecar(path, source).get("access")


def _meta_title(value: Any, source: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{source}: 'title' must be text, not {type(value).__name__}")
    return _clean_inline(str(value))


def _title_from_name(path: Path) -> str:
    stem = path.name.split(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _read_text(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None


# --- Markdown ----------------------------------------------------------------------------------

_FRONT_MATTER_OPEN = re.compile(r"\A---[ \t]*\r?\n")
_FRONT_MATTER_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)


def split_front_matter(text: str, source: str) -> tuple[dict[str, Any], str]:
    """(front matter mapping, body). No front matter -> ({}, text). Broken -> ConfigError."""
    opening = _FRONT_MATTER_OPEN.match(text)
    if not opening:
        return {}, text
    closing = _FRONT_MATTER_CLOSE.search(text, opening.end())
    if not closing:
        raise ConfigError(f"{source}: front matter starts with '---' but has no closing '---' line")
    raw = text[opening.end() : closing.start()]
    body = text[closing.end() :].lstrip("\r\n")
    try:
        data = strict_yaml.load(raw) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark else ""  # +1 for 1-based, +1 for the '---' line
        raise ConfigError(f"{source}{where}: broken front matter: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: front matter must be a mapping like 'access: public'")
    return data, body


def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").enable("strikethrough")


def _inline_text(token: Any) -> str:
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return _clean_inline("".join(parts))


def _clean_inline(text: str) -> str:
    return "\n".join(_WS.sub(" ", line).strip() for line in text.split("\n")).strip()


def _parse_markdown(path: Path, source: str) -> tuple[str, Access, list[_Section]]:
    meta, body = split_front_matter(_read_text(path, source), source)
    check_meta_keys(meta, source)
    access = parse_access(meta.get("access"), source)
    title = _meta_title(meta.get("title"), source)
    if access is Access.PUBLIC and (hidden_in := _hidden_html_element(body)):
        # Markdown splits raw HTML around blank lines, so what such an element hides cannot be told apart from
        # the page around it: refuse the page (the message names the element, never the hidden text).
        raise ConfigError(
            f"{source}: a public page with hidden HTML (a <{hidden_in}> element): customers would be quoted "
            "text their browser never shows; move it to an internal page"
        )
    sections = _markdown_sections(body)
    if not title:
        title = next((s.heading for s in sections if s.heading), "") or _title_from_name(path)
    return title, access, sections


def markdown_has_text(body: str) -> bool:
    """Does this Markdown body give any text to answer from (not only comments, markup or blank lines)?"""
    return any(section.blocks for section in _markdown_sections(body))


def _markdown_sections(body: str) -> list[_Section]:
    tokens = _markdown_parser().parse(body)
    sections = [_Section("")]
    lists: list[list[Any]] = []  # stack of [ordered?, counter]
    list_lines: list[str] = []
    item_has_text: list[bool] = []
    table_rows: list[list[str]] = []
    in_table = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        kind = tok.type
        if kind == "heading_open":
            text = _inline_text(tokens[i + 1])
            if tok.tag in ("h1", "h2", "h3") and not lists:
                sections.append(_Section(text))
            elif text:
                _add_line(sections, list_lines, lists, item_has_text, text)
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = int(tok.attrGet("start") or 1) if kind == "ordered_list_open" else 0
            lists.append([kind == "ordered_list_open", start])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            if not lists and list_lines:
                sections[-1].blocks.append("\n".join(list_lines))
                list_lines = []
        elif kind == "list_item_open":
            item_has_text.append(False)
        elif kind == "list_item_close":
            item_has_text.pop()
            if lists and lists[-1][0]:
                lists[-1][1] += 1
        elif kind == "table_open":
            in_table, table_rows = True, []
        elif kind == "tr_open":
            table_rows.append([])
        elif kind == "table_close":
            in_table = False
            rows = [" | ".join(c for c in row) for row in table_rows if any(row)]
            if rows:
                _add_line(sections, list_lines, lists, item_has_text, "\n".join(rows))
        elif kind == "inline":
            text = _inline_text(tok)
            if in_table:
                if table_rows:
                    table_rows[-1].append(text)
            elif text:
                _add_line(sections, list_lines, lists, item_has_text, text)
        elif kind in ("fence", "code_block"):
            text = tok.content.strip("\n")
            if text.strip():
                _add_line(sections, list_lines, lists, item_has_text, text)
        elif kind == "html_block":
            text = _html_fragment_text(tok.content)
            if text:
                _add_line(sections, list_lines, lists, item_has_text, text)
        i += 1
    return sections


def _add_line(
    sections: list[_Section], list_lines: list[str], lists: list[list[Any]], item_has_text: list[bool], text: str
) -> None:
    """Add a paragraph-level text to the current section, as a list item line when inside a list."""
    if not lists:
        sections[-1].blocks.append(text)
        return
    indent = "  " * (len(lists) - 1)
    if item_has_text and not item_has_text[-1]:
        ordered, counter = lists[-1]
        marker = f"{counter}. " if ordered else "- "
        item_has_text[-1] = True
        list_lines.append(indent + marker + text.replace("\n", " "))
    else:  # a second paragraph inside the same item: continue it on its own line
        list_lines.append(indent + "  " + text.replace("\n", " "))


def _html_fragment_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    _drop_invisible(soup, "")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return _clean_inline(soup.get_text(" "))


# Elements a reader never sees, or sees only as form controls: a "hidden" staff note in a public page must
# not become the shop's public answer.
_UNSEEN_TAGS = ("textarea", "select", "option", "datalist", "input")
# Declarations that hide text, read after comments, escapes and spaces are taken out ("display:/**/none").
_HIDING_DECLARATION = re.compile(
    r"display:none|visibility:(?:hidden|collapse)|opacity:0?(?:\.0*)?(?:[;!]|$)|font-size:0(?:px|em|rem|pt|%)?(?:[;!]|$)"
)
_STYLE_RULE = re.compile(r"([^{}@;]+)\{([^{}]*)\}")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def _hides(css: str) -> bool:
    css = _CSS_COMMENT.sub("", css).replace("\\", "")
    return bool(_HIDING_DECLARATION.search(re.sub(r"\s+", "", css).lower()))


def _hidden_by_style_sheets(soup: Any, source: str) -> list[Any]:
    """Elements a <style> rule hides (".staff { display: none }"), found with the rule's own selectors."""
    hidden: list[Any] = []
    for style in soup.find_all("style"):
        sheet = _CSS_COMMENT.sub("", style.get_text())
        for selectors, declarations in _STYLE_RULE.findall(sheet):
            if not _hides(declarations):
                continue
            for selector in (part.strip() for part in selectors.split(",")):
                try:
                    hidden += soup.select(selector)
                except Exception:  # soupsieve cannot read it: what it hides cannot be told, so refuse
                    raise ConfigError(
                        f"{source or 'a page'}: a style rule hides {selector[:80]!r}, a selector SafeDesk cannot "
                        "read; remove the rule or the hidden text"
                    ) from None
    return hidden


def _hidden_html_element(markdown: str) -> str | None:
    """The tag name of the first element that hides text, in the page as a browser renders it; else None."""
    if "<" not in markdown:
        return None
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_markdown_parser().render(markdown), "html.parser")
    hidden = next((tag for tag in _invisible_elements(soup, "") if tag.get_text(strip=True)), None)
    return str(hidden.name) if hidden is not None else None


def _invisible_elements(soup: Any, source: str) -> Iterator[Any]:
    """Every element a reader never sees: hidden by a style sheet rule, then by its own attributes."""
    yield from _hidden_by_style_sheets(soup, source)
    yield from (tag for tag in soup.find_all(True) if _is_invisible(tag))


def _drop_invisible(soup: Any, source: str) -> None:
    for tag in list(_invisible_elements(soup, source)):
        if not tag.decomposed:  # inside one dropped already
            tag.decompose()


def _is_invisible(tag: Any) -> bool:
    return bool(
        tag.name in _UNSEEN_TAGS
        or tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
        or _hides(str(tag.get("style", "")))
    )


# --- HTML --------------------------------------------------------------------------------------

_HTML_SKIP = frozenset({"script", "style", "noscript", "template", "head", "nav", "svg", "form", "button"})
_HTML_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre",
        "li", "dl", "dt", "dd", "figure", "figcaption",
        "address", "details", "summary", "h4", "h5", "h6", "hr",
    }
)  # fmt: skip


def _html_access_value(soup: Any, source: str) -> Any:
    """The content of `<meta name="access">`, or None when the page has none."""
    from bs4 import Tag

    meta = soup.find("meta", attrs={"name": re.compile(r"^access$", re.IGNORECASE)})
    access_value = meta.get("content") if isinstance(meta, Tag) else None
    if isinstance(meta, Tag) and access_value is None:
        raise ConfigError(f'{source}: <meta name="access"> has no content attribute')
    return access_value


def _parse_html(path: Path, source: str) -> tuple[str, Access, list[_Section]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path, source), "html.parser")
    access = parse_access(_html_access_value(soup, source), source)

    title = ""
    if soup.title and soup.title.get_text(strip=True):
        title = _clean_inline(soup.title.get_text(" "))
    elif (h1 := soup.find("h1")) is not None:
        title = _clean_inline(h1.get_text(" "))
    title = title or _title_from_name(path)

    _drop_invisible(soup, source)
    root = soup.body or soup
    walker = _HtmlWalker()
    walker.walk(root)
    walker.flush()
    return title, access, walker.sections


class _HtmlWalker:
    def __init__(self) -> None:
        self.sections = [_Section("")]
        self.buffer: list[str] = []

    def flush(self) -> None:
        text = _clean_inline("".join(self.buffer))
        self.buffer = []
        if text:
            self.sections[-1].blocks.append(text)

    def walk(self, node: Any) -> None:
        from bs4 import Comment, NavigableString, Tag

        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = (child.name or "").lower()
            if name in _HTML_SKIP:
                continue
            if name in ("h1", "h2", "h3"):
                self.flush()
                self.sections.append(_Section(_clean_inline(child.get_text(" "))))
            elif name == "br":
                self.buffer.append("\n")
            elif name == "table":
                self.flush()
                rows = []
                for tr in child.find_all("tr"):
                    cells = [_clean_inline(c.get_text(" ")) for c in tr.find_all(["td", "th"], recursive=False)]
                    if any(cells):
                        rows.append(" | ".join(cells))
                if rows:
                    self.sections[-1].blocks.append("\n".join(rows))
            elif name in ("ul", "ol"):
                self.flush()
                items = []
                for number, li in enumerate(child.find_all("li", recursive=False), start=1):
                    inner = _HtmlWalker()
                    inner.walk(li)
                    inner.flush()
                    text = " ".join(b for s in inner.sections for b in ([s.heading] if s.heading else []) + s.blocks)
                    text = " ".join(text.split())
                    if text:
                        items.append(("- " if name == "ul" else f"{number}. ") + text)
                if items:
                    self.sections[-1].blocks.append("\n".join(items))
            elif name in _HTML_BLOCKS:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_sidecar(path: Path, source: str) -> dict[str, Any]:
    """The labels of a PDF from NAME.pdf.yaml ({} when there is none)."""
    sidecar = path.with_name(path.name + ".yaml")
    if not sidecar.is_file():
        return {}
    side_source = f"{source}.yaml"
    try:
        loaded = strict_yaml.load(_read_text(sidecar, side_source))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{side_source}: broken YAML: {getattr(exc, 'problem', exc)}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigError(f"{side_source}: must be a mapping like 'access: public'")
    check_meta_keys(loaded or {}, side_source)
    return loaded or {}


def _parse_pdf(path: Path, source: str) -> tuple[str, Access, list[_Section]]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    meta = _pdf_sidecar(path, source)
    access = parse_access(meta.get("access"), source)
    title = _meta_title(meta.get("title"), source)

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise ConfigError(f"{source}: encrypted PDFs are not supported")
        pages = [page.extract_text() or "" for page in reader.pages]
        if not title and reader.metadata is not None and reader.metadata.title:
            title = _clean_inline(str(reader.metadata.title))
    except ConfigError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{source}: cannot read PDF: {exc}") from None
    sections = []
    for number, page_text in enumerate(pages, start=1):
        blocks = [_unwrap_pdf_lines(_clean_inline(b)) for b in re.split(r"\n\s*\n", page_text)]
        sections.append(_Section(f"Page {number}", [b for b in blocks if b]))
    return title or _title_from_name(path), access, sections


_PDF_BULLET = re.compile(r"^(?:[-*•▪◦]|\d{1,3}[.)])\s")


def _unwrap_pdf_lines(block: str) -> str:
    """Re-join the visual lines of a PDF paragraph; keep bullets and heading-like lines apart."""
    out: list[str] = []
    for line in block.split("\n"):
        line = line.strip()
        if not line:
            continue
        if not out:
            out.append(line)
            continue
        previous = out[-1]
        heading_like = len(previous) < 50 and not previous.endswith((".", ",", ";", ":", "-")) and line[:1].isupper()
        if _PDF_BULLET.match(line) or heading_like:
            out.append(line)
        elif re.search(r"[^\W\d_]-$", previous) and line[:1].islower():
            out[-1] = previous[:-1] + line  # a word hyphenated at the line break
        else:
            out[-1] = f"{previous} {line}"
    return "\n".join(out)


# --- chunking ----------------------------------------------------------------------------------


def chunk_id_for(source: str, heading: str, index: int) -> str:
    """Stable id of the `index`-th chunk of a file (index counts all chunks of the file)."""
    return hashlib.sha1(f"{source}\x00{heading}\x00{index}".encode(), usedforsecurity=False).hexdigest()[:16]


def _make_chunks(source: str, title: str, access: Access, sections: list[_Section]) -> Iterator[KnowledgeChunk]:
    index = 0
    for section in sections:
        for text in pack_blocks(section.blocks, MAX_CHUNK_CHARS):
            yield KnowledgeChunk(
                chunk_id=chunk_id_for(source, section.heading, index),
                title=title,
                heading=section.heading,
                text=text,
                source=source,
                access=access,
            )
            index += 1


def pack_blocks(blocks: Iterable[str], limit: int) -> list[str]:
    """Join blocks with blank lines into texts of at most ~`limit` characters, splitting big blocks."""
    pieces: list[str] = []
    for block in blocks:
        block = block.strip()
        if block:
            pieces.extend(_split_big(block, limit))
    out: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}\n\n{piece}" if current else piece
        if current and len(candidate) > limit:
            out.append(current)
            current = piece
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _split_big(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    units: list[tuple[str, bool]] = []  # (text, starts a new line)
    for line in block.split("\n"):
        if len(line) <= limit:
            units.append((line, True))
            continue
        first = True
        for sentence in _SENTENCE_SPLIT.split(line):
            while len(sentence) > limit:  # a run-on "sentence": cut at a space
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > limit // 2 else limit
                units.append((sentence[:cut].strip(), first))
                sentence, first = sentence[cut:].strip(), False
            if sentence:
                units.append((sentence, first))
                first = False
    out: list[str] = []
    current = ""
    for unit, new_line in units:
        candidate = f"{current}{chr(10) if new_line else ' '}{unit}" if current else unit
        if current and len(candidate) > limit:
            out.append(current)
            current = unit
        else:
            current = candidate
    if current:
        out.append(current)
    return out
