"""Benchmark of the PII guard against Presidio's default set-up, on Presidio's own synthetic data.

Data: ../shared/data/pii/presidio_synth_dataset_v2.json (1,500 synthetic texts, MIT, Microsoft
presidio-research). Split by template, not by row, so a template seen while tuning never appears in
the reported half: dev = even `template_id` (SafeDesk's recognizers were tuned on it), test = odd
`template_id` (reported; never looked at while tuning). `evaluate_pii()` reports the test half.

Systems, run in one process on the same texts:
  safedesk          PiiGuard (patterns + spaCy small NER, only the `ner` pipe)
  safedesk_no_ner   PiiGuard(use_ner=False) (patterns and cue phrases only)
  presidio_default  AnalyzerEngine with Presidio's default recognizers and default NER configuration,
                    on the same spaCy small model (full pipeline), default score threshold (0)

Scoring: entity types are mapped to common types (below). A prediction is a true positive when it
overlaps (by at least one character) a gold span of the same common type; a prediction overlapping
only gold spans outside the scored types (city/country names, organisations, dates, titles...) is
ignored, neither right nor wrong; any other prediction is a false positive. A gold span is found when
any prediction of its type overlaps it. `char_recall` is the share of gold characters covered by
predictions of the right type (what redaction actually hides). F2 weighs recall twice: a missed
phone number leaks, an extra placeholder only costs readability.

    python -m safedesk.bench.pii [--split test|dev|all] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import safedesk.guards  # noqa: F401 - before Presidio is imported: it tells Presidio to use the CPU
from safedesk.datasets import shared_data_dir
from safedesk.errors import UserError

DATASET = "pii/presidio_synth_dataset_v2.json"

SCORED_TYPES = (
    "PERSON",
    "ADDRESS",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
)
# Dataset label -> common type. Labels not listed are "don't care" regions (GPE, ORGANIZATION,
# DATE_TIME, TITLE, AGE, NRP, DOMAIN_NAME, US_DRIVER_LICENSE): SafeDesk deliberately keeps city and
# country names, organisations and dates so the desk can still answer; US driver licences (5 spans)
# are not a target.
GOLD_TO_COMMON = {
    "PERSON": "PERSON",
    "STREET_ADDRESS": "ADDRESS",
    "ZIP_CODE": "ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
}
SAFEDESK_TO_COMMON = {t: t for t in SCORED_TYPES}
# Presidio reports street addresses, cities and countries alike as LOCATION: it counts as ADDRESS here
# (found when it overlaps a street address; ignored on a city or country).
PRESIDIO_TO_COMMON = {**{t: t for t in SCORED_TYPES}, "LOCATION": "ADDRESS"}

Predict = Callable[[str], list[tuple[str, int, int]]]


# --------------------------------------------------------------------------------------------------
# Data


def dataset_path(data_dir: Path | None = None) -> Path:
    path = (data_dir or shared_data_dir()) / DATASET
    if not path.is_file():
        raise UserError(f"missing data file {path}")
    return path


def load_records(split: str = "test", data_dir: Path | None = None) -> list[dict[str, Any]]:
    """Dataset records of a split: "dev" (even template_id), "test" (odd template_id) or "all"."""
    if split not in ("dev", "test", "all"):
        raise UserError(f"unknown split {split!r} (use dev, test or all)")
    records = json.loads(dataset_path(data_dir).read_text(encoding="utf-8"))
    if split == "all":
        return records
    parity = 0 if split == "dev" else 1
    return [r for r in records if int(r.get("template_id") or 0) % 2 == parity]


# --------------------------------------------------------------------------------------------------
# Systems


def safedesk_predictor(use_ner: bool = True) -> Predict:
    from safedesk.guards.pii import PiiGuard

    guard = PiiGuard("pii", use_ner=use_ner)
    guard.warm_up()
    return lambda text: [(s.type, s.start, s.end) for s in guard.analyze(text)]


def presidio_default_analyzer() -> Any:
    """Presidio's default AnalyzerEngine, with the local spaCy small model instead of the downloaded large one."""
    import presidio_analyzer
    import yaml
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from safedesk.guards.pii import spacy_model_path, use_offline_public_suffix_list

    use_offline_public_suffix_list()
    conf_file = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"  # Presidio's own default
    conf = yaml.safe_load(conf_file.read_text(encoding="utf-8"))
    for model in conf["models"]:
        model["model_name"] = str(spacy_model_path())
    engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def presidio_predictor(score_threshold: float | None = None) -> Predict:
    analyzer = presidio_default_analyzer()
    analyzer.analyze("warm up John Smith", language="en")
    return lambda text: [
        (r.entity_type, r.start, r.end) for r in analyzer.analyze(text, language="en", score_threshold=score_threshold)
    ]


# --------------------------------------------------------------------------------------------------
# Scoring


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    if precision + recall == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def _ratios(tp_gold: int, n_gold: int, tp_pred: int, fp: int, covered: int, chars: int) -> dict[str, Any]:
    precision = tp_pred / (tp_pred + fp) if tp_pred + fp else 0.0
    recall = tp_gold / n_gold if n_gold else 0.0
    return {
        "n_gold": n_gold,
        "found": tp_gold,
        "missed": n_gold - tp_gold,
        "true_pos_predictions": tp_pred,
        "false_pos": fp,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f2": round(_f_beta(precision, recall), 4),
        "char_recall": round(covered / chars, 4) if chars else 0.0,
    }


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


def _latency(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 3) if values else 0.0,
        "p95": round(_percentile(values, 0.95), 3),
        "mean": round(statistics.fmean(values), 3) if values else 0.0,
    }


def customer_message_latency(limit: int = 500, data_dir: Path | None = None) -> dict[str, Any]:
    """Per-message latency of the guard (NER gated, NER on every message, no NER) on real customer-service
    requests (Bitext, `limit` rows spread over the file): shorter, fewer names than the benchmark's texts.
    Wall time and this thread's CPU time (the latter is what a busy machine does not inflate)."""
    import csv

    path = (data_dir or shared_data_dir()) / "intents/bitext_customer_support_training_4514.csv"
    if not path.is_file():
        raise UserError(f"missing data file {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [row["instruction"] for row in csv.DictReader(fh)]
    texts = rows[:: max(1, len(rows) // limit)][:limit]  # spread over all intents (the file is sorted)
    from safedesk.guards.pii import PiiGuard, worth_ner

    out: dict[str, Any] = {"texts": len(texts), "share_needing_ner": round(sum(map(worth_ner, texts)) / len(texts), 3)}
    configs = (("safedesk", True, True), ("safedesk_ner_always", True, False), ("safedesk_no_ner", False, True))
    for name, use_ner, gate in configs:
        guard = PiiGuard("pii", use_ner=use_ner, ner_gate=gate)
        guard.warm_up()
        wall, cpu = [], []
        for text in texts:
            started, cpu_started = time.perf_counter(), time.thread_time()
            guard.analyze(text)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
        out[name] = {"latency_ms": _latency(wall), "cpu_ms": _latency(cpu)}
    return out


def score_system(
    records: Sequence[dict[str, Any]],
    predict: Predict,
    type_map: dict[str, str],
    collect_errors: bool = False,
) -> dict[str, Any]:
    """Per-type and overall precision/recall/F2 plus per-message latency for one system."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latencies: list[float] = []
    cpu: list[float] = []
    errors: list[dict[str, Any]] = []
    unscored: dict[str, int] = defaultdict(int)
    for record in records:
        text = record["full_text"]
        gold = []
        ignore = []
        for span in record["spans"]:
            common = GOLD_TO_COMMON.get(span["entity_type"])
            rng = (int(span["start_position"]), int(span["end_position"]))
            (gold if common else ignore).append((common, rng))
        started, cpu_started = time.perf_counter(), time.thread_time()
        raw = predict(text)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        preds = []
        for label, start, end in raw:
            common = type_map.get(label)
            if common is None:
                unscored[label] += 1
            else:
                preds.append((common, (start, end)))
        for common, rng in preds:
            if any(g == common and _overlaps(rng, g_rng) for g, g_rng in gold):
                counts[common]["tp_pred"] += 1
            elif any(_overlaps(rng, i_rng) for _, i_rng in ignore) and not any(
                _overlaps(rng, g_rng) for _, g_rng in gold
            ):
                counts[common]["ignored"] += 1
            else:
                counts[common]["fp"] += 1
                if collect_errors:
                    errors.append({"kind": "false_pos", "type": common, "value": text[rng[0] : rng[1]], "text": text})
        for common, rng in gold:
            counts[common]["n_gold"] += 1
            counts[common]["chars"] += rng[1] - rng[0]
            same = [p_rng for p, p_rng in preds if p == common and _overlaps(rng, p_rng)]
            if same:
                counts[common]["tp_gold"] += 1
                covered = {i for p_rng in same for i in range(max(rng[0], p_rng[0]), min(rng[1], p_rng[1]))}
                counts[common]["covered"] += len(covered)
            elif collect_errors:
                errors.append({"kind": "missed", "type": common, "value": text[rng[0] : rng[1]], "text": text})

    def row(c: dict[str, int]) -> dict[str, Any]:
        return _ratios(c["tp_gold"], c["n_gold"], c["tp_pred"], c["fp"], c["covered"], c["chars"])

    per_type = {t: row(counts[t]) for t in SCORED_TYPES}
    total: dict[str, int] = defaultdict(int)
    for t in SCORED_TYPES:
        for key, value in counts[t].items():
            total[key] += value
    out: dict[str, Any] = {
        "per_type": per_type,
        "overall": row(total),
        "latency_ms": _latency(latencies),
        "cpu_ms": _latency(cpu),
        "unscored_predictions": dict(sorted(unscored.items())),
    }
    if collect_errors:
        out["errors"] = errors
    return out


def evaluate_pii(
    limit: int | None = None,
    split: str = "test",
    systems: Sequence[str] = ("safedesk", "safedesk_no_ner", "presidio_default"),
    data_dir: Path | None = None,
    collect_errors: bool = False,
) -> dict[str, Any]:
    """Score SafeDesk's PII guard and Presidio's default set-up on one split (default: the test half)."""
    records = load_records(split, data_dir)
    if limit is not None:
        records = records[: max(0, int(limit))]
    factories: dict[str, tuple[Callable[[], Predict], dict[str, str]]] = {
        "safedesk": (lambda: safedesk_predictor(True), SAFEDESK_TO_COMMON),
        "safedesk_no_ner": (lambda: safedesk_predictor(False), SAFEDESK_TO_COMMON),
        "presidio_default": (presidio_predictor, PRESIDIO_TO_COMMON),
    }
    unknown = [s for s in systems if s not in factories]
    if unknown:
        raise UserError(f"unknown systems {unknown}; known: {sorted(factories)}")
    result: dict[str, Any] = {
        "dataset": DATASET,
        "split": split,
        "split_rule": "dev = even template_id (tuned on), test = odd template_id (reported only)",
        "n_texts": len(records),
        "matching": "type-matched, any character overlap; predictions on unscored gold types ignored",
        "scored_types": list(SCORED_TYPES),
        "systems": {},
    }
    for name in systems:
        factory, type_map = factories[name]
        result["systems"][name] = score_system(records, factory(), type_map, collect_errors)
    return result


def format_report(result: dict[str, Any]) -> str:
    """A plain-text table: per type, precision / recall / F2 for each system; then latency."""
    systems = list(result["systems"])
    lines = [f"PII benchmark: {result['dataset']}, split={result['split']} ({result['n_texts']} texts)"]
    lines.append(f"  {result['split_rule']}; matching: {result['matching']}")
    header = f"{'type':<14}{'n':>5}" + "".join(f"  {s[:18]:>18} P/R/F2" for s in systems)
    lines.append(header)
    for t in [*SCORED_TYPES, "overall"]:
        first = result["systems"][systems[0]]
        n = (first["overall"] if t == "overall" else first["per_type"][t])["n_gold"]
        cells = []
        for s in systems:
            r = result["systems"][s]["overall" if t == "overall" else "per_type"]
            r = r if t == "overall" else r[t]
            cells.append(f"  {r['precision']:.2f}/{r['recall']:.2f}/{r['f2']:.2f}".rjust(25))
        lines.append(f"{t:<14}{n:>5}" + "".join(cells))
    for s in systems:
        lat, cpu = result["systems"][s]["latency_ms"], result["systems"][s]["cpu_ms"]
        lines.append(
            f"latency {s}: wall p50 {lat['p50']:.2f} / p95 {lat['p95']:.2f} ms, "
            f"cpu p50 {cpu['p50']:.2f} / p95 {cpu['p95']:.2f} ms per message"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="test", choices=["dev", "test", "all"])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--systems", default="safedesk,safedesk_no_ner,presidio_default")
    parser.add_argument("--json", action="store_true", help="print the full JSON result")
    parser.add_argument("--customer-latency", action="store_true", help="also time 500 Bitext customer messages")
    args = parser.parse_args(argv)
    result = evaluate_pii(limit=args.limit, split=args.split, systems=args.systems.split(","))
    if args.customer_latency:
        result["customer_messages"] = customer_message_latency()
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_report(result))
    if args.customer_latency and not args.json:
        print("customer messages:", json.dumps(result["customer_messages"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
