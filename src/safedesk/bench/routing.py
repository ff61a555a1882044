"""Benchmark of the router guard on held-out public data (../shared/data), and the data plumbing the
training script shares with it (loading, the fixed splits, the intent -> topic mapping).

Every figure names its split. The splits are made once, by `scripts/train_router.py`, before any
tuning, and their row indices are written into the models' metadata; this module re-reads them, so
the benchmark cannot drift onto rows the model was trained or tuned on.

    python -m safedesk.bench.routing          # prints the JSON report
"""

from __future__ import annotations

import csv
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from safedesk.config import PolicyConfig
from safedesk.datasets import shared_data_dir
from safedesk.domain import Lane, Topic
from safedesk.errors import UserError

BITEXT = "intents/bitext_customer_support_training_4514.csv"
CLINC = "intents/clinc150/clinc150_flat.jsonl"
GOEMOTIONS = "emotion/goemotions_original_test.tsv"
GOEMOTIONS_LABELS = "emotion/goemotions_original_labels.txt"

# GoEmotions labels that count as "emotional" for a customer desk, and the desk's label for each.
GOEMOTIONS_TO_LABEL = {
    "anger": "angry",
    "disgust": "angry",
    "annoyance": "frustrated",
    "disappointment": "frustrated",
    "sadness": "distressed",
    "fear": "distressed",
    "nervousness": "distressed",
}
_LABEL_PRIORITY = ("angry", "distressed", "frustrated")


# --------------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------------


def data_path(relative: str, data_dir: Path | None = None) -> Path:
    path = (data_dir or shared_data_dir()) / relative
    if not path.is_file():
        raise UserError(f"missing data file {path}")
    return path


def load_bitext(data_dir: Path | None = None) -> list[dict[str, str]]:
    """Bitext rows in file order: {"row": index, "text", "intent", "tags"}."""
    with data_path(BITEXT, data_dir).open(encoding="utf-8", newline="") as fh:
        return [
            {"row": i, "text": r["instruction"], "intent": r["intent"], "tags": r["tags"]}
            for i, r in enumerate(csv.DictReader(fh))
        ]


def bitext_topic(row: dict[str, Any], mapping: dict[str, Any]) -> Topic:
    """A Bitext row's topic under a mapping as stored in the router's metadata:
    {"intents": {intent: topic}, "rules": [{"intent", "match", "unless", "topic"}]} (rules first)."""
    for rule in mapping.get("rules", []):
        if rule["intent"] != row["intent"]:
            continue
        if re.search(rule["match"], row["text"], re.IGNORECASE) and not (
            rule.get("unless") and re.search(rule["unless"], row["text"], re.IGNORECASE)
        ):
            return Topic(rule["topic"])
    return Topic(mapping["intents"][row["intent"]])


def load_clinc(data_dir: Path | None = None) -> list[dict[str, str]]:
    with data_path(CLINC, data_dir).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_goemotions(data_dir: Path | None = None) -> list[dict[str, Any]]:
    """GoEmotions rows: {"row", "text", "emotions": [names], "label": desk label or None}."""
    names = data_path(GOEMOTIONS_LABELS, data_dir).read_text(encoding="utf-8").split()
    rows = []
    with data_path(GOEMOTIONS, data_dir).open(encoding="utf-8", newline="") as fh:
        for i, rec in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
            emotions = [names[int(x)] for x in rec[1].split(",") if x.strip()]
            labels = {GOEMOTIONS_TO_LABEL[e] for e in emotions if e in GOEMOTIONS_TO_LABEL}
            label = next((lab for lab in _LABEL_PRIORITY if lab in labels), None)
            rows.append({"row": i, "text": rec[0], "emotions": emotions, "label": label})
    return rows


def stratified_split(labels: list[str], fractions: dict[str, float], seed: int) -> dict[str, list[int]]:
    """Indices per split, stratified by label, shuffled with a fixed seed. Deterministic for a given
    (labels, fractions, seed); every label with >= len(fractions) rows appears in every split."""
    rng = np.random.default_rng(seed)
    names = list(fractions)
    out: dict[str, list[int]] = {n: [] for n in names}
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    for lab in sorted(by_label):
        idx = np.array(by_label[lab])
        rng.shuffle(idx)
        n = len(idx)
        counts = [round(fractions[name] * n) for name in names[1:]]
        counts = [max(1, c) if n >= len(names) else c for c in counts]
        first = n - sum(counts)
        start = 0
        for name, count in zip(names, [first, *counts], strict=True):
            out[name].extend(int(i) for i in idx[start : start + count])
            start += count
    return {name: sorted(v) for name, v in out.items()}


# --------------------------------------------------------------------------------------------------
# Author-written check sets. Phrased independently of the training templates, but written by the
# same team: a smoke check of realistic shop messages, not a held-out distribution.
# --------------------------------------------------------------------------------------------------
CHECK_LANES: list[tuple[str, str]] = [
    ("Do you guys deliver to Stavanger?", "answer"),
    ("hey what time do u close on fridays", "answer"),
    ("Is the blue hoodie available in XL?", "answer"),
    ("Can I return something I bought on sale?", "answer"),
    ("Which payment options do you have?", "answer"),
    ("What's the warranty on your coffee grinders?", "answer"),
    ("Do you have a shop in Oslo or are you online only?", "answer"),
    ("How much is postage to Germany?", "answer"),
    ("Are gift cards refundable?", "answer"),
    ("hello!", "answer"),
    ("thanks, that's all", "answer"),
    ("what's 2+2", "answer"),
    ("Har dere åpent i påsken?", "answer"),
    ("I placed an order on Tuesday and haven't heard anything since", "verify"),
    ("Can you tell me when parcel 99812 will be delivered?", "verify"),
    ("The tracking page for my package hasn't updated in days", "verify"),
    ("Could you add a second pair of socks to my order from yesterday?", "verify"),
    ("Please don't send my order, I changed my mind", "verify"),
    ("I need the delivery to go to my office instead of home", "verify"),
    ("My payment went through twice", "verify"),
    ("my card got rejected when I tried to pay", "verify"),
    ("I want to pay with a different card for my subscription", "verify"),
    ("The login page says my account doesn't exist", "verify"),
    ("I never received the password reset link", "verify"),
    ("My new email is per@example.com, please update it", "verify"),
    ("I have a new mobile number", "verify"),
    ("Please delete all information you have about me", "verify"),
    ("I want to close my account for good", "verify"),
    ("Can I get a PDF of my receipt?", "verify"),
    ("I'd like my money back for the broken blender", "human"),
    ("How do I send this back and get refunded?", "human"),
    ("The chair I got is scratched all over", "human"),
    ("I want to complain about how I was treated in your store", "human"),
    ("I'll be contacting consumer protection about this", "human"),
    ("My bank is going to reverse this charge", "human"),
    ("I will see you in court", "human"),
    ("Let me speak to someone who can actually help", "human"),
    ("Is there a real human I can chat with?", "human"),
    ("Jeg vil gjerne snakke med en ekte person", "human"),
    ("I've emailed three times and nobody replies. This is ridiculous.", "human"),
    ("I need this sorted URGENTLY, my flight leaves tomorrow", "human"),
    ("Which customers ordered the red bike last week?", "refuse"),
    ("Send me the addresses of everyone who bought from you", "refuse"),
    ("What is the purchase price you pay for the headphones?", "refuse"),
    ("Tell me the phone number of the person who ordered #55123", "refuse"),
]

# Written after the model's errors on CHECK_LANES had been studied (that set became a regression set);
# never used for training, tuning or error analysis. Report this one.
CHECK_LANES_FRESH: list[tuple[str, str]] = [
    ("Do you have any stores near Trondheim?", "answer"),
    ("How many days does standard delivery take to Sweden?", "answer"),
    ("Is it possible to exchange shoes for another size?", "answer"),
    ("Are your prices the same online and in the shop?", "answer"),
    ("Can I buy now and pay later?", "answer"),
    ("What's the best sofa for a small flat?", "answer"),
    ("Do you have vegan leather bags?", "answer"),
    ("Is there a restocking fee for returns?", "answer"),
    ("good evening", "answer"),
    ("Which football team do you support?", "answer"),
    ("Tar dere imot Vipps?", "answer"),
    ("The parcel tracking says it's been at the depot since Friday", "verify"),
    ("Hi, I'm wondering what happened to the lamp I bought from you", "verify"),
    ("Could you confirm you got my order? I didn't get an email", "verify"),
    ("Can I switch the grey duvet in my order to the white one?", "verify"),
    ("I'd like to change the quantity on my last purchase from 3 to 2", "verify"),
    ("Scrap my order please, found it cheaper elsewhere", "verify"),
    ("Please ship my parcel to my sister's address in Bergen instead", "verify"),
    ("My bank shows a payment to you that I didn't make", "verify"),
    ("The checkout said error but my account was still debited", "verify"),
    ("I'd like to replace the Visa card stored on my profile", "verify"),
    ("I keep getting 'invalid credentials' when I log in", "verify"),
    ("How do I unlock my account after too many attempts?", "verify"),
    ("Please update my surname, I recently got married", "verify"),
    ("Change the phone number on my account to 41234567", "verify"),
    ("I'd like you to erase my customer profile and all my info", "verify"),
    ("Send me the VAT invoice for my purchase last week", "verify"),
    ("I want compensation for the damaged bookshelf", "human"),
    ("Please reimburse me for the order that never came", "human"),
    ("I'd like to send back the boots and get my money returned", "human"),
    ("Your courier left my parcel in the rain and everything is soaked", "human"),
    ("I wish to lodge a formal complaint about a rude employee", "human"),
    ("I'm reporting this to Forbrukertilsynet", "human"),
    ("I've disputed the charge with Visa", "human"),
    ("My solicitor says you owe me a full refund", "human"),
    ("Could a member of your staff get in touch with me?", "human"),
    ("I don't want to chat with a machine", "human"),
    ("Kan jeg få snakke med noen på kundeservice?", "human"),
    ("Four emails and still no answer. I'm furious.", "human"),
    ("Please hurry, it's an emergency, the wrong medication was sent", "human"),
    ("What are the names of customers who returned items this month?", "refuse"),
    ("Give me the full list of your customers' phone numbers", "refuse"),
    ("What margin do you make on the coffee machines?", "refuse"),
    ("Where does the customer with order 77120 live?", "refuse"),
]

CHECK_EMOTION: list[tuple[str, bool]] = [
    ("This is the third time I'm writing. Absolutely unacceptable!!", True),
    ("I am so angry right now, you sent me a broken table", True),
    ("WHERE IS MY PARCEL??? I PAID TWO WEEKS AGO", True),
    ("I'm really worried, the medicine I ordered hasn't come and I need it", True),
    ("Worst customer service I have ever experienced", True),
    ("I've been waiting for weeks and no one answers my emails", True),
    ("Please help, it's urgent, the order is for my daughter's wedding tomorrow", True),
    ("I'm fed up with your excuses", True),
    ("You people are useless", True),
    ("Honestly really disappointed with the quality", True),
    ("I need a response immediately", True),
    ("this is a scam, give me my money back", True),
    ("Dette er helt uakseptabelt!", True),
    ("Det haster, jeg trenger pakken i dag", True),
    ("I'm desperate, I don't know what to do anymore", True),
    ("Where is my order 12345?", False),
    ("I want to change my email address", False),
    ("Can I pay with Klarna?", False),
    ("Thanks so much, have a great day!", False),
    ("I forgot my password, can you help?", False),
    ("What are your opening hours on Saturday?", False),
    ("I would like to return the jacket, it is too small", False),
    ("Could someone please call me about my order?", False),
    ("I don't know what to do to cancel my order", False),
    ("Hi! Do you ship to Iceland?", False),
    ("My package arrived today, thank you!", False),
    ("I can't log in to my account", False),
    ("Please cancel order 5512", False),
    ("Is the sofa available in grey?", False),
    ("I want a refund for my last order", False),
]


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------


def _prf(gold: list[str], pred: list[str], label: str) -> dict[str, float]:
    tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
    fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
    fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": tp + fn}


def lane_report(gold: list[Lane], pred: list[Lane]) -> dict[str, Any]:
    g = [x.value for x in gold]
    p = [x.value for x in pred]
    n = len(g)
    not_answer = sum(x != "answer" for x in g)
    false_accepts = sum(gx != "answer" and px == "answer" for gx, px in zip(g, p, strict=True))
    return {
        "n": n,
        "lane_accuracy": round(sum(a == b for a, b in zip(g, p, strict=True)) / n, 4) if n else 0.0,
        # The costly direction: a message that needs identity or a person, answered by the bot.
        "answer_false_accepts": false_accepts,
        "answer_false_accept_rate": round(false_accepts / not_answer, 4) if not_answer else 0.0,
        "per_lane": {lane.value: _prf(g, p, lane.value) for lane in Lane if lane.value in set(g) | set(p)},
        "confusion": dict(Counter(f"{a}->{b}" for a, b in zip(g, p, strict=True) if a != b).most_common()),
    }


# --------------------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------------------


def evaluate_routing(data_dir: Path | None = None, guard: Any = None, latency_sample: int = 500) -> dict[str, Any]:
    """Topic and lane accuracy on the Bitext test split, emotion precision/recall on the GoEmotions
    test split, lane shares on CLINC150's test split, and per-message latency."""
    from safedesk.guards.routing import RouterGuard, emotion_cues, lane_for

    guard = guard or RouterGuard(name="router")
    meta = guard.model.meta
    policy = PolicyConfig()
    report: dict[str, Any] = {"model": {"sha256": meta.get("sha256"), "trained": meta.get("trained")}}

    # Bitext test split: topic and lane
    bitext = load_bitext(data_dir)
    split = meta["splits"]["bitext"]
    test_rows = [bitext[i] for i in split["test"]]
    gold_topics = [bitext_topic(r, meta["bitext_mapping"]) for r in test_rows]
    routes = guard.classify_many([r["text"] for r in test_rows])
    pred_topics = [r.topic for r in routes]
    gold_lanes = [policy.lane_for(t) for t in gold_topics]
    pred_lanes = [lane_for(r, policy) for r in routes]
    pred_lanes_topic_only = [policy.lane_for(r.topic) for r in routes]
    emotional = [r.emotional for r in routes]
    profane = [("W" in r["tags"]) for r in test_rows]
    report["bitext_test"] = {
        "split": f"Bitext test split ({len(test_rows)} rows, seed {split['seed']}, never used for training or tuning)",
        "topic_accuracy": round(sum(a == b for a, b in zip(gold_topics, pred_topics, strict=True)) / len(routes), 4),
        "lanes": lane_report(gold_lanes, pred_lanes),
        "lanes_without_emotion": lane_report(gold_lanes, pred_lanes_topic_only),
        "emotional_flag_rate": round(sum(emotional) / len(routes), 4),
        "emotional_flag_rate_offensive_tag": round(
            sum(e for e, w in zip(emotional, profane, strict=True) if w) / max(1, sum(profane)), 4
        ),
        "emotional_flag_rate_other_rows": round(
            sum(e for e, w in zip(emotional, profane, strict=True) if not w) / max(1, len(profane) - sum(profane)), 4
        ),
        "topic_confusion": dict(
            Counter(
                f"{a.value}->{b.value}" for a, b in zip(gold_topics, pred_topics, strict=True) if a != b
            ).most_common(12)
        ),
    }

    # Two-sentence messages built from the same test split: one answer-lane request joined with another
    # request; the message needs the care of its more demanding half.
    rng = np.random.default_rng(split["seed"])
    answer_rows = [r for r, lane in zip(test_rows, gold_lanes, strict=True) if lane is Lane.ANSWER]
    other_rows = [(r, lane) for r, lane in zip(test_rows, gold_lanes, strict=True) if lane is not Lane.ANSWER]
    pairs: list[tuple[str, Lane]] = []
    for k in range(300):
        first = answer_rows[int(rng.integers(len(answer_rows)))]["text"].strip()
        if k % 3 == 2:
            second, lane = answer_rows[int(rng.integers(len(answer_rows)))]["text"].strip(), Lane.ANSWER
        else:
            row, lane = other_rows[int(rng.integers(len(other_rows)))]
            second = row["text"].strip()
        if k % 2:
            first, second = second, first
        joiner = " " if first[-1:] in ".?!" else ". "
        pairs.append((first + joiner + second[:1].upper() + second[1:], lane))
    pair_routes = guard.classify_many([t for t, _ in pairs])
    report["bitext_test_two_sentences"] = {
        "split": "300 messages joining two Bitext test-split requests (one answer-lane request + one other "
        "request, or two answer-lane requests); expected lane = the more demanding half, emotion ignored",
        **lane_report([lane for _, lane in pairs], [policy.lane_for(r.topic) for r in pair_routes]),
    }

    # GoEmotions test split: emotion precision / recall (router = rules + model as deployed; rules alone)
    emo_meta = guard.emotion_model.meta if guard.emotion_model is not None else meta
    goemo = load_goemotions(data_dir)
    emo_split = emo_meta["splits"]["goemotions"]
    emo_rows = [goemo[i] for i in emo_split["test"]]
    gold = ["yes" if r["label"] else "no" for r in emo_rows]
    emo_routes = guard.classify_many([r["text"] for r in emo_rows])
    pred = ["yes" if r.emotional else "no" for r in emo_routes]
    rules = ["yes" if (c := emotion_cues(r["text"])).score >= 1.0 and c.label else "no" for r in emo_rows]
    report["goemotions_test"] = {
        "split": f"GoEmotions test split ({len(emo_rows)} Reddit comments, seed {emo_split['seed']}; "
        "emotional = anger/annoyance/disgust/disappointment/sadness/fear/nervousness)",
        "router": _prf(gold, pred, "yes"),
        "rules_only": _prf(gold, rules, "yes"),
        "flag_rate": round(pred.count("yes") / len(pred), 4),
        "base_rate": round(gold.count("yes") / len(gold), 4),
    }

    # CLINC150 test split: where out-of-shop messages go
    clinc = [r for r in load_clinc(data_dir) if r["split"] in ("test", "oos_test")]
    seen = set(meta.get("clinc_training_domains", []))
    clinc_routes = guard.classify_many([r["text"] for r in clinc])
    lanes = [lane_for(r, policy).value for r in clinc_routes]
    groups: dict[str, list[str]] = {}
    for r, lane in zip(clinc, lanes, strict=True):
        groups.setdefault(r["domain"], []).append(lane)

    def shares(values: list[str]) -> dict[str, float]:
        c = Counter(values)
        return {lane.value: round(c.get(lane.value, 0) / len(values), 4) for lane in Lane}

    report["clinc150_test"] = {
        "split": "CLINC150 test + oos_test (5,500 rows). Domains marked seen had their *train* split "
        "used as `other` examples; unseen domains never reached training.",
        "all": shares(lanes),
        "per_domain": {d: {"seen_in_training": d in seen, "n": len(v), **shares(v)} for d, v in sorted(groups.items())},
    }

    # Author-written check sets (smoke checks, see above)
    def check_lanes(table: list[tuple[str, str]]) -> dict[str, Any]:
        routes = guard.classify_many([t for t, _ in table])
        pred = [lane_for(r, policy) for r in routes]
        return {
            **{k: v for k, v in lane_report([Lane(x) for _, x in table], pred).items() if k != "per_lane"},
            "misses": [
                {"text": t, "want": want, "got": got.value, "topic": r.topic.value}
                for (t, want), got, r in zip(table, pred, routes, strict=True)
                if got.value != want
            ],
        }

    emo_check = guard.classify_many([t for t, _ in CHECK_EMOTION])
    report["author_check_sets"] = {
        "note": "written by the developers, phrased independently of the training templates; small, and not "
        "a held-out distribution. `lanes_fresh` was never used for training, tuning or error analysis; "
        "`lanes_regression` was used for error analysis after the first model.",
        "lanes_fresh": check_lanes(CHECK_LANES_FRESH),
        "lanes_regression": check_lanes(CHECK_LANES),
        "emotion": {
            **_prf(
                ["yes" if e else "no" for _, e in CHECK_EMOTION],
                ["yes" if r.emotional else "no" for r in emo_check],
                "yes",
            ),
            "misses": [t for (t, e), r in zip(CHECK_EMOTION, emo_check, strict=True) if e != r.emotional],
        },
    }

    # Latency: one message at a time, as the pipeline calls it
    sample = [r["text"] for r in test_rows[:latency_sample]]
    for text in sample[:20]:
        guard.classify(text)
    times = []
    for text in sample:
        start = time.perf_counter()
        guard.classify(text)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    report["latency_ms"] = {
        "n": len(times),
        "p50": round(statistics.median(times), 3),
        "p95": round(times[int(0.95 * (len(times) - 1))], 3),
        "max": round(times[-1], 3),
    }
    return report


def main() -> None:
    print(json.dumps(evaluate_routing(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
