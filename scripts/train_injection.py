#!/usr/bin/env python
"""Train the injection guard's model and tune its operating point; save numbers only.

    .venv/bin/python scripts/train_injection.py        # writes src/safedesk/guards/models/injection.{npz,json}

Data and splits: see `safedesk.bench.injection` (one split function for this script and the benchmark).
Every source is split 60/20/20 train/dev/test by a salted hash of a group key before any tuning. This
script fits on train, picks the regularisation and the logit offset on dev, and never reads test.
The benign-quoting set, BIPIA's plain-question injections and spikee's non-English rows are never used
here. CLINC150 is split by its own train / val / test.

What the model sees is exactly what the guard scores at run time: the normalised main text (short
messages whole; long ones as overlapping ~2-sentence windows, labelled positive only where a known
injection sits) plus every decoded payload view (base64, hex, ROT13, ...).

The operating point: the guard flags when 1 - (1 - rule) * (1 - sigmoid(logit + offset)) >= 0.5. The
offset is the most permissive one that keeps false flags on dev at <= 0.5 % of Bitext customer messages
and <= 1 % of all benign dev rows (Bitext, deepset, spikee's finance questions, BIPIA contexts, NotInject
CLINC150, and the synthetic hard negatives together); dev recall decides between regularisation strengths.

Out-of-distribution check: a second model is fitted without NotInject, without the synthetic
data-probing family and without all synthetic Spanish rows, tuned the same way, and its recall on those
held-out attacks and its false flags on NotInject and Spanish customer messages (every split), on
CLINC150 (test split) and on the never-used benign sets are written to the metadata as `ood_check`. The
shipped model is the first one. Neither model ever sees the benign-quoting set, BIPIA's plain-question
injections or spikee's non-English rows (Zulu, Albanian, Irish, Scots Gaelic).

Weights go to an .npz of plain arrays (allow_pickle=False at load), metadata (vectorizer parameters,
offset, threshold, sha256 of the npz, data summary, dev figures, OOD check) to a .json beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from safedesk.bench.injection import (
    UNSEEN_SOURCES,
    Sample,
    corpus_summary,
    load_corpus,
    ood_holdout,
)
from safedesk.guards._normalize import normalize
from safedesk.guards.injection import (
    DEFAULT_MODEL,
    InjectionGuard,
    InjectionModel,
    build_vectorizer,
    model_view,
    windows,
)

VECTORIZERS = [
    {
        "name": "word",
        "params": {
            "analyzer": "word",
            "ngram_range": [1, 2],
            "token_pattern": r"(?u)\b\w+\b",
            "n_features": 2**19,
            "alternate_sign": False,
            "norm": "l2",
            "lowercase": False,
            "binary": True,
        },
    },
    {
        "name": "char",
        "params": {
            "analyzer": "char_wb",
            "ngram_range": [3, 5],
            "n_features": 2**19,
            "alternate_sign": False,
            "norm": "l2",
            "lowercase": False,
            "binary": True,
        },
    },
]
C_GRID = (1.0, 3.0, 10.0)
THRESHOLD = 0.5
MAX_FP_BITEXT = 0.005
MAX_FP_BENIGN = 0.01
# Real (not synthetic, not adversarially built) benign text: each source's dev false flags are bounded.
REAL_BENIGN_SOURCES = ("bitext", "clinc150", "sms_ham", "goemotions", "bipia")
MAX_NEG_WINDOWS = 12  # negative windows taken from one long benign text
ATTRIBUTION = {
    "deepset": "deepset/prompt-injections via github.com/sinanw/llm-security-prompt-injection (MIT repo; HF card "
    "licence not stated)",
    "spikee": "WithSecureLabs/spikee (Apache-2.0)",
    "bipia": "microsoft/BIPIA (MIT; table contexts WikiTableQuestions CC BY-SA 4.0)",
    "bitext": "Bitext customer-support sample (CDLA-Sharing-1.0)",
    "synthetic": "templates in safedesk.bench.injection",
    "clinc150": "CLINC150 (CC BY 3.0)",
    "notinject": "NotInject (MIT)",
    "sms_ham": "SMS Spam Collection v.1, ham rows (Almeida & Gomez Hidalgo)",
    "goemotions": "GoEmotions test split (via monologg/GoEmotions-pytorch, Apache-2.0 repo)",
    "unseen (evaluation only)": "ai-threat-scanner curated FP set (MIT)",
}


# --------------------------------------------------------------------------------------------------
# What the model sees
# --------------------------------------------------------------------------------------------------


def training_rows(sample: Sample) -> list[tuple[str, int]]:
    """(text, label) rows for one sample, cut the way the guard cuts text at run time."""
    norm = normalize(sample.text)
    if sample.label and sample.category == "encoded_payload":
        decoded = [model_view(v.text[:2000], short=True) for v in norm.views[1:] if v.text]
        return [(t, 1) for t in decoded] or [(model_view(norm.text, short=len(windows(norm.text)) == 1), 1)]
    main = norm.text
    spans = windows(main)
    if len(spans) == 1:
        return [(model_view(main, short=True), sample.label)]
    if not sample.label:
        step = max(1, len(spans) // MAX_NEG_WINDOWS)
        return [(main[a:b], 0) for a, b in spans[::step]]
    if sample.span is None:
        return [(main[:3000], 1)]
    attack = normalize(sample.text[sample.span[0] : sample.span[1]]).text
    at = main.find(attack) if attack else -1
    if at < 0:
        return [(main[:3000], 1)]
    end = at + len(attack)
    rows = []
    for a, b in spans:
        inside = max(0, min(b, end) - max(a, at))
        if inside >= 0.8 * len(attack):
            rows.append((main[a:b], 1))
        elif inside == 0 and sample.source == "synthetic":
            rows.append((main[a:b], 0))
    return rows or [(main[:3000], 1)]


@dataclass
class EvalItem:
    sample: Sample
    rule: float  # strongest rule weight
    texts: list[str]  # what the model scores for this sample


def eval_items(samples: Sequence[Sample], guard: InjectionGuard) -> list[EvalItem]:
    items = []
    for s in samples:
        norm = normalize(s.text)
        hits = guard.rule_hits(norm)
        texts, _ = guard.model_texts(norm)
        items.append(EvalItem(s, hits[0].rule.weight if hits else 0.0, texts))
    return items


# --------------------------------------------------------------------------------------------------
# Fitting and tuning
# --------------------------------------------------------------------------------------------------


def featurize(texts: Sequence[str]) -> sp.csr_matrix:
    return sp.hstack([build_vectorizer(b["params"]).transform(texts) for b in VECTORIZERS]).tocsr()


def fit(rows: Sequence[tuple[str, int, float]], c: float) -> dict[str, np.ndarray]:
    texts = [t for t, _, _ in rows]
    y = np.array([lab for _, lab, _ in rows])
    w = np.array([wt for _, _, wt in rows])
    x = featurize(texts)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="liblinear")
    clf.fit(x, y, sample_weight=w)
    coef = clf.coef_.ravel().astype(np.float32)
    arrays: dict[str, np.ndarray] = {"bias": np.array([clf.intercept_[0]], dtype=np.float32)}
    offset = 0
    for block in VECTORIZERS:
        n = int(block["params"]["n_features"])
        part = coef[offset : offset + n]
        offset += n
        keep = np.flatnonzero(np.abs(part) >= 1e-4).astype(np.int32)
        arrays[f"{block['name']}_index"] = keep
        arrays[f"{block['name']}_weight"] = part[keep].astype(np.float16)
    return arrays


def model_from(arrays: dict[str, np.ndarray], offset: float = 0.0) -> InjectionModel:
    return InjectionModel(arrays, {"vectorizers": VECTORIZERS, "logit_offset": offset, "threshold": THRESHOLD})


def max_logits(model: InjectionModel, items: Sequence[EvalItem]) -> np.ndarray:
    flat = [t for it in items for t in it.texts]
    logits = model.logits(flat)
    out = np.empty(len(items))
    i = 0
    for k, it in enumerate(items):
        out[k] = logits[i : i + len(it.texts)].max()
        i += len(it.texts)
    return out


def flags(items: Sequence[EvalItem], logits: np.ndarray, offset: float) -> np.ndarray:
    rules = np.array([it.rule for it in items])
    p = 1.0 / (1.0 + np.exp(-(logits + offset)))
    return 1.0 - (1.0 - rules) * (1.0 - p) >= THRESHOLD


def choose_offset(items: Sequence[EvalItem], logits: np.ndarray) -> tuple[float, dict[str, float]]:
    """The most permissive offset with dev false flags within bounds (Bitext, and all benign rows)."""
    labels = np.array([it.sample.label for it in items])
    bitext = np.array([it.sample.source == "bitext" for it in items])
    sources = np.array([it.sample.source for it in items])
    # Every source of real benign text on its own, too: one big easy source must not hide a hard one.
    benign_sources = [np.flatnonzero((sources == src) & (labels == 0)) for src in REAL_BENIGN_SOURCES]
    best = None
    for offset in np.arange(-6.0, 6.01, 0.05):
        f = flags(items, logits, offset)
        fp_bitext = f[bitext & (labels == 0)].mean()
        fp_all = f[labels == 0].mean()
        fp_worst = max(f[idx].mean() for idx in benign_sources)
        if fp_bitext <= MAX_FP_BITEXT and fp_all <= MAX_FP_BENIGN and fp_worst <= MAX_FP_BENIGN:
            best = (float(round(offset, 2)), {"recall": float(f[labels == 1].mean()),
                                              "fp_bitext": float(fp_bitext), "fp_benign": float(fp_all)})  # fmt: skip
    if best is None:
        raise SystemExit("no offset meets the false-flag bounds on dev")
    return best


def per_source(items: Sequence[EvalItem], f: np.ndarray) -> dict[str, dict[str, float]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        groups[it.sample.source].append(i)
        if it.sample.source == "synthetic":
            groups[f"synthetic/{it.sample.category if it.sample.label else 'benign'}"].append(i)
    out = {}
    for name, idx in sorted(groups.items()):
        lab = np.array([items[i].sample.label for i in idx])
        fl = f[idx]
        entry: dict[str, float] = {}
        if (lab == 1).any():
            entry["recall"] = round(float(fl[lab == 1].mean()), 4)
            entry["attacks"] = int((lab == 1).sum())
        if (lab == 0).any():
            entry["false_flag_rate"] = round(float(fl[lab == 0].mean()), 4)
            entry["benign"] = int((lab == 0).sum())
        out[name] = entry
    return out


_GERMAN_RE = None


def language(s: Sample) -> str:
    """The sample's language, for balancing: synthetic and spikee rows carry one; deepset is German or
    English (guessed from function words); everything else is English."""
    global _GERMAN_RE
    if s.source == "deepset":
        import re

        _GERMAN_RE = _GERMAN_RE or re.compile(r"\b(?:ich|und|der|die|das|ist|nicht|wie|was|sie|ein|eine|mit)\b", re.I)
        return "de" if _GERMAN_RE.search(s.text) else "en"
    return s.lang or "en"


def weighted_rows(
    samples: Sequence[Sample], extra_weight: dict[str, float] | None = None
) -> list[tuple[str, int, float]]:
    """Training rows and weights. Each (source, label, language) group weighs about sqrt(its row count),
    so no source dominates (times `extra_weight[source]`, when given); then, per language, benign rows
    are scaled so that every language has the same attack : benign weight ratio. Otherwise "not English"
    becomes a sign of attack, because most non-English training rows are attacks."""
    extra = extra_weight or {}
    raw = [(s, t, lab) for s in samples for t, lab in training_rows(s)]
    counts = Counter((s.source, lab, language(s)) for s, _, lab in raw)
    weights = [extra.get(s.source, 1.0) * float(np.sqrt(counts[s.source, lab, language(s)])
               / counts[s.source, lab, language(s)]) for s, _, lab in raw]  # fmt: skip
    pos: Counter[str] = Counter()
    neg: Counter[str] = Counter()
    for (s, _, lab), w in zip(raw, weights, strict=True):
        (pos if lab else neg)[language(s)] += w
    ratio = sum(pos.values()) / sum(neg.values())
    scale = {lang: (pos[lang] / neg[lang]) / ratio if pos[lang] and neg[lang] else 1.0 for lang in neg}
    return [(t, lab, 100 * w * (1.0 if lab else scale.get(language(s), 1.0)))
            for (s, t, lab), w in zip(raw, weights, strict=True)]  # fmt: skip


def train_and_tune(train: Sequence[Sample], dev: Sequence[Sample], guard: InjectionGuard, log) -> dict:
    rows = weighted_rows(train)
    log(f"  {len(rows)} training rows from {len(train)} samples")
    dev_items = eval_items(dev, guard)
    best = None
    for c in C_GRID:
        t0 = time.perf_counter()
        arrays = fit(rows, c)
        logits = max_logits(model_from(arrays), dev_items)
        offset, dev_stats = choose_offset(dev_items, logits)
        log(
            f"  C={c}: offset {offset:+.2f} dev recall {dev_stats['recall']:.4f} fp bitext "
            f"{dev_stats['fp_bitext']:.4f} fp benign {dev_stats['fp_benign']:.4f} ({time.perf_counter() - t0:.0f}s)"
        )
        # Prefer the stronger regularisation (smaller C, tried first) unless a weaker one gains more than
        # half a point of dev recall: keyword-happy models generalise worse to new phrasings.
        if best is None or dev_stats["recall"] > best["dev"]["recall"] + 0.005:
            best = {"c": c, "arrays": arrays, "offset": offset, "dev": dev_stats, "logits": logits}
    assert best is not None
    best["dev_items"] = dev_items
    best["per_source"] = per_source(dev_items, flags(dev_items, best["logits"], best["offset"]))
    return best


def ood_check(corpus: Sequence[Sample], guard: InjectionGuard, log, save_to: Path | None = None) -> dict:
    def trainable(s: Sample) -> bool:
        return s.source not in UNSEEN_SOURCES and not ood_holdout(s)

    train = [s for s in corpus if s.split == "train" and trainable(s)]
    dev = [s for s in corpus if s.split == "dev" and trainable(s)]
    result = train_and_tune(train, dev, guard, log)
    model = model_from(result["arrays"], result["offset"])
    if save_to is not None:  # for error analysis only; never shipped
        save(
            result["arrays"],
            {"vectorizers": VECTORIZERS, "logit_offset": result["offset"], "threshold": THRESHOLD},
            save_to,
        )
    held = [s for s in corpus if ood_holdout(s)]
    unseen_benign = [s for s in corpus if s.source == "benign_quoting"]
    unseen_benign += [s for s in corpus if s.source in ("clinc150", "sms_ham", "goemotions") and s.split == "test"]
    items = eval_items(held + unseen_benign, guard)
    f = flags(items, max_logits(model, items), result["offset"])
    groups: dict[str, list[int]] = defaultdict(list)
    for i, it in enumerate(items):
        s = it.sample
        if s.source == "synthetic" and s.label:
            if s.lang == "es":
                groups["synthetic Spanish attacks, all families (all splits)"].append(i)
            if s.category == "data_probing" or s.group.startswith("data_probing:"):
                groups["synthetic data_probing family, all languages (all splits)"].append(i)
        elif s.source == "synthetic":
            groups["synthetic Spanish benign (all splits)"].append(i)
        elif s.source == "notinject":
            groups["notinject (all splits)"].append(i)
        elif s.source in ("clinc150", "sms_ham", "goemotions"):
            groups[f"{s.source} (test split)"].append(i)
        else:
            groups[f"{s.source} (all rows, never trained)"].append(i)
    out = {"C": result["c"], "logit_offset": result["offset"], "dev": result["dev"], "held_out": {}}
    for name, idx in sorted(groups.items()):
        lab = np.array([items[i].sample.label for i in idx])
        rate = float(f[idx].mean())
        key = "recall" if lab.all() else "false_flag_rate"
        out["held_out"][name] = {key: round(rate, 4), "rows": len(idx)}
    return out


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def save(arrays: dict[str, np.ndarray], meta: dict, npz_path: Path) -> str:
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(npz_path, **arrays)
    digest = hashlib.sha256(npz_path.read_bytes()).hexdigest()
    meta["sha256"] = digest
    npz_path.with_suffix(".json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return digest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="the .npz to write (json beside it)")
    parser.add_argument("--skip-ood", action="store_true", help="skip the out-of-distribution check model")
    parser.add_argument("--save-ood", type=Path, help="also save the OOD check model here (error analysis)")
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    corpus = load_corpus()
    log(f"corpus: {len(corpus)} samples ({time.perf_counter() - t0:.0f}s)")
    # A guard with a neutral model, only for its rule and window logic (the model is not used here).
    zeros = {"bias": np.zeros(1, np.float32)}
    for block in VECTORIZERS:
        zeros[f"{block['name']}_index"] = np.zeros(0, np.int32)
        zeros[f"{block['name']}_weight"] = np.zeros(0, np.float32)
    guard = InjectionGuard.with_model(model_from(zeros))

    train = [s for s in corpus if s.split == "train" and s.source not in UNSEEN_SOURCES]
    dev = [s for s in corpus if s.split == "dev" and s.source not in UNSEEN_SOURCES]
    log("shipped model:")
    result = train_and_tune(train, dev, guard, log)
    ood = None
    if not args.skip_ood:
        log("out-of-distribution check model:")
        ood = ood_check(corpus, guard, log, args.save_ood)
        log(json.dumps(ood["held_out"], indent=1))

    summary = corpus_summary(corpus)
    meta = {
        "format": "safedesk-injection-linear-v1",
        "trained_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "vectorizers": VECTORIZERS,
        "logit_offset": result["offset"],
        "threshold": THRESHOLD,
        "combine": "score = 1 - (1 - strongest rule weight) * (1 - sigmoid(max window logit + logit_offset))",
        "classifier": {"type": "LogisticRegression", "solver": "liblinear", "class_weight": "balanced",
                       "C": result["c"], "weights": "float16, non-zero only"},
        "tuning": {"split": "dev", "max_false_flags_bitext": MAX_FP_BITEXT, "max_false_flags_benign": MAX_FP_BENIGN,
                   "dev": result["dev"], "dev_per_source": result["per_source"]},
        "data": {"splits": "60/20/20 by salted hash of a group key (safedesk.bench.injection.split_of)",
                 "trained_on": "train split of deepset, spikee (English), spikee_fp, bipia, notinject, bitext, "
                               "clinc150 (its own train split), sms_ham, goemotions, synthetic",
                 "never_used": sorted(UNSEEN_SOURCES), "summary": summary, "attribution": ATTRIBUTION},
        "ood_check": ood,
    }  # fmt: skip
    digest = save(result["arrays"], meta, args.out)
    log(
        f"wrote {args.out} (sha256 {digest[:16]}..., {args.out.stat().st_size} bytes) in "
        f"{time.perf_counter() - t0:.0f}s"
    )
    log(json.dumps(result["per_source"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
