"""The command-line app: a thin shell over the library. User errors exit 2 with a clean message."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from safedesk.errors import InputError, SafeDeskError, UserError
from safedesk.staff.cli_users import users_app

if TYPE_CHECKING:
    from safedesk.config import DeskConfig

app = typer.Typer(
    help="SafeDesk: a self-hosted AI customer-service desk with the safety built in.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
kb_app = typer.Typer(help="Knowledge files: list, re-ingest, canaries.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks (medians, percentiles, quality metrics).", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")
app.add_typer(users_app, name="users")

# Shared options (one definition each, used by every command that takes them).
ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The business directory (has safedesk.yaml).")]
LlmOpt = Annotated[str | None, typer.Option("--llm", help="Use this OpenAI-compatible server (base URL) for the run.")]
JsonlOpt = Annotated[bool, typer.Option("--jsonl", help="JSON lines on stdout even on a terminal.")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Add why each decision was made.")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _open_desk(project: Path, llm: str | None = None):  # type: ignore[no-untyped-def]
    from safedesk.desk import Desk

    return Desk.open(project, llm_url=llm)


def _echo_setup_warnings(config: DeskConfig) -> None:
    for warning in config.setup_warnings():
        typer.echo(f"warning: {warning}", err=True)


def _machine_output(jsonl: bool) -> bool:
    return jsonl or not sys.stdout.isatty()


def _read_json_lines(required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (line number, object) for each non-blank stdin line, or (line number, error text)."""
    stream = open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"line {number}: not valid JSON ({exc.msg})"
            continue
        except RecursionError:
            yield number, f"line {number}: JSON nested too deeply"
            continue
        if not isinstance(obj, dict):
            yield number, f"line {number}: expected a JSON object"
            continue
        missing = [k for k in required if not isinstance(obj.get(k), str)]
        if missing:
            yield number, f"line {number}: needs string field(s) {', '.join(missing)}"
            continue
        # "\ud800" is valid JSON but not a character: ids and keys must be text (the text itself is cleaned).
        broken = [k for k, v in obj.items() if k != "text" and isinstance(v, str) and _has_lone_surrogate(v)]
        if broken:
            yield number, f"line {number}: field(s) {', '.join(broken)} hold an unpaired surrogate (not valid Unicode)"
            continue
        yield number, obj


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _emit(obj: dict[str, Any]) -> None:
    # A lone surrogate must not end the stream: written as "?" (ids and keys holding one are refused earlier).
    sys.stdout.write(json.dumps(obj, ensure_ascii=False).encode("utf-8", "replace").decode("utf-8") + "\n")
    sys.stdout.flush()


def _jsonl_loop(
    required: tuple[str, ...],
    handle: Callable[[dict[str, Any]], dict[str, Any]],
    show: Callable[[dict[str, Any]], str],
    machine: bool,
) -> None:
    """The shared runner of the JSONL commands: one output line per input line, errors in place."""
    bad = 0

    def error_line(message: str) -> None:  # in place of the line's output; the stream goes on
        nonlocal bad
        bad += 1
        typer.echo(f"error: {message}", err=True)
        _emit({"error": message}) if machine else None

    for number, item in _read_json_lines(required):
        if isinstance(item, str):
            error_line(item)
            continue
        try:
            out = handle(item)
        except SafeDeskError as exc:  # this line cannot be done (bad field, used key ...)
            error_line(f"line {number}: {exc}")
            continue
        except (RecursionError, UnicodeError, ValueError, TypeError) as exc:  # hostile input past the checks
            error_line(f"line {number}: could not be processed ({type(exc).__name__})")
            continue
        _emit(out) if machine else typer.echo(show(out))
    if bad:
        raise typer.Exit(2)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the business directory.")],
    demo: Annotated[bool, typer.Option("--demo", help="Fill it with a realistic demo shop.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="The business name.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing directory's files.")] = False,
) -> None:
    """Create a business directory: safedesk.yaml, knowledge/, data/ (and the demo shop with --demo)."""
    from safedesk.scaffold import init_project

    path = init_project(directory, demo=demo, business_name=name, force=force)
    typer.echo(f"created {path}" + (" with the demo shop" if demo else ""))


@app.command()
def turn(project: ProjectOpt, llm: LlmOpt = None, jsonl: JsonlOpt = False, explain: ExplainOpt = False) -> None:
    """Customer turns as JSON lines: {"conversation","text"} in, one result line out per input."""
    desk = _open_desk(project, llm)
    try:
        from safedesk.storage.models import MAX_ID_CHARS

        def handle(item: dict[str, Any]) -> dict[str, Any]:
            key = item.get("idempotency_key")
            if key is not None and not (isinstance(key, str) and 0 < len(key) <= MAX_ID_CHARS):
                raise InputError(f"idempotency_key must be a string of 1 to {MAX_ID_CHARS} characters")
            if not 0 < len(item["conversation"]) <= MAX_ID_CHARS:
                raise InputError(f"conversation must be 1 to {MAX_ID_CHARS} characters")
            result = desk.pipeline.run(item["conversation"], item["text"], channel="cli", idempotency_key=key)
            return result.to_contract(explain=explain)

        def show(out: dict[str, Any]) -> str:
            extra = "\n  ".join(out.get("explain", []))
            return (
                f"[{out['conversation']}] lane={out['lane']} topic={out['topic']}"
                f"{' HELD' if out['held_for_review'] else ''}\n{out['reply']}" + (f"\n  {extra}" if extra else "")
            )

        _jsonl_loop(("conversation", "text"), handle, show, _machine_output(jsonl))
    finally:
        desk.close()


@app.command()
def scan(project: ProjectOpt, jsonl: JsonlOpt = False, explain: ExplainOpt = False) -> None:
    """Inbound analysis only: {"id","text"} in; lane, topic, injection score, PII spans, redacted text out."""
    from safedesk.scanning import scan_text

    desk = _open_desk(project)
    try:

        def handle(item: dict[str, Any]) -> dict[str, Any]:
            return scan_text(desk, item["id"], item["text"], explain=explain)

        def show(out: dict[str, Any]) -> str:
            pii = ", ".join(f"{p['type']}" for p in out["pii"]) or "none"
            return (
                f"[{out['id']}] lane={out['lane']} topic={out['topic']} injection={out['injection']:.2f}"
                f"{' FLAGGED' if out['flagged'] else ''} pii={pii}\n  {out['redacted']}"
            )

        _jsonl_loop(("id", "text"), handle, show, _machine_output(jsonl))
    finally:
        desk.close()


@app.command()
def scam(
    jsonl: JsonlOpt = False,
    own_domain: Annotated[
        list[str] | None, typer.Option("--own-domain", help="Your own domain(s): look-alikes of them are flagged.")
    ] = None,
) -> None:
    """Staff tool, scam second opinion: {"id","text"} in; risk 0..1, verdict and reasons out."""
    from safedesk.staff_tools.scam import scam_line

    domains = tuple(own_domain or ())

    def show(out: dict[str, Any]) -> str:
        reasons = "\n  ".join(out["reasons"]) or "no warning signs found"
        return f"[{out['id']}] {out['verdict'].upper()} (risk {out['risk']:.2f})\n  {reasons}"

    _jsonl_loop(("id", "text"), lambda item: scam_line(item, own_domains=domains), show, _machine_output(jsonl))


@app.command()
def redteam(
    project: ProjectOpt,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="Attack this URL instead of the desk in process: a SafeDesk server's base URL, or any chatbot's "
            "chat URL with --text-field and --reply-field. Against a live desk, account_takeover probes can send "
            "one-time codes to real customers in customers.csv (choose other categories with --category)."
        ),
    ] = None,
    text_field: Annotated[
        str | None, typer.Option("--text-field", help="Generic endpoint: the JSON field to send the text in.")
    ] = None,
    reply_field: Annotated[
        str | None,
        typer.Option("--reply-field", help="Generic endpoint: the JSON field to read the reply from (a.b for nested)."),
    ] = None,
    conversation_field: Annotated[
        str | None,
        typer.Option("--conversation-field", help="Generic endpoint: a JSON field for the conversation id."),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "-c",
            help="Only this category (repeatable): internal_knowledge, other_customers, prompt_extraction, "
            "commitments, account_takeover, injection, disclosure_and_handoff. Default: all.",
        ),
    ] = None,
    max_per_category: Annotated[
        int | None, typer.Option("--max-per-category", help="Probes per category (default 5; 0: all of them).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each endpoint reply.")] = 30.0,
    llm: LlmOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="The report as JSON instead of Markdown.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the report to this file; print a one-line summary.")
    ] = None,
) -> None:
    """Attack the desk (or any chatbot endpoint) with probes built from this business's own knowledge,
    customers and canaries; report per category. Exit 0 when every probe passed, 1 when any failed or
    could not be run."""
    from safedesk.redteam.probes import DEFAULT_MAX_PER_CATEGORY
    from safedesk.redteam.report import render_markdown, to_json
    from safedesk.redteam.runner import run_redteam

    def progress(number: int, total: int, result: Any) -> None:
        typer.echo(f"[{number}/{total}] {result.probe.id}: {result.outcome.value}", err=True)

    if out is not None and not out.parent.is_dir():
        _fail(f"cannot write {out}: {out.parent} is not a directory")
    if endpoint is not None and (not category or "account_takeover" in category):
        typer.echo(
            "note: account_takeover probes ask the live desk to verify customers from customers.csv; it may send "
            "them one-time codes (leave that category out with --category to avoid it)",
            err=True,
        )
    try:
        report = run_redteam(
            project,
            endpoint=endpoint,
            text_field=text_field,
            reply_field=reply_field,
            conversation_field=conversation_field,
            categories=category,
            max_per_category=DEFAULT_MAX_PER_CATEGORY if max_per_category is None else max_per_category,
            timeout=timeout,
            llm_url=llm,
            progress=progress if sys.stderr.isatty() else None,
        )
    except UserError as exc:
        _fail(str(exc))
        return
    text = json.dumps(to_json(report), ensure_ascii=False, indent=2) + "\n" if json_output else render_markdown(report)
    if out is not None:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {out}: {exc.strerror or exc}")
        typer.echo(f"{report.one_line()}; report written to {out}")
    else:
        sys.stdout.write(text)
    raise typer.Exit(report.exit_code())


@app.command()
def chat(
    project: ProjectOpt,
    llm: LlmOpt = None,
    conversation: Annotated[str | None, typer.Option(help="Continue this conversation id.")] = None,
) -> None:
    """Chat with the desk in the terminal, as a customer would (Ctrl-D to leave)."""
    import secrets

    desk = _open_desk(project, llm)
    cid = conversation or f"cli-{secrets.token_hex(6)}"
    typer.echo(f"Conversation {cid}. Type your message; Ctrl-D to leave.")
    try:
        while True:
            try:
                text = input("you> ")
            except EOFError:
                typer.echo("")
                break
            result = desk.pipeline.run(cid, text, channel="cli")
            typer.echo(f"desk [{result.lane.value}]> {result.reply}\n")
    finally:
        desk.close()


@app.command()
def serve(
    project: ProjectOpt,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    llm: LlmOpt = None,
    workers: Annotated[int, typer.Option(help="Worker processes (use PostgreSQL for more than one).")] = 1,
) -> None:
    """Serve the customer chat API, the demo shop page with the widget, and the staff app."""
    import uvicorn

    from safedesk.web.app import TORCH_WARNING, create_app

    _limit_malloc_arenas()
    if workers > 1:
        _serve_workers(project, llm, host, port, workers)
        return
    desk = _open_desk(project, llm)
    _echo_setup_warnings(desk.config)
    if "torch" in sys.modules:
        typer.echo(f"warning: {TORCH_WARNING}", err=True)
    typer.echo(f"SafeDesk for {desk.config.business.name}: http://{host}:{port}/ (staff: /staff)")
    uvicorn.run(create_app(desk), host=host, port=port, log_level="info")


@app.command()
def redact(
    restore_from: Annotated[
        Path | None, typer.Option("--restore", help="Put originals back using this mapping file (JSON).")
    ] = None,
    mapping_out: Annotated[
        Path | None,
        typer.Option("--mapping", help="Write the mapping here (JSON, keep private); an existing one is extended."),
    ] = None,
) -> None:
    """Staff tool: redact PII from stdin before pasting it into an outside AI; --restore puts it back."""
    from safedesk.redaction import PLACEHOLDER_RE
    from safedesk.staff_tools.redactor import redact_for_outside_ai, restore

    text = sys.stdin.read()
    if restore_from is not None:
        mapping = _read_redact_mapping(restore_from)
        restored = restore(text, mapping)
        sys.stdout.write(restored)
        unknown = sorted({m.group(0) for m in PLACEHOLDER_RE.finditer(restored)})
        if unknown:  # restored text may hold placeholders the outside AI made up, or from another mapping
            typer.echo(f"note: {len(unknown)} placeholder(s) not in {restore_from} were left as they are: "
                       f"{', '.join(unknown[:10])}", err=True)  # fmt: skip
        return
    # An existing mapping is extended, not replaced: placeholders stay the same over several pastes of one
    # case, and a restore never puts in a value from another text that happened to get the same number.
    previous = _read_redact_mapping(mapping_out) if mapping_out is not None and mapping_out.exists() else None
    result = redact_for_outside_ai(text, mapping=previous)
    if mapping_out is not None:
        from safedesk.files import atomic_write

        # The mapping holds the real names and numbers: owner-only, also when the file already existed.
        payload = json.dumps(result.mapping, ensure_ascii=False).encode("utf-8")
        if not mapping_out.parent.is_dir():
            raise UserError(f"{mapping_out.parent}: no such folder for the mapping; nothing was redacted to stdout")
        try:
            atomic_write(mapping_out, lambda fh: fh.write(payload), mode=0o600)
        except OSError as exc:
            raise UserError(f"{mapping_out}: cannot write the mapping ({exc.strerror or exc}); nothing was redacted "
                            "to stdout so that no text goes out without its mapping") from None  # fmt: skip
    sys.stdout.write(result.redacted)


def _read_redact_mapping(path: Path) -> dict[str, str]:
    from safedesk.redaction import OUR_PLACEHOLDER_RE

    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a readable JSON mapping ({exc})") from None
    # Every value must be one of our placeholders: an extended mapping decides what replaces the text, and a
    # file of {"Kari Nordmann": "Kari Nordmann"} would otherwise let the originals through unredacted.
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and OUR_PLACEHOLDER_RE.match(v)
        for k, v in mapping.items()
    ):
        raise UserError(f"{path}: not a mapping made by `safedesk redact --mapping` (text -> <PLACEHOLDER_n>)")
    return mapping


@app.command("local-llm")
def local_llm(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8001,
    model: Annotated[Path | None, typer.Option(help="A GGUF file of your choosing (default: SmolLM2).")] = None,
    sha256: Annotated[str | None, typer.Option(help="Refuse the model unless its sha256 is this.")] = None,
) -> None:
    """Serve a small local model (needs safedesk[local]); then run: safedesk serve --llm http://HOST:PORT/v1"""
    from safedesk.responders.local_llm import SMOLLM2_SHA256, start_local_server

    expected = sha256 or (SMOLLM2_SHA256 if model is None else None)
    proc = start_local_server(model, host, port, expected)
    typer.echo(f"local model at http://{host}:{port}/v1 (Ctrl-C to stop)")
    raise typer.Exit(proc.wait())


def _serve_workers(project: Path, llm: str | None, host: str, port: int, workers: int) -> None:
    """`serve --workers N`: uvicorn starts N processes that each open the desk (named in the environment).
    This parent process never opens one itself (it would hold its ~330 MB for nothing): a short-lived child
    opens it first, so a broken setup fails here with its message instead of in every worker."""
    import multiprocessing

    import uvicorn

    from safedesk.config import Project
    from safedesk.web.app import LLM_URL_ENV, PROJECT_ENV

    loaded = Project.load(project)
    if loaded.database_url.startswith("sqlite"):
        raise UserError(
            f"--workers {workers} needs PostgreSQL: set storage.url in safedesk.yaml (SQLite takes one writer at a "
            "time; use one worker with it)"
        )
    check = multiprocessing.get_context("spawn").Process(target=_open_and_close, args=(loaded.root, llm))
    check.start()
    check.join()
    if check.exitcode and check.exitcode < 0:
        raise UserError(f"opening the desk in {loaded.root} was killed by signal {-check.exitcode}; no workers started")
    if check.exitcode != 0:
        raise UserError(f"the desk in {loaded.root} did not open (see the error above); no workers started")
    _echo_setup_warnings(loaded.config)
    if not loaded.config.limits.rate_limit_redis_url:
        typer.echo(
            f"note: limits.rate_limit_redis_url is not set, so each of the {workers} workers keeps its own rate "
            "limits (together they allow that many times the limit)",
            err=True,
        )
    # The workers read these; set both, so a SAFEDESK_LLM_URL left in the shell is not used by mistake.
    os.environ[PROJECT_ENV] = str(loaded.root)
    os.environ[LLM_URL_ENV] = llm or ""
    # Workers are new processes: the arena cap must reach them through the environment (glibc reads it).
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    typer.echo(f"SafeDesk for {loaded.config.business.name}: http://{host}:{port}/ (staff: /staff), {workers} workers")
    uvicorn.run(
        "safedesk.web.app:create_app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


def _open_and_close(project: Path, llm: str | None) -> None:
    """In a child process: open the desk (checks everything, prepares the caches) and close it."""
    from sqlalchemy.exc import OperationalError

    try:
        _open_desk(project, llm).close()
    except SafeDeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    except OperationalError as exc:
        typer.echo(f"error: the database did not answer: {_first_line(exc)}", err=True)
        raise SystemExit(2) from None


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread its own malloc arena; with the server's thread pool that inflates
    resident memory for no speed gain here. Cap them (like MALLOC_ARENA_MAX) before threads start."""
    import ctypes
    import ctypes.util

    m_arena_max = -8  # from glibc's malloc.h
    libc_name = ctypes.util.find_library("c")
    if libc_name and "MALLOC_ARENA_MAX" not in os.environ:
        try:
            ctypes.CDLL(libc_name).mallopt(m_arena_max, arenas)
        except (OSError, AttributeError):  # not glibc: nothing to tune
            pass


@kb_app.command("list")
def kb_list(project: ProjectOpt) -> None:
    """List knowledge files with their access labels and chunk counts."""
    from collections import Counter

    desk = _open_desk(project)
    try:
        counts = Counter((c.source, c.title, c.access.value) for c in desk.knowledge.chunks)
        for (source, title, access), n in sorted(counts.items()):
            typer.echo(f"{access:<10} {source:<30} {title} ({n} chunks)")
        _echo_unlabelled(desk.project.knowledge_dir)
    finally:
        desk.close()


def _echo_unlabelled(knowledge_dir: Path) -> None:
    """The same warning the staff knowledge page gives on upload, for files put in knowledge/ by hand."""
    from safedesk.knowledge.ingest import UNLABELLED_HINT, unlabelled_files

    for source in unlabelled_files(knowledge_dir):
        typer.echo(f"warning: {source}: {UNLABELLED_HINT}", err=True)


@kb_app.command("ingest")
def kb_ingest(project: ProjectOpt) -> None:
    """Re-read the knowledge directory now."""
    desk = _open_desk(project)
    try:
        desk.knowledge.refresh()
        public = sum(c.is_public for c in desk.knowledge.chunks)
        typer.echo(f"{len(desk.knowledge.chunks)} chunks ({public} public, usable by the assistant)")
        _echo_unlabelled(desk.project.knowledge_dir)
    finally:
        desk.close()


@kb_app.command("canaries")
def kb_canaries(project: ProjectOpt) -> None:
    """List the canary tokens planted in non-public knowledge and customer records."""
    from safedesk.canaries import read_canaries
    from safedesk.config import Project

    for source, token in sorted(read_canaries(Project.load(project).data_dir).items()):
        typer.echo(f"{token}  {source}")


@audit_app.command("verify")
def audit_verify(project: ProjectOpt) -> None:
    """Check the audit chain: exit 0 when it holds, 1 and the first broken event when not."""
    from safedesk import audit

    with _audit_database(project) as db, db.session() as session:
        report = audit.verify(session)
    if report.ok:
        typer.echo(f"audit chain ok: {report.events} events")
        return
    where = f"event {report.broken_event_id}" if report.broken_event_id is not None else "the end of the chain"
    typer.echo(f"audit chain BROKEN at {where}: {report.reason} ({report.events} events verified before it)")
    raise typer.Exit(1)


@audit_app.command("export")
def audit_export(project: ProjectOpt) -> None:
    """Write every audit event as JSON lines to stdout."""
    from safedesk import audit

    with _audit_database(project) as db, db.session() as session:
        for row in audit.export_rows(session):
            _emit(row)


def _first_line(exc: Exception) -> str:
    """The driver's own message (SQLAlchemy's `orig`) when there is one, first line only."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _database_error(exc: Exception) -> str:
    return f"cannot read the database ({type(exc).__name__}: {_first_line(exc)})"


@contextlib.contextmanager
def _audit_database(project: Path) -> Iterator[Any]:
    """The desk's database for the audit commands. A database that cannot be read is a clear error (exit 2),
    never exit 1, which `audit verify` keeps for "the chain is broken"."""
    from sqlalchemy.exc import SQLAlchemyError

    from safedesk.config import Project
    from safedesk.storage.db import Database

    url = Project.load(project).database_url
    try:
        db = Database(url)
    except SQLAlchemyError as exc:
        raise UserError(_database_error(exc)) from None
    try:
        yield db
    except SQLAlchemyError as exc:
        raise UserError(_database_error(exc)) from None
    finally:
        db.dispose()


@bench_app.command("turn")
def bench_turn(
    project: Annotated[
        Path | None, typer.Option("--project", "-p", help="Business dir (default: a fresh demo).")
    ] = None,
    questions: Annotated[int, typer.Option(help="How many customer turns.")] = 500,
    llm: LlmOpt = None,
    memory: Annotated[bool, typer.Option(help="Also measure peak RSS of `safedesk serve`.")] = True,
) -> None:
    """Median/p95 turn latency over varied questions, and peak resident memory of `safedesk serve`."""
    from safedesk.bench.turn import run_turn_bench

    typer.echo(run_turn_bench(project, questions=questions, llm_url=llm, measure_serve_memory=memory))


@bench_app.command("guards")
def bench_guards(
    limit: Annotated[int | None, typer.Option(help="Cap messages per dataset (quick runs).")] = None,
) -> None:
    """Every guard over the shared data: latency, precision/recall/F1, false-flag rates."""
    from safedesk.bench.guards import run_guard_bench

    typer.echo(run_guard_bench(limit=limit))


@bench_app.command("outbound")
def bench_outbound() -> None:
    """Leak/commitment/grounding detection on the hostile-output corpus, false holds, latency."""
    from safedesk.bench.outbound import run_outbound_bench

    typer.echo(run_outbound_bench())


@bench_app.command("scam")
def bench_scam() -> None:
    """The scam checker on the SMS spam collection (dev and test halves), false flags, latency."""
    from safedesk.bench.scam import evaluate_scam, format_scam_report

    typer.echo(format_scam_report(evaluate_scam()))


@bench_app.command("inbox")
def bench_inbox(
    conversations: Annotated[int, typer.Option(help="Conversations in the benchmark database.")] = 10_000,
    renders: Annotated[int, typer.Option(help="Inbox page renders to time.")] = 200,
) -> None:
    """p50/p95 of rendering the staff inbox over a database of many conversations (target p95 < 100 ms)."""
    from safedesk.bench.inbox import run_inbox_bench

    typer.echo(run_inbox_bench(conversations=conversations, renders=renders))


@bench_app.command("answers")
def bench_answers(
    which: Annotated[str, typer.Option("--set", help="Question set: dev, test or all.")] = "all",
) -> None:
    """Approved answers on the demo shop: right fact and page on covered questions, declines on uncovered."""
    from safedesk.bench.answer_sets import SETS
    from safedesk.bench.answers import run_answers_bench

    if which != "all" and which not in SETS:
        raise UserError(f"--set must be one of: {', '.join([*SETS, 'all'])}")
    typer.echo(run_answers_bench(which))


def main() -> None:
    try:
        app()
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except SafeDeskError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
