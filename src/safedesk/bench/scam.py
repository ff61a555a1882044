"""Benchmark of the scam second opinion (`safedesk.staff_tools.scam`) on the SMS Spam Collection.

Data: ../shared/data/scam/SMSSpamCollection.tsv (UCI SMS Spam Collection v.1, Almeida & Gómez Hidalgo
2011; 5,574 English SMS labelled ham / spam; free for research with attribution, see the folder's
SOURCE and readme files).

Spam is not scam. The corpus's spam is mostly UK premium-rate marketing from the early 2000s (ringtones,
chat lines, "text WIN to 80086", prize call-backs); many of those are scams in the everyday sense (a
"prize" that costs GBP 1.50 a minute to claim), many are merely unwanted adverts the checker should not
call dangerous. There are no emails, no invoice or CEO fraud, no couriers, hardly any links. So recall
against "spam" is a lower bound on how much spam the checker notices, not its recall on scams, and the
figure that matters most for a shop owner is the false-flag rate on ham: how often a normal message is
called suspicious.

Split: every distinct text (case and spacing folded, so the corpus's ~400 duplicates stay together)
goes to dev or test by a salted SHA-256 of the text, half and half. Rules and weights were tuned on the
dev half (plus hand-written cases in tests/test_scam.py and the Bitext false flags below); the test half
was run once, after the rules were frozen, and is reported as it came out. (Before the split was drawn,
40 random spam rows of the whole file were read to see what the corpus looks like.)

Scoring: a message is "flagged" when its verdict is not safe (risk >= 0.3); positives are spam.
Reported per split: precision / recall / F1 of flagged vs spam, false-flag rate on ham, the same at
the "dangerous" verdict, verdict counts per label, which rules fire on each label, and the latency of
`assess` per message (p50 / p95, wall clock, warm).

Benign customer-service text, for the false-flag rate closer to a shop's inbox (every row is benign):
  bitext     intents/bitext_customer_support_training_4514.csv, `instruction` column (4,514 requests);
             looked at while tuning (two rules were narrowed after false flags on it): an in-sample figure
  clinc150   intents/clinc150/clinc150_flat.jsonl, all 23,700 utterances (banking and card questions
             included: "freeze my account", "what's my pin"); never looked at while tuning

Scams a Nordic / European shop receives (`SHOP_SET`, in this repository, written by hand for it): 48 scams
(supplier bank-detail changes, CEO fraud, one-time-code and BankID requests, fake delivery fees and bank
security calls, look-alike links, gift cards) and 49 benign messages in the same words (a supplier's real
bank change through its portal, invoice questions, delivery notices, a bank's "we never ask for your code",
order confirmations), in English, Norwegian, Swedish, Danish, German and mixed. Each row names its split:
rows alternate dev / test within each label in the order written (kinds and languages spread over both).
Written before the rules for it; the rules were tuned on dev only, test was run at the end.

    python -m safedesk.bench.scam [--split dev|test|all] [--json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedesk.bench.stats import percentile
from safedesk.datasets import shared_data_dir
from safedesk.errors import UserError
from safedesk.staff_tools.scam import DANGEROUS_FROM, MAX_CHARS, SAFE_BELOW, assess

DATASET = "scam/SMSSpamCollection.tsv"
BITEXT = "intents/bitext_customer_support_training_4514.csv"
CLINC = "intents/clinc150/clinc150_flat.jsonl"
SHOP_SET = Path(__file__).resolve().parent / "data" / "scam_shop_messages.csv"
SEED = "safedesk-scam-20251127"
SPLITS = ("dev", "test")

__all__ = [
    "DATASET",
    "SHOP_SET",
    "SPLITS",
    "ShopMessage",
    "Sms",
    "evaluate_scam",
    "format_scam_report",
    "load_benign",
    "load_shop_set",
    "load_sms",
    "split_of",
]


@dataclass(frozen=True, slots=True)
class Sms:
    label: str  # ham | spam
    text: str
    split: str


@dataclass(frozen=True, slots=True)
class ShopMessage:
    id: str
    split: str  # dev | test
    label: str  # scam | benign
    lang: str  # en | no | sv | da | de | mixed
    kind: str  # bank_change, ceo, otp, ... / supplier_bank, invoice_question, ...
    text: str


def split_of(text: str) -> str:
    """dev or test, from a salted hash of the folded text (duplicates share a split)."""
    key = re.sub(r"\s+", " ", text.casefold()).strip()
    digest = hashlib.sha256(f"{SEED}\x00{key}".encode()).digest()
    return SPLITS[digest[0] & 1]


def load_sms(data_dir: Path | None = None) -> list[Sms]:
    path = (data_dir or shared_data_dir()) / DATASET
    if not path.is_file():
        raise UserError(f"missing data file {path}")
    rows = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            label, sep, text = line.partition("\t")
            if not sep or label not in ("ham", "spam"):
                raise UserError(f"{path}:{number}: expected 'ham|spam<TAB>text'")
            rows.append(Sms(label, text, split_of(text)))
    return rows


def load_shop_set(path: Path = SHOP_SET) -> list[ShopMessage]:
    """The hand-written shop set (CSV: id, split, label, lang, kind, text)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [ShopMessage(**row) for row in csv.DictReader(fh)]
    bad = [r.id for r in rows if r.split not in SPLITS or r.label not in ("scam", "benign")]
    if bad:
        raise UserError(f"{path}: bad split or label in rows {bad[:5]}")
    return rows


def _evaluate_shop_split(rows: Sequence[ShopMessage]) -> dict[str, Any]:
    """Scams caught (verdict != safe), scams called dangerous, benign flagged; misses and false flags listed."""
    results = [(row, assess(row.text)) for row in rows]
    scams = [(row, r) for row, r in results if row.label == "scam"]
    benign = [(row, r) for row, r in results if row.label == "benign"]
    return {
        "n_scam": len(scams),
        "n_benign": len(benign),
        "scams_flagged": _rate(sum(r.verdict != "safe" for _, r in scams), len(scams)),
        "scams_dangerous": _rate(sum(r.verdict == "dangerous" for _, r in scams), len(scams)),
        "benign_flagged": _rate(sum(r.verdict != "safe" for _, r in benign), len(benign)),
        "missed": [f"{row.id} {row.lang} {row.kind}" for row, r in scams if r.verdict == "safe"],
        "false_flags": [f"{row.id} {row.lang} {row.kind} ({r.verdict})" for row, r in benign if r.verdict != "safe"],
    }


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _f1(p: float | None, r: float | None) -> float | None:
    return round(2 * p * r / (p + r), 4) if p and r else (0.0 if p is not None and r is not None else None)


def _scores(flags: Sequence[tuple[bool, bool]]) -> dict[str, Any]:
    """(predicted, is_spam) pairs -> precision, recall, F1, false-flag rate on ham."""
    tp = sum(p and y for p, y in flags)
    fp = sum(p and not y for p, y in flags)
    fn = sum(y and not p for p, y in flags)
    tn = sum(not p and not y for p, y in flags)
    precision, recall = _rate(tp, tp + fp), _rate(tp, tp + fn)
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "false_flag_rate_ham": _rate(fp, fp + tn),
    }


def _evaluate_split(rows: Sequence[Sms], examples: int) -> dict[str, Any]:
    results = []
    for row in rows:
        start = time.perf_counter()
        result = assess(row.text)
        results.append((row, result, (time.perf_counter() - start) * 1000))
    is_spam = [row.label == "spam" for row, _, _ in results]
    verdicts = [r.verdict for _, r, _ in results]
    latencies = [ms for _, _, ms in results]
    by_label: dict[str, Counter[str]] = {"ham": Counter(), "spam": Counter()}
    rules: dict[str, Counter[str]] = {"ham": Counter(), "spam": Counter()}
    for row, result, _ in results:
        by_label[row.label][result.verdict] += 1
        rules[row.label].update(s.rule for s in result.signals)
    missed = [row.text[:140] for row, r, _ in results if row.label == "spam" and r.verdict == "safe"]
    false_flags = [
        (r.verdict, r.risk, [s.rule for s in r.signals], row.text[:140])
        for row, r, _ in results
        if row.label == "ham" and r.verdict != "safe"
    ]
    return {
        "n": len(rows),
        "n_spam": sum(is_spam),
        "n_ham": len(rows) - sum(is_spam),
        "flagged (verdict != safe)": _scores([(v != "safe", y) for v, y in zip(verdicts, is_spam, strict=True)]),
        "dangerous only": _scores([(v == "dangerous", y) for v, y in zip(verdicts, is_spam, strict=True)]),
        "verdicts": {label: dict(sorted(c.items())) for label, c in by_label.items()},
        "rules_fired": {label: dict(c.most_common()) for label, c in rules.items()},
        "latency_ms": {
            "p50": round(statistics.median(latencies), 3) if latencies else None,
            "p95": round(percentile(latencies, 0.95), 3) if latencies else None,
        },
        "examples": {"missed_spam": missed[:examples], "false_flags_ham": false_flags[:examples]},
    }


def load_benign(data_dir: Path | None = None) -> dict[str, list[str]]:
    """Benign customer-service texts: Bitext requests and CLINC150 utterances (missing files are skipped)."""
    root = data_dir or shared_data_dir()
    out: dict[str, list[str]] = {}
    if (root / BITEXT).is_file():
        with (root / BITEXT).open(encoding="utf-8", newline="") as fh:
            out["bitext"] = [row["instruction"] for row in csv.DictReader(fh) if row.get("instruction")]
    if (root / CLINC).is_file():
        with (root / CLINC).open(encoding="utf-8") as fh:
            out["clinc150"] = [json.loads(line)["text"] for line in fh if line.strip()]
    return out


def _evaluate_benign(texts: Sequence[str], examples: int) -> dict[str, Any]:
    verdicts: Counter[str] = Counter()
    flagged = []
    for text in texts:
        result = assess(text)
        verdicts[result.verdict] += 1
        if result.verdict != "safe":
            flagged.append((result.verdict, result.risk, [s.rule for s in result.signals], text[:140]))
    n = len(texts)
    return {
        "n": n,
        "false_flag_rate": _rate(n - verdicts["safe"], n),
        "dangerous_rate": _rate(verdicts["dangerous"], n),
        "verdicts": dict(sorted(verdicts.items())),
        "examples": flagged[:examples],
    }


def evaluate_scam(
    data_dir: Path | None = None, splits: Sequence[str] = SPLITS, *, examples: int = 10, benign: bool = True
) -> dict[str, Any]:
    """Figures per split (default: dev and test) of the scam checker against the SMS spam labels."""
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise UserError(f"unknown split(s) {unknown}; choose from {list(SPLITS)}")
    rows = load_sms(data_dir)
    assess("warm-up: https://bit.ly/x you have won")  # load tldextract's snapshot before timing
    report: dict[str, Any] = {
        "dataset": f"{DATASET} (UCI SMS Spam Collection v.1; {len(rows)} SMS)",
        "caveat": "labels are spam/ham, not scam/not scam: recall is measured against spam (mostly 2000s UK "
        "premium-rate marketing, much of it adverts rather than scams, which the checker is meant to leave "
        "safe), so it is not a scam recall; the false-flag rate on ham is the figure a shop owner feels",
        "positive": f"verdict != safe (risk >= {SAFE_BELOW}); 'dangerous only' uses risk >= {DANGEROUS_FROM}",
        "split_rule": "salted SHA-256 of the folded text, 50/50; rules and weights tuned on dev (and hand-written "
        "cases), test run once with the rules frozen",
        "splits": {},
    }
    for split in splits:
        report["splits"][split] = _evaluate_split([r for r in rows if r.split == split], examples)
    shop = load_shop_set()
    report["shop_set"] = {split: _evaluate_shop_split([r for r in shop if r.split == split]) for split in splits}
    report["hostile_ms"] = hostile_latency()
    if benign:
        report["benign"] = {name: _evaluate_benign(texts, examples) for name, texts in load_benign(data_dir).items()}
        report["benign_note"] = "all rows benign; bitext was looked at while tuning, clinc150 never"
    return report


# Pathological inputs at the checker's full length: a regex that backtracks on one of them shows up here as
# seconds (a 16,000-digit run once took 2.7 s: "[\\d,]*" restarted at every digit).
# name -> (start, unit repeated to the full length). Pasted emails are parsed by the email package, which
# was quadratic on a header of quotes (64,000 characters: 38 s) until long header blocks were left unparsed.
HOSTILE_INPUTS = {
    "digits": ("", "1"),
    "digits and commas": ("", "1,"),
    "one letter": ("", "a"),
    "capital letters": ("", "A"),
    "at signs": ("", "a@"),
    "URL path": ("", "a/"),
    "dots": ("", "a."),
    "email header of quotes": ("From: ", '"'),
    "email header of parentheses": ("From: ", "("),
}


def hostile_latency(repeats: int = 3) -> dict[str, float]:
    """Median milliseconds of `assess` on each HOSTILE_INPUTS pattern repeated to MAX_CHARS characters."""
    out = {}
    for name, (start, unit) in HOSTILE_INPUTS.items():
        text = (start + unit * (MAX_CHARS // len(unit) + 1))[:MAX_CHARS]
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            assess(text)
            times.append((time.perf_counter() - start) * 1000)
        out[name] = round(statistics.median(times), 1)
    return out


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}%"


def format_scam_report(d: dict[str, Any]) -> str:
    """Plain text: one block per split with precision / recall / F1 / false flags and latency."""
    lines = [f"Scam second opinion vs {d['dataset']}", f"  positive: {d['positive']}", f"  split: {d['split_rule']}"]
    lines.append(f"  caveat: {d['caveat']}")
    for split, s in d["splits"].items():
        lines.append(f"\n== {split}: {s['n']} SMS ({s['n_spam']} spam, {s['n_ham']} ham)")
        lines.append(f"  {'':<26}{'precision':>10}{'recall':>9}{'F1':>9}{'false flags on ham':>21}")
        for name in ("flagged (verdict != safe)", "dangerous only"):
            m = s[name]
            ff = f"{_pct(m['false_flag_rate_ham'])} ({m['fp']}/{m['fp'] + m['tn']})"
            lines.append(f"  {name:<26}{_pct(m['precision']):>10}{_pct(m['recall']):>9}{_pct(m['f1']):>9}{ff:>21}")
        for label in ("spam", "ham"):
            counts = ", ".join(f"{k} {v}" for k, v in s["verdicts"][label].items())
            lines.append(f"  verdicts on {label}: {counts}")
            fired = ", ".join(f"{k} {v}" for k, v in list(s["rules_fired"][label].items())[:8]) or "none"
            lines.append(f"  rules on {label}: {fired}")
        lat = s["latency_ms"]
        lines.append(f"  latency per message: p50 {lat['p50']} ms, p95 {lat['p95']} ms")
    if d.get("shop_set"):
        lines.append(f"\n== shop set ({SHOP_SET.name}: hand-written scams and look-alike benign messages)")
        for split, s in d["shop_set"].items():
            lines.append(
                f"  {split:<5} scams flagged {_pct(s['scams_flagged'])} (dangerous {_pct(s['scams_dangerous'])}) "
                f"of {s['n_scam']}; benign flagged {_pct(s['benign_flagged'])} of {s['n_benign']}"
            )
            lines.append(f"        missed: {', '.join(s['missed']) or 'none'}")
            lines.append(f"        false flags: {', '.join(s['false_flags']) or 'none'}")
    if d.get("hostile_ms"):
        shown = ", ".join(f"{k} {v} ms" for k, v in d["hostile_ms"].items())
        lines.append(f"\n== hostile input, {MAX_CHARS:,} characters each (median of 3): {shown}")
    if d.get("benign"):
        lines.append(f"\n== benign customer-service text ({d['benign_note']})")
        for name, b in d["benign"].items():
            counts = ", ".join(f"{k} {v}" for k, v in b["verdicts"].items())
            lines.append(
                f"  {name:<10} n={b['n']:<6} false flags {_pct(b['false_flag_rate'])}, "
                f"dangerous {_pct(b['dangerous_rate'])}  ({counts})"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scam checker vs the SMS Spam Collection.")
    parser.add_argument("--split", default="all", choices=[*SPLITS, "all"])
    parser.add_argument("--json", action="store_true", help="print the full JSON result")
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--no-benign", action="store_true", help="skip the Bitext / CLINC150 false-flag sets")
    args = parser.parse_args(argv)
    splits = SPLITS if args.split == "all" else (args.split,)
    result = evaluate_scam(splits=splits, examples=args.examples, benign=not args.no_benign)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_scam_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
