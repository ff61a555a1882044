"""The CLI: documented commands exist, user errors exit 2, the audit verifier names a tampered row."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("safedesk"))


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "command",
    [
        ["init"],
        ["serve"],
        ["chat"],
        ["turn"],
        ["scan"],
        ["kb", "list"],
        ["kb", "ingest"],
        ["audit", "verify"],
        ["audit", "export"],
        ["bench", "turn"],
        ["bench", "guards"],
        ["bench", "inbox"],
        ["users", "add"],
        ["users", "list"],
        ["users", "disable"],
        ["users", "reset-password"],
        ["redact"],
        ["scam"],
        ["bench", "scam"],
        ["local-llm"],
        ["kb", "canaries"],
        ["bench", "outbound"],
        ["bench", "answers"],
        ["redteam"],
    ],
)
def test_every_documented_command_has_help(command: list[str]) -> None:
    proc = run(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage" in proc.stdout


def test_missing_project_is_a_clean_user_error(tmp_path: Path) -> None:
    proc = run("turn", "--project", str(tmp_path / "nope"), stdin='{"conversation":"a","text":"hi"}\n')
    assert proc.returncode == 2
    assert "not a SafeDesk business directory" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_config_names_key(tmp_path: Path) -> None:
    (tmp_path / "safedesk.yaml").write_text("business:\n  name: X\n  timezone: Nowhere/Land\n")
    proc = run("turn", "--project", str(tmp_path), stdin="")
    assert proc.returncode == 2 and "business.timezone (line 3)" in proc.stderr


def test_turn_reports_bad_lines_in_place_and_exits_2(demo_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "d"
    shutil.copytree(demo_dir, project)
    stdin = '{"conversation":"a","text":"What are your opening hours?"}\nnot json\n{"conversation":"a"}\n'
    proc = run("turn", "--project", str(project), stdin=stdin)
    assert proc.returncode == 2
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["lane"] == "answer" and "error" in lines[1] and "text" in lines[2]["error"]


@pytest.mark.parametrize(("command", "field"), [("turn", "conversation"), ("scan", "id")])
def test_hostile_lines_get_an_error_line_and_the_stream_goes_on(
    demo_dir: Path, tmp_path: Path, command: str, field: str
) -> None:
    """Found by a bug hunt: a line nested 5,000 deep, or an id holding a lone surrogate, ended the whole
    batch with a traceback and lost the lines after it."""
    project = tmp_path / "d"
    shutil.copytree(demo_dir, project)
    deep = json.dumps({field: "a", "text": "hi"})[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    surrogate = json.dumps({field: "\ud800x", "text": "hi"})  # json.dumps writes it as the escape "\\ud800"
    good = json.dumps({field: "b", "text": "How long does delivery take?"})
    proc = run(command, "--project", str(project), stdin="\n".join([deep, surrogate, good]) + "\n")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert "nested too deeply" in lines[0]["error"] and "surrogate" in lines[1]["error"]
    assert lines[2][field] == "b" and lines[2]["lane"] == "answer"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "shop")).returncode == 0
    proc = run("init", str(tmp_path / "shop"))
    assert proc.returncode == 2 and "--force" in proc.stderr


def test_audit_verify_names_the_tampered_event(demo_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "d"
    shutil.copytree(demo_dir, project)
    run("turn", "--project", str(project), stdin='{"conversation":"a","text":"Do you ship to Sweden?"}\n')
    ok = run("audit", "verify", "--project", str(project))
    assert ok.returncode == 0 and "ok" in ok.stdout
    with sqlite3.connect(project / "data" / "safedesk.db") as conn:
        conn.execute('UPDATE audit_events SET data = \'{"lane":"answer"}\' WHERE id = 2')
    broken = run("audit", "verify", "--project", str(project))
    assert broken.returncode == 1
    assert "event 2" in broken.stdout


def test_redact_round_trip_keeps_pii_out_and_restores_it(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    text = "Hi, this is Kari Nordmann (kari@example.com, +47 912 34 567)."
    redacted = run("redact", "--mapping", str(mapping), stdin=text)
    assert redacted.returncode == 0, redacted.stderr
    for secret in ("Kari Nordmann", "kari@example.com", "912 34 567"):
        assert secret not in redacted.stdout
    assert oct(mapping.stat().st_mode & 0o777) == "0o600"
    restored = run("redact", "--restore", str(mapping), stdin=redacted.stdout)
    assert restored.stdout == text
    broken = run("redact", "--restore", str(tmp_path / "missing.json"), stdin="x")
    assert broken.returncode == 2 and "mapping" in broken.stderr


def test_redact_mapping_is_extended_so_a_second_text_never_restores_into_the_first(tmp_path: Path) -> None:
    """Found by a new-user walkthrough: a second `redact --mapping` of the same file replaced it, numbering
    from 1 again, so restoring the first text's answer put in the second customer's name."""
    mapping = tmp_path / "m.json"
    first = run("redact", "--mapping", str(mapping), stdin="Customer Sigrid Haugland (sigrid@example.no)\n")
    second = run("redact", "--mapping", str(mapping), stdin="Hi, this is Magnus Olsen\n")
    assert first.returncode == second.returncode == 0
    assert "<PERSON_1>" in first.stdout and "<PERSON_2>" in second.stdout
    restored = run("redact", "--restore", str(mapping), stdin="Dear <PERSON_1>, and <PERSON_2>; <PHONE_7>\n")
    assert restored.stdout == "Dear Sigrid Haugland, and Magnus Olsen; <PHONE_7>\n"
    assert "<PHONE_7>" in restored.stderr and "not in" in restored.stderr  # said, not silently left
    # Found by a review: any JSON object of strings was trusted, so a file mapping a name to itself let the
    # originals through as if they had been redacted.
    forged = tmp_path / "forged.json"
    forged.write_text('{"Kari Nordmann": "Kari Nordmann"}', encoding="utf-8")
    refused = run("redact", "--mapping", str(forged), stdin="Customer Kari Nordmann wants a refund.\n")
    assert refused.returncode == 2 and "Kari Nordmann" not in refused.stdout and "PLACEHOLDER" in refused.stderr


def test_redteam_against_an_endpoint_says_before_the_run_that_customers_may_get_codes(demo_dir: Path) -> None:
    """Found by a new-user walkthrough: the warning came only after the run, when the codes had gone out."""
    proc = run("redteam", "--project", str(demo_dir), "--endpoint", "http://127.0.0.1:1", "--timeout", "1")
    assert "one-time codes" in proc.stderr and "Traceback" not in proc.stderr
    quiet = run(
        "redteam", "--project", str(demo_dir), "--endpoint", "http://127.0.0.1:1", "-c", "injection",
        "--timeout", "1",
    )  # fmt: skip
    assert "may send them one-time codes" not in quiet.stderr


def test_scam_contract_one_line_per_input() -> None:
    stdin = (
        '{"id":"a","text":"Our bank details have changed. Please pay invoice 2231 to the new account today."}\n'
        '{"id":"b","text":"Hi, do you have the blue jacket in size M?"}\n'
        '{"id":"c"}\n'
    )
    proc = run("scam", stdin=stdin)
    assert proc.returncode == 2  # line c has no text
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [set(o) for o in lines[:2]] == [{"id", "risk", "verdict", "reasons"}] * 2
    assert lines[0]["verdict"] in ("suspicious", "dangerous") and lines[0]["reasons"]
    assert lines[1]["verdict"] == "safe" and 0 <= lines[1]["risk"] < 0.3
    assert "error" in lines[2]


def test_several_workers_need_postgresql(demo_dir: Path) -> None:
    proc = run("serve", "--project", str(demo_dir), "--workers", "2", "--port", "1")
    assert proc.returncode != 0
    assert "needs PostgreSQL" in proc.stderr and "Traceback" not in proc.stderr


def test_several_workers_do_not_start_when_the_database_does_not_answer(fresh_demo_dir: Path) -> None:
    config = fresh_demo_dir / "safedesk.yaml"
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2"
    config.write_text(config.read_text(encoding="utf-8") + f"\nstorage:\n  url: {unreachable}\n", encoding="utf-8")
    proc = run("serve", "--project", str(fresh_demo_dir), "--workers", "2", "--port", "1")
    assert proc.returncode != 0
    assert "the database did not answer" in proc.stderr and "no workers started" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_turn_reports_a_line_it_cannot_do_in_place_and_goes_on(fresh_demo_dir: Path) -> None:
    """Found by a bug hunt: a reused idempotency key or a key of the wrong type ended the whole stream."""
    lines = [
        {"conversation": "k1", "text": "How long does delivery take?", "idempotency_key": "abc"},
        {"conversation": "k1", "text": "What are your opening hours?", "idempotency_key": "abc"},
        {"conversation": "k3", "text": "x", "idempotency_key": {"a": 1}},
        {"conversation": "", "text": "hi"},
        {"conversation": "k1", "text": "Do you ship to Sweden?"},
    ]
    proc = run("turn", "--project", str(fresh_demo_dir), "--jsonl", stdin="".join(json.dumps(x) + "\n" for x in lines))
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2 and len(out) == 5 and "Traceback" not in proc.stderr
    assert [("error" in o) for o in out] == [False, True, True, True, False]
    assert "already used for a different message" in out[1]["error"] and out[4]["lane"] == "answer"


def test_redact_mapping_is_owner_only_even_over_an_existing_file_and_bad_paths_are_clear(tmp_path: Path) -> None:
    """Found by a bug hunt: an existing mapping file kept its old (world-readable) mode; a list as mapping
    and a missing folder gave tracebacks."""
    mapping = tmp_path / "m.json"
    mapping.write_text("{}")
    mapping.chmod(0o644)
    proc = run("redact", "--mapping", str(mapping), stdin="Jane Smith, jane@example.com\n")
    assert proc.returncode == 0 and "jane@example.com" not in proc.stdout
    assert mapping.stat().st_mode & 0o777 == 0o600 and "jane@example.com" in mapping.read_text()
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    for args in (["--restore", str(listed)], ["--mapping", str(tmp_path / "no" / "m.json")]):
        bad = run("redact", *args, stdin="x\n")
        assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def test_audit_commands_on_an_unreadable_database_exit_2_not_1(tmp_path: Path) -> None:
    """Exit 1 means "the chain is broken"; a database that cannot be read is a different, clear error."""
    run("init", str(tmp_path / "shop"))
    (tmp_path / "shop" / "data").mkdir(exist_ok=True)
    (tmp_path / "shop" / "data" / "safedesk.db").write_text("garbage")
    for command in (["audit", "verify"], ["audit", "export"]):
        proc = run(*command, "--project", str(tmp_path / "shop"))
        assert proc.returncode == 2 and "cannot read the database" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_warns_at_start_up_when_one_time_codes_only_go_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --demo the default email transport writes codes to data/outbox.log: say so when serving."""
    from types import SimpleNamespace

    import uvicorn
    from typer.testing import CliRunner

    import safedesk.web.app
    from safedesk import cli
    from safedesk.config import DeskConfig

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    monkeypatch.setattr(safedesk.web.app, "create_app", lambda desk: "app")
    for demo, warned in ((False, True), (True, False)):
        config = DeskConfig.model_validate({"business": {"name": "Shop"}, "demo": demo})
        monkeypatch.setattr(cli, "_open_desk", lambda project, llm=None, c=config: SimpleNamespace(config=c))
        result = CliRunner().invoke(cli.app, ["serve", "--project", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert ("warning: verification.email_transport is 'log'" in result.output) is warned
    assert served == ["app", "app"]


def test_kb_list_and_ingest_warn_about_files_without_an_access_label(tmp_path: Path) -> None:
    """The staff page warned about an unlabelled upload; files put in knowledge/ by hand got no word."""
    project = tmp_path / "shop"
    assert run("init", str(project)).returncode == 0
    (project / "knowledge" / "notes.md").write_text("# Notes\n\nInternal notes.\n", encoding="utf-8")
    (project / "knowledge" / "sizes.html").write_text("<html><body><h1>Sizes</h1><p>S M L</p></body></html>")
    for command in (["kb", "list"], ["kb", "ingest"]):
        proc = run(*command, "--project", str(project))
        assert proc.returncode == 0, proc.stderr
        assert "warning: notes.md: no access label, so it is INTERNAL" in proc.stderr
        assert "warning: sizes.html: no access label" in proc.stderr and '<meta name="access"' in proc.stderr
        assert "welcome.md" not in proc.stderr
