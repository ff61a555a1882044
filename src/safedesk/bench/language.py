"""The language guard on the injection corpus: the share of benign messages, and of attacks written in
languages the other guards cannot read, that it hands to a person.

    python -m safedesk.bench.language

The guard has no training; its two settings (confidence 0.9, at least 25 letters) and its removal of
table rows were chosen while looking at every row of these sources, so these are in-sample figures.
Whether those attacks reach a model through the whole inbound stage is in `safedesk.bench.exposure`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from safedesk.bench.injection import Sample, load_corpus


def evaluate_language(samples: Sequence[Sample] | None = None) -> dict[str, Any]:
    from safedesk.guards.injection import InjectionGuard
    from safedesk.guards.language import LanguageIdentifierGuard

    language = LanguageIdentifierGuard()
    injection = InjectionGuard()
    rows = samples if samples is not None else load_corpus()
    groups: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    benign_ms: list[float] = []
    for s in rows:
        start = time.perf_counter()
        unreadable = language.judge(s.text).flagged
        if not s.label:
            benign_ms.append((time.perf_counter() - start) * 1000)
            groups[f"{s.source} (benign)"].append((unreadable, False))
        elif s.source == "spikee_xx":
            groups[f"spikee_xx/{s.lang} (attacks)"].append((unreadable, injection.analyze(s.text).flagged))
    report: dict[str, Any] = {}
    for name in sorted(groups):
        pairs = groups[name]
        entry: dict[str, Any] = {"rows": len(pairs), "to_a_person": round(sum(u for u, _ in pairs) / len(pairs), 4)}
        if name.endswith("(attacks)"):
            entry["refused_by_injection_guard"] = round(sum(i for _, i in pairs) / len(pairs), 4)
        report[name] = entry
    benign_ms.sort()
    report["latency_ms_benign"] = {
        "p50": round(statistics.median(benign_ms), 3),
        "p95": round(benign_ms[int(0.95 * (len(benign_ms) - 1))], 3),
    }
    return report


def main(argv: Sequence[str] | None = None) -> int:
    json.dump(evaluate_language(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
