"""Integration with a real OpenAI-compatible server: llama.cpp's server running SmolLM2-135M (the
`safedesk[local]` extra), started by these tests. Proves what the model receives and that the
guards hold on a real, weak model's output."""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from safedesk.desk import Desk
from safedesk.domain import Lane

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="safedesk[local] not installed"),
]


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    from safedesk.responders.local_llm import SMOLLM2_SHA256, start_local_server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = start_local_server(None, "127.0.0.1", port, SMOLLM2_SHA256)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("llama.cpp server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def real_llm_desk(fresh_demo_dir: Path, llama_server: str) -> Iterator[tuple[Desk, list[dict]]]:
    desk = Desk.open(fresh_demo_dir, llm_url=llama_server)
    sent: list[dict] = []
    client = desk.pipeline.responder.client  # record every request body the model receives
    client.event_hooks["request"].append(lambda request: sent.append(json.loads(request.content)))
    yield desk, sent
    desk.close()


def test_model_receives_only_redacted_text_and_public_chunks(real_llm_desk: tuple[Desk, list[dict]]) -> None:
    desk, sent = real_llm_desk
    result = desk.pipeline.run("r1", "Hi, I'm Ola Hansen, ola.hansen@example.org. How long does delivery take?")
    assert result.lane is Lane.ANSWER and sent
    prompt = json.dumps(sent[-1])
    assert "ola.hansen@example.org" not in prompt and "Hansen" not in prompt
    public = {c.text for c in desk.knowledge.retriever.chunks}
    for chunk in desk.knowledge.protected_chunks:
        assert chunk.text not in prompt or chunk.text in public
    for source in sent[-1]["messages"][-1]["content"].split("<source")[1:]:
        body = source.split(">", 1)[1].split("</source>", 1)[0].strip()
        assert body in public


ROUTINE = {
    "How long does delivery take?": "business days",
    "What are your opening hours?": "10:00",
    "Can I pay with Vipps?": "Vipps",
    "How many days do I have to return an item?": "30 days",
}


def test_routine_questions_get_grounded_answers(real_llm_desk: tuple[Desk, list[dict]]) -> None:
    """Each routine question gets a real answer (the model's, or the approved one when the model's is
    unsupported), or a hold when the model promised something; whatever the weak model invents,
    every number the customer sees occurs in the shop's public pages."""
    desk, sent = real_llm_desk
    public_text = " ".join(c.text for c in desk.knowledge.retriever.chunks)
    public_numbers = set(re.findall(r"\d+(?:[.:,]\d+)?", public_text))
    disclosure = desk.config.disclosure_text()
    for i, (question, expected) in enumerate(ROUTINE.items()):
        before = len(sent)
        result = desk.pipeline.run(f"r2-{i}", question)
        assert len(sent) == before + 1, "the model was asked"
        assert result.lane is Lane.ANSWER
        reply = result.reply.replace(disclosure, "")
        if result.held_for_review:  # the model promised something: held for a person, never sent
            assert any(f.kind == "commitment" for f in result.findings)
        else:
            assert expected in reply, (question, reply)
        assert set(re.findall(r"\d+(?:[.:,]\d+)?", reply)) <= public_numbers, reply


def test_streaming_from_a_real_model_releases_only_supported_text(real_llm_desk: tuple[Desk, list[dict]]) -> None:
    desk, sent = real_llm_desk
    public_text = " ".join(c.text for c in desk.knowledge.retriever.chunks)
    public_numbers = set(re.findall(r"\d+(?:[.:,]\d+)?", public_text))
    events = list(desk.pipeline.run_streaming("r3", "How long does delivery take?"))
    assert sent[-1]["stream"] is True
    assert events[-1]["type"] == "done" and events[-1]["reply"].strip()
    streamed = "".join(e["text"] for e in events if e["type"] == "delta")
    assert set(re.findall(r"\d+(?:[.:,]\d+)?", streamed)) <= public_numbers, streamed
