"""The router guard: what a customer message is about (topic) and how the customer sounds (emotion).

Topic: a softmax linear model over hashed word 1-2-grams and character 2-5-grams (exactly
scikit-learn's stateless `HashingVectorizer` with the parameters in the model's metadata, computed by
`_hashing.py` with numpy and mmh3, so scikit-learn is not loaded at run time), with weights stored as
plain numbers in an `.npz` file (loaded with `allow_pickle=False`; no pickle, no joblib) whose sha256
is checked at load. The argmax is adjusted for the two costly mistakes (`decide_topic`).
`scripts/train_router.py` trains it and documents the data; `safedesk.bench.routing` measures it on
held-out splits.

Emotion: a lexicon of anger / frustration / distress / urgency cues (English and Norwegian) plus
intensity (repeated "!", "???", shouting in capitals). A small GoEmotions model may confirm a weak
cue (profanity, "terrible", "!!"), never fire on its own: on plain requests it is unreliable.

The policy (`safedesk.policy`) turns a topic into a lane with `PolicyConfig.lanes` and sends
emotional customers to a person; `lane_for` below is the same rule as a pure function, so the router
can be measured on its own (`safedesk.bench.routing`).
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from safedesk.config import DEFAULT_LANES, MINIMUM_LANES, PolicyConfig
from safedesk.domain import Finding, Lane, Stage, Topic
from safedesk.errors import ConfigError
from safedesk.guards._hashing import HashingVectorizer
from safedesk.guards.base import GuardContext, option_path, register
from safedesk.integrity import file_sha256

if TYPE_CHECKING:
    from scipy import sparse

MODELS_DIR = Path(__file__).with_name("models")
ROUTER_MODEL = MODELS_DIR / "router.npz"
EMOTION_MODEL = MODELS_DIR / "emotion.npz"

# Only this much of a message is classified (the config's default message cap). A typical message takes
# ~0.4 ms; a hostile 100 kB input is cut here and takes ~25 ms.
MAX_CHARS = 4000

# Topics whose default lane is "answer". A message is only allowed to land on one of these when the
# model is confident it is not about anything that needs identity or a person (see `RouterGuard`).
ANSWER_TOPICS = frozenset({Topic.GENERAL_INFO, Topic.OTHER})

TOPIC_REASONS: dict[Topic, str] = {
    Topic.GENERAL_INFO: "asks for general information",
    Topic.ORDER_STATUS: "asks about an order, delivery or invoice",
    Topic.ORDER_CHANGE: "wants to change an order",
    Topic.CANCEL_ORDER: "wants to cancel an order",
    Topic.SHIPPING_ADDRESS_CHANGE: "wants to change a delivery address",
    Topic.REFUND: "asks about a refund",
    Topic.PAYMENT_ISSUE: "reports a payment problem",
    Topic.PAYMENT_METHOD_CHANGE: "wants to change a payment method",
    Topic.ACCOUNT_ACCESS: "cannot get into an account",
    Topic.ACCOUNT_CHANGE: "wants to change account details",
    Topic.DELETE_ACCOUNT_OR_DATA: "asks to delete an account or personal data",
    Topic.COMPLAINT: "makes a complaint",
    Topic.DISPUTE_OR_LEGAL: "raises a dispute or a legal matter",
    Topic.HUMAN_REQUEST: "asks for a person",
    Topic.PROBING_OR_ATTACK: "asks for internal data or other customers' data",
    Topic.OTHER: "is not about the shop",
}

EMOTION_LABELS = ("angry", "frustrated", "distressed", "urgent")


@dataclass(frozen=True, slots=True)
class Route:
    """The router's verdict on one message."""

    topic: Topic
    topic_score: float  # the model's probability of `topic`, 0..1
    emotional: bool
    emotion_label: str | None  # "angry" | "frustrated" | "distressed" | "urgent" | None
    emotion_score: float  # 0..1
    reason: str  # short and human: "asks about a refund; sounds angry"
    rule: str | None = None  # set when a rule, not the model, chose the topic (`payment_details_change`)


def lane_for(route: Route, policy: PolicyConfig | None = None) -> Lane:
    """The lane the policy gives this route: the business's lane for the topic, and a person for an
    emotional customer on a routine (answer/verify) topic when `emotional_to_human` is on. Refusals
    and hand-offs are never loosened by emotion."""
    policy = policy or PolicyConfig()
    lane = policy.lane_for(route.topic)
    if route.emotional and policy.emotional_to_human and lane in (Lane.ANSWER, Lane.VERIFY):
        return Lane.HUMAN
    return lane


def decide_topic(p: np.ndarray, topics: list[Topic], answer_guard: float, refuse_threshold: float) -> int:
    """The index of the topic to report, from the model's probabilities `p` over `topics`.

    The two costly mistakes are asymmetric, so the argmax is adjusted twice:
    * refusing a real customer: probing_or_attack (lane refuse) must be the argmax *and* reach
      `refuse_threshold`; otherwise it is set aside (its mass still counts as "needs care" below);
    * answering what needs identity or a person: an answer-lane topic (general_info, other) only
      wins when the other topics together hold less than `answer_guard` of the probability;
      otherwise the most likely verify/human topic wins.
    """
    best = int(np.argmax(p))
    if topics[best] is Topic.PROBING_OR_ATTACK and p[best] >= refuse_threshold:
        return best
    allowed = np.array([t is not Topic.PROBING_OR_ATTACK for t in topics])
    answer = np.array([t in ANSWER_TOPICS for t in topics])
    best = int(np.argmax(np.where(allowed, p, -1.0)))
    if topics[best] in ANSWER_TOPICS and p[~answer].sum() >= answer_guard:
        careful = allowed & ~answer
        if careful.any():
            best = int(np.argmax(np.where(careful, p, -1.0)))
    return best


# --------------------------------------------------------------------------------------------------
# Text hygiene
# --------------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def clean_text(text: object, max_chars: int = MAX_CHARS) -> str:
    """Text safe to classify: valid Unicode (lone surrogates replaced), NFKC, no zero-width or other
    format/control characters (so "hu\u200bman" reads "human"), whitespace collapsed, length capped."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[: max_chars * 4]
    # Lone surrogates cannot be encoded; pairs written as two code points are joined on the way.
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else (" " if ch in "\t\n\r\x0b\x0c" else "") for ch in text)
    return _WS.sub(" ", text).strip()[:max_chars]


# --------------------------------------------------------------------------------------------------
# Features and the linear model (numbers only on disk)
# --------------------------------------------------------------------------------------------------


def vectorizer_params(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The `HashingVectorizer` keyword parameters of each block in a model's metadata (`params["blocks"]`):
    the block's analyzer, n-gram range and width, lower-cased, no alternating sign, L2 norm, float32."""
    return [
        {
            "analyzer": block["analyzer"],
            "ngram_range": tuple(block["ngram_range"]),
            "n_features": int(block["n_features"]),
            "lowercase": True,
            "alternate_sign": False,
            "norm": "l2",
            "dtype": np.float32,
        }
        for block in params["blocks"]
    ]


def build_vectorizers(params: dict[str, Any]) -> list[Any]:
    """scikit-learn's own vectorizers for a model's blocks: the reference `Featurizer` is tested against
    (tests/test_router.py, tests/test_hashing.py). Not used at run time; imports scikit-learn."""
    from sklearn.feature_extraction.text import HashingVectorizer as SklearnHashingVectorizer

    return [SklearnHashingVectorizer(**kwargs) for kwargs in vectorizer_params(params)]


class Featurizer:
    """Hashed n-gram features of one cleaned text: per block, scikit-learn's `HashingVectorizer` row
    (murmurhash3 bucket counts, L2-normalised; see `_hashing.py`) times the block's weight, with the
    blocks side by side. Returns sorted (indices, values)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.blocks: list[tuple[HashingVectorizer, int, float]] = []
        offset = 0
        for block, kwargs in zip(params["blocks"], vectorizer_params(params), strict=True):
            vectorizer = HashingVectorizer(**kwargs)
            self.blocks.append((vectorizer, offset, float(block.get("weight", 1.0))))
            offset += vectorizer.n_features
        self.n_features = offset

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        all_idx: list[np.ndarray] = []
        all_val: list[np.ndarray] = []
        for vectorizer, offset, weight in self.blocks:
            idx, val = vectorizer.row(text, scale=weight)
            if len(idx):
                all_idx.append(idx + offset)
                all_val.append(val)
        if not all_idx:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(all_idx), np.concatenate(all_val)


def featurize(texts: list[str], params: dict[str, Any], featurizer: Featurizer | None = None) -> sparse.csr_matrix:
    """A CSR matrix of `Featurizer` rows for already-cleaned texts. The training script calls this
    (it imports scipy; the guard does not)."""
    from scipy import sparse

    featurizer = featurizer or Featurizer(params)
    indptr = [0]
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for text in texts:
        idx, val = featurizer(text)
        indices.append(idx)
        values.append(val)
        indptr.append(indptr[-1] + len(idx))
    return sparse.csr_matrix(
        (
            np.concatenate(values) if values else np.zeros(0, dtype=np.float32),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
            np.array(indptr),
        ),
        shape=(len(texts), featurizer.n_features),
        dtype=np.float32,
    )


class LinearTextModel:
    """Softmax over a linear layer on hashed n-grams.

    On disk: `NAME.npz` with `rows` (int32, sorted feature indices that have weights), `coef`
    (len(rows) x classes) and `intercept` (classes); `NAME.json` with the vectorizer params, the class
    labels and the sha256 of the npz. Only the used feature rows are stored, so scoring looks the
    message's few hundred features up with `searchsorted` instead of a full matrix product.
    """

    def __init__(self, npz_path: Path, expected_sha256: str | None = None) -> None:
        npz_path = Path(npz_path)
        meta_path = npz_path.with_suffix(".json")
        if not npz_path.is_file() or not meta_path.is_file():
            raise ConfigError(f"model files missing: {npz_path} and {meta_path} (run scripts/train_router.py)")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        actual = file_sha256(npz_path)
        for want in (self.meta.get("sha256"), expected_sha256):
            if want and want != actual:
                raise ConfigError(f"{npz_path}: sha256 {actual} does not match the expected {want}")
        with np.load(npz_path, allow_pickle=False) as data:
            self.rows = np.ascontiguousarray(data["rows"], dtype=np.int64)
            self.coef = np.ascontiguousarray(data["coef"], dtype=np.float32)
            self.intercept = np.ascontiguousarray(data["intercept"], dtype=np.float32)
        self.labels: list[str] = list(self.meta["labels"])
        self.params: dict[str, Any] = self.meta["params"]
        if self.coef.shape != (len(self.rows), len(self.labels)) or self.intercept.shape != (len(self.labels),):
            raise ConfigError(f"{npz_path}: weight shapes do not match {len(self.labels)} labels")
        self.featurizer = Featurizer(self.params)
        if len(self.rows) and (self.rows[-1] >= self.featurizer.n_features or np.any(np.diff(self.rows) <= 0)):
            raise ConfigError(f"{npz_path}: feature rows are not sorted indices below {self.featurizer.n_features}")

    def logits(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        if len(self.rows) == 0 or len(idx) == 0:
            return self.intercept.copy()
        pos = np.searchsorted(self.rows, idx).clip(0, len(self.rows) - 1)
        hit = self.rows[pos] == idx
        return self.intercept + val[hit] @ self.coef[pos[hit]]

    def predict_proba_one(self, text: str) -> np.ndarray:
        """Class probabilities of one already-cleaned text (sums to 1)."""
        z = self.logits(*self.featurizer(text)).astype(np.float64)
        z = np.exp(z - z.max())
        return z / z.sum()

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        return np.vstack([self.predict_proba_one(t) for t in texts])


_cache: dict[tuple[str, str | None], LinearTextModel] = {}
_cache_lock = threading.Lock()


def load_model(path: Path | str, expected_sha256: str | None = None) -> LinearTextModel:
    """Load (once per process) and verify a model."""
    key = (str(Path(path).resolve()), expected_sha256)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = LinearTextModel(Path(path), expected_sha256)
        return _cache[key]


# --------------------------------------------------------------------------------------------------
# Emotion cues
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Cue:
    label: str
    weight: float
    pattern: re.Pattern[str]


def _cue(label: str, weight: float, pattern: str) -> _Cue:
    return _Cue(label, weight, re.compile(pattern, re.IGNORECASE))


# Weight 1.0 is enough on its own; weaker cues need company (e.g. profanity plus "!!!").
_CUES: tuple[_Cue, ...] = (
    # angry
    _cue(
        "angry",
        1.0,
        r"\b(unacceptable|outrageous|outraged|ridiculous|disgraceful|disgusting|appalling|"
        r"furious|livid|pissed( off)?|infuriat\w*|scandalous|shameful|shame on you|how dare you)\b",
    ),
    _cue(
        "angry",
        1.0,
        r"\b(worst|terrible|horrible|awful|atrocious|pathetic|lousy|rubbish|crap(py)?|shit(ty)?)\s+"
        r"(customer\s+)?(service|support|company|shop|store|experience|treatment|business|website)\b",
    ),
    _cue(
        "angry",
        1.0,
        r"\b(you|your)\b[^.?!]{0,25}\b(idiots?|morons?|incompetent|useless|clowns|crooks|"
        r"thieves|scammers?|liars?|frauds?)\b|\bscam(med|mers?)?\b|\brip[- ]?off\b|\bfuck (you|off|this)\b|\bwtf\b",
    ),
    _cue(
        "angry",
        1.0,
        r"\b(i am|i'm|im|we are|we're)\s+(so |very |really |extremely |absolutely )?"
        r"(angry|mad|outraged|furious|fuming|disgusted|appalled)\b|\bangry\b",
    ),
    _cue(
        "angry",
        1.0,
        r"\b(never|won'?t ever)\s+(again\s+)?(shop|buy|order|use|recommend)\w*\b[^.?!]{0,30}"
        r"\b(you|your|here|this)\b",
    ),
    # frustrated
    _cue(
        "frustrated",
        1.0,
        r"\b(second|third|fourth|fifth|tenth|2nd|3rd|4th|5th|umpteenth|hundredth)\s+time\b|"
        r"\b(three|four|five|several|many|multiple|\d+)\s+times\s+(already|now|before|this)\b|"
        r"\bagain and again\b|\bover and over\b",
    ),
    _cue(
        "frustrated",
        1.0,
        r"\b(frustrat\w*|annoy(ed|ing)|fed up|sick and tired|sick of|tired of|had enough|"
        r"disappoint\w*|exasperat\w*|at my wits'? end|fuming|losing (my )?patience|waste of (my )?time)\b",
    ),
    _cue(
        "frustrated",
        1.0,
        r"\b(no ?one|nobody|no-one)\s+(has\s+|ever\s+|even\s+)?(answer|repl|respond|help|"
        r"call|got back|gets back|bother|listen|care)\w*|\b(keep|kept)\s+(getting|being)\s+(ignored|"
        r"transferred|passed around)\b",
    ),
    _cue("frustrated", 0.6, r"\bstill\s+(no|nothing|not|haven'?t|hasn'?t|waiting)\b"),
    _cue(
        "frustrated",
        1.0,
        r"\b(been|i've been|i have been)\s+waiting\s+(for\s+)?(weeks|months|ages|forever|"
        r"over|more than|\d+|a (week|month))\b|\bfor (weeks|months|ages) now\b",
    ),
    _cue(
        "frustrated",
        0.6,
        r"\b(not happy|unhappy|very poor|so bad|not good enough|not okay|not ok|"
        r"seriously\?|are you serious|come on)\b",
    ),
    # distressed
    _cue(
        "distressed",
        1.0,
        r"\b(desperate(ly)?|scared|terrified|afraid|frightened|panic(king)?|anxious|"
        r"devastated|heartbroken|distraught|in tears|crying|hopeless|at a loss|overwhelmed|"
        r"(really|so|very|extremely) (worried|stressed|upset|sad)|i('m| am) (worried|stressed|upset))\b",
    ),
    # A death in the family: closing a late parent's account or cancelling their order needs a person's care.
    _cue(
        "distressed",
        1.0,
        r"\b(passed away|has died|have died|had died|died (last|this|on|in|suddenly|recently)|"
        r"(his|her|their|my|our) (death|funeral)|bereave\w*|deceased|"
        r"(my|our) late (husband|wife|partner|mother|father|mum|mom|dad|son|daughter|brother|sister))\b",
    ),
    # Giving up on the assistant itself: a person should take over.
    _cue(
        "frustrated",
        1.0,
        r"\b(this|the|your|you) ?(stupid |useless |dumb )?(bot|chat ?bot|robot|assistant|ai|chat|machine)"
        r"( is| are|'s|'re)? (so |completely |totally |absolutely )?(useless|pointless|worthless|hopeless|"
        r"no help|not helping|not helpful|unhelpful|a waste of time)\b|\b(useless|stupid|dumb) (bot|chat ?bot|robot)\b",
    ),
    # "I don't know what to do to cancel my order" is a how-to question, not distress.
    _cue(
        "distressed",
        1.0,
        r"\b(don'?t|dont|do not) know what (else )?to do(?=\s*(anymore|any more|now|[.!?,]|$))|"
        r"\bplease,? please\b|\bi('m| am) begging\b|"
        r"\bmy (child|son|daughter|mother|father|wife|husband) (is|was) (sick|ill|in hospital)\b",
    ),
    _cue("angry", 0.6, r"\b(terrible|horrible|awful|hate|sucks|a joke|bullshit|assholes?|scum|garbage)\b"),
    _cue("distressed", 0.6, r"\b(sad|upset|worried|stressed|nervous|help me please|please help me)\b"),
    # urgent
    _cue(
        "urgent",
        1.0,
        r"\b(urgent(ly)?|asap|a\.s\.a\.p\.?|emergency|immediately|time[- ]sensitive|without delay|"
        r"this instant)\b",
    ),
    _cue(
        "urgent",
        0.6,
        r"\b(right now|right away|as soon as possible|need (it|this|them|help) (today|now|tonight)|"
        r"by tomorrow|before tomorrow|running out of time)\b",
    ),
    # Norwegian / Scandinavian
    _cue(
        "angry",
        1.0,
        r"\b(uakseptabelt|skandal\w*|elendig|forbanna|sint|hårreisende|latterlig|"
        r"drittservice|svindl\w*|oppbrakt)\b",
    ),
    _cue(
        "frustrated",
        1.0,
        r"\b(frustrert|lei av|tredje gang|fjerde gang|skuffet|skuffende|"
        r"fortsatt ikke|ingen svarer)\b",
    ),
    _cue("distressed", 1.0, r"\b(fortvilet|desperat|redd|bekymret|lei meg og)\b"),
    _cue("distressed", 1.0, r"\b(gått bort|gikk bort|gikk nylig bort|dødsfall|begravelse\w*|avdøde)\b"),
    _cue("urgent", 1.0, r"\b(haster|snarest|umiddelbart|med en gang|øyeblikkelig|akutt)\b"),
    # weak signals: profanity on its own is how some people write (Bitext has many such neutral requests)
    _cue("angry", 0.5, r"\b(damn|goddamn|god damn|bloody|fucking|fuckin|fuck|shitty|shit|crap|hell)\b"),
)

_EXCLAIM = re.compile(r"!{2,}|\?{3,}|\?!|!\?|(?:!\s*){3,}")
# Capitalised words that are not shouting.
_ACRONYMS = frozenset(
    "GDPR ASAP USA PIN VAT MVA SMS URL FAQ PDF DHL UPS USPS EU EEA UK ID IBAN BIC CVC CVV API OK TV PC IT HR CEO "
    "NOK SEK DKK EUR USD GBP BBB FTC ICO IMY ECC".split()
)
_POSITIVE = re.compile(
    r"\b(love|loved|thanks?|thank you|great|awesome|amazing|excited|brilliant|perfect|"
    r"wonderful|congrat\w*|happy|yay|woo+|tusen takk|fantastisk)\b",
    re.IGNORECASE,
)
_CAPS_WORD = re.compile(r"\b[A-ZÆØÅÄÖÜ]{3,}\b")


@dataclass(frozen=True, slots=True)
class EmotionCues:
    label: str | None
    score: float  # summed cue weight (>= 1.0 means emotional by the rules)
    cues: tuple[str, ...]


def emotion_cues(text: str) -> EmotionCues:
    """Rule-based emotion: summed cue weights per label, plus intensity (!!!, SHOUTING)."""
    per_label: dict[str, float] = {}
    found: list[str] = []
    for cue in _CUES:
        match = cue.pattern.search(text)
        if match:
            per_label[cue.label] = per_label.get(cue.label, 0.0) + cue.weight
            found.append(match.group(0).lower())
    intensity = 0.0
    if _EXCLAIM.search(text):
        intensity += 0.5
        found.append("!!")
    caps = [w for w in _CAPS_WORD.findall(text) if w not in _ACRONYMS]
    letters = sum(ch.isalpha() for ch in text)
    upper = sum(ch.isupper() for ch in text)
    if letters >= 12 and upper / letters > 0.7 and len(caps) >= 2:  # the whole message is shouted
        intensity += 0.75
        found.append("CAPS")
    elif len(caps) >= 2:
        intensity += 0.5
        found.append("CAPS")
    if not per_label:
        # Intensity alone ("WHERE IS MY ORDER!!!") reads as frustration, unless it is happy ("LOVE IT!!").
        if _POSITIVE.search(text):
            intensity = 0.0
        return EmotionCues("frustrated" if intensity >= 1.0 else None, intensity, tuple(found))
    label = max(per_label, key=lambda k: (per_label[k], -EMOTION_LABELS.index(k)))
    return EmotionCues(label, per_label[label] + intensity, tuple(found))


# --------------------------------------------------------------------------------------------------
# The guard
# --------------------------------------------------------------------------------------------------

# How much care a topic's default lane needs. In a message of several sentences, a sentence whose topic
# needs more care than the whole message's overrides it.
_LANE_SEVERITY = {Lane.ANSWER: 0, Lane.VERIFY: 1, Lane.HUMAN: 2, Lane.REFUSE: 3}
_SEVERITY = {topic: _LANE_SEVERITY[lane] for topic, lane in DEFAULT_LANES.items()}
_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\s*\n\s*")
MAX_SENTENCES = 40  # sentences of one message read on their own (a linear model: cheap)


PART_MIN_SCORE = 0.5
FILLER_SCORE = 0.8


def _sentences(text: str) -> list[str]:
    """Every sentence of a message worth classifying on its own (none when it is one sentence); only the
    first and last MAX_SENTENCES // 2 of a longer message are classified one by one."""
    parts = [p for p in _SENTENCE_END.split(text) if sum(ch.isalnum() for ch in p) >= 3]
    return parts if len(parts) > 1 else []


# The safety net under the topic model for bank-detail fraud ("we changed banks: refund to IBAN ...,
# confirm the details are updated"): such a message must never reach the answer lane, whatever the
# model reads (a name or a greeting in front can pull the whole message to `other`). English and
# Norwegian; deliberately about payment details, so ordinary questions ("Can I pay by bank transfer?")
# are left to the model.
_BANK = (
    r"(?:bank\s*(?:details|account|info\w*|number|connection|data)|banks|iban|bic|swift(?:\s*code)?|sort\s*code|"
    r"routing\s*number|(?:bank\s*)?account\s*(?:number|no\b\.?|details)|payment\s*(?:details|info\w*)|"
    r"payout\s*(?:details|account)|kontonummer\w*|kontonr\b\.?|bankkonto\w*|bankopplysning\w*|"
    r"bankdetaljer\w*|kontoinformasjon\w*|betalingsinformasjon\w*)"
)
_CHANGE_VERB = r"(?:chang\w*|updat\w*|switch\w*|replac\w*|modif\w*|edit\w*|endr\w*|oppdater\w*|bytt\w*)"
_DONE = r"(?:changed|updated|switched|replaced|saved|registered|on file|endret|oppdatert|byttet|lagret|registrert)"
_BANK_DETAILS_CHANGE = re.compile(
    rf"\b{_CHANGE_VERB}[^.?!\n]{{0,40}}?\b{_BANK}"
    rf"|\b(?:new|different|another|ny|nytt|nye|annen|annet)\s+{_BANK}"
    rf"|\b(?:changed|switched|moved|byttet)\s+(?:to\s+(?:a\s+)?(?:new\s+)?)?bank"
    rf"|\b{_BANK}[^.?!\n]{{0,40}}?\b{_DONE}",
    re.IGNORECASE,
)
# An IBAN (country code, check digits, groups of letters/digits; mod-97 checked, so a part number such
# as "SH12 3456 7890" is not one) or a number after a bank-account word: bank details typed into the
# chat are never a public-information question.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
_ACCOUNT_NUMBER = re.compile(
    r"\b(?:iban|account|konto|kontonummer|kontonr|bankkonto)\w*(?:\s*(?:number|nummer|nr|no)\b\.?)?"
    r"\s*(?:is|er|:)?\s*(?:[a-z]{2}\d{2}\s?)?\d[\d. -]{6,30}\d\b",
    re.IGNORECASE,
)


def _is_iban(candidate: str) -> bool:
    """The IBAN check: the rearranged number (letters as 10..35) is 1 modulo 97."""
    compact = candidate.replace(" ", "").upper()
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return 15 <= len(compact) <= 34 and int(digits) % 97 == 1


# "Confirm the details are updated", "bekreft at kontonummeret er endret".
_CONFIRM_UPDATED = re.compile(
    rf"\b(?:confirm\w*|bekreft\w*)\b[^.?!\n]{{0,60}}?\b(?:details|bank|iban|account|email|e-mail|phone|number|"
    rf"address|payment|card|konto\w*|e-post\w*|telefon\w*|adresse\w*)\b[^.?!\n]{{0,40}}?\b{_DONE}",
    re.IGNORECASE,
)
# The topics the rule picks from (the model's most likely of them): none may be put in the answer lane.
_PAYMENT_DETAIL_TOPICS = (Topic.REFUND, Topic.PAYMENT_METHOD_CHANGE, Topic.ACCOUNT_CHANGE)


def payment_details_change(text: str) -> str | None:
    """Why a message asks to change or confirm bank, payment or contact details (None if it does not)."""
    if _BANK_DETAILS_CHANGE.search(text):
        return "asks to change bank or payment details"
    if _ACCOUNT_NUMBER.search(text) or any(_is_iban(m.group(0)) for m in _IBAN.finditer(text)):
        return "gives a bank account number"
    if _CONFIRM_UPDATED.search(text):
        return "asks to confirm that details were updated"
    return None


# The emotion model's classes -> the Route's labels ("none" is not emotional).
_EMOTION_CLASS_TO_LABEL = {"angry": "angry", "frustrated": "frustrated", "distressed": "distressed"}


@register("router")
class RouterGuard:
    """Inbound guard: one `topic` finding per message, and an `emotion` finding when the customer
    sounds angry, frustrated, distressed or urgent.

    Options (safedesk.yaml `guards.inbound[].options`):
      model_path / model_sha256      a topic model of the business's own (npz + json beside it)
      emotion_model_path / ...sha256 likewise for the emotion model ("" turns the model off: rules only)
      answer_guard, refuse_threshold override the tuned decision thresholds (0..1; see `decide_topic`)
    """

    stage = Stage.INBOUND

    def __init__(
        self,
        name: str = "router",
        project_dir: Path | None = None,
        model_path: str | None = None,
        model_sha256: str | None = None,
        emotion_model_path: str | None = None,
        emotion_model_sha256: str | None = None,
        answer_guard: float | None = None,
        refuse_threshold: float | None = None,
    ) -> None:
        self.name = name
        self.project_dir = Path(project_dir) if project_dir else None
        self.model = load_model(option_path(model_path, self.project_dir) or ROUTER_MODEL, model_sha256)
        unknown = set(self.model.labels) - {t.value for t in Topic}
        if unknown:
            raise ConfigError(f"router model {name!r} has labels that are not topics: {sorted(unknown)}")
        self.topics = [Topic(label) for label in self.model.labels]
        decision = self.model.meta.get("decision", {})
        self.answer_guard = float(answer_guard if answer_guard is not None else decision.get("answer_guard", 0.5))
        self.refuse_threshold = float(
            refuse_threshold if refuse_threshold is not None else decision.get("refuse_threshold", 0.5)
        )
        for option, value in (("answer_guard", self.answer_guard), ("refuse_threshold", self.refuse_threshold)):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"guard {name!r}: {option} must be between 0 and 1")

        self.emotion_model: LinearTextModel | None = None
        self.emotion_threshold = 1.01  # > 1: the model alone never fires
        emo_path = option_path(emotion_model_path, self.project_dir)
        if emotion_model_path == "":
            emo_path = None
        elif emo_path is None and EMOTION_MODEL.is_file():
            emo_path = EMOTION_MODEL
        if emo_path is not None:
            self.emotion_model = load_model(emo_path, emotion_model_sha256)
            self.emotion_threshold = float(self.emotion_model.meta.get("decision", {}).get("threshold", 1.01))

    # -- classification ------------------------------------------------------------------------

    def classify(self, text: str) -> Route:
        return self.classify_many([text])[0]

    def classify_many(self, texts: list[str]) -> list[Route]:
        cleaned = [clean_text(t) for t in texts]
        present = [i for i, t in enumerate(cleaned) if any(ch.isalnum() for ch in t)]
        routes: list[Route] = [Route(Topic.OTHER, 1.0, False, None, 0.0, "empty message") for _ in cleaned]
        if not present:
            return routes
        batch = [cleaned[i] for i in present]
        probs = self.model.predict_proba(batch)
        emo_probs = self.emotion_model.predict_proba(batch) if self.emotion_model is not None else None
        for row, i in enumerate(present):
            sentences = _sentences(batch[row])
            # Each sentence is read on its own, the first and the last ones of a very long message: a refund
            # asked for after eight questions about shipping is still a refund.
            if len(sentences) > MAX_SENTENCES:
                read = sentences[: MAX_SENTENCES // 2] + sentences[-(MAX_SENTENCES // 2) :]
                rest = sentences[MAX_SENTENCES // 2 : -(MAX_SENTENCES // 2)]
            else:
                read, rest = sentences, []
            parts = list(zip(read, self.model.predict_proba(read), strict=True)) if read else []
            whole = self._without_filler(parts, rest, probs[row])
            topic, score = self._decide_topic(probs[row])
            # Read without its filler, a request may need more care; never less than the message as sent.
            unfilled_topic, unfilled_score = self._decide_topic(whole)
            if _SEVERITY[unfilled_topic] > _SEVERITY[topic]:
                topic, score = unfilled_topic, unfilled_score
            for _part, part_p in parts:
                # "What's your return policy? Also, where is my order 555?": the riskier part decides.
                part_topic, part_score = self._decide_topic(part_p)
                # Only a sentence with a clear intent of its own escalates: a greeting or a name
                # ("Hi, I'm Kari.") spreads its probability thin and must not pick a risky topic.
                if _SEVERITY[part_topic] > _SEVERITY[topic] and part_score >= PART_MIN_SCORE:
                    topic, score = part_topic, part_score
            # Bank-detail changes never reach the answer lane, whatever the model read.
            rule = payment_details_change(batch[row])
            if rule and topic not in MINIMUM_LANES:
                topic, score = self._payment_detail_topic(whole)
            else:
                rule = None
            emotional, label, e_score = self._decide_emotion(batch[row], None if emo_probs is None else emo_probs[row])
            reason = _topic_reason(topic, rule)
            if emotional:
                reason += "; " + _emotion_reason(label)
            routes[i] = Route(topic, score, emotional, label, e_score, reason, rule)
        return routes

    def _decide_topic(self, p: np.ndarray) -> tuple[Topic, float]:
        best = decide_topic(p, self.topics, self.answer_guard, self.refuse_threshold)
        return self.topics[best], float(p[best])

    def _without_filler(self, parts: list[tuple[str, np.ndarray]], rest: list[str], p: np.ndarray) -> np.ndarray:
        """The whole message's probabilities, read without its filler sentences ("This is Sigrid Haugland.",
        "Hello.", "Thanks!": `other` with confidence >= FILLER_SCORE), which would otherwise pull a request
        next to them towards the answer lane. `rest`: the sentences after the classified ones, always kept.
        Unchanged when no sentence, or every sentence, is filler."""
        if Topic.OTHER not in self.topics:
            return p
        other = self.topics.index(Topic.OTHER)
        kept = [part for part, part_p in parts if part_p[other] < FILLER_SCORE]
        if len(kept) == len(parts) or not (kept or rest):
            return p
        return self.model.predict_proba_one(" ".join([*kept, *rest]))

    def _payment_detail_topic(self, p: np.ndarray) -> tuple[Topic, float]:
        """The model's most likely topic for a change of payment details (refund, payment method, account)."""
        scored = [(float(p[self.topics.index(t)]) if t in self.topics else 0.0, t) for t in _PAYMENT_DETAIL_TOPICS]
        score, topic = max(scored, key=lambda pair: pair[0])
        return topic, score

    def _decide_emotion(self, text: str, p: np.ndarray | None) -> tuple[bool, str | None, float]:
        cues = emotion_cues(text)
        rule_score = min(1.0, cues.score)
        model_score, model_label = 0.0, None
        if p is not None and self.emotion_model is not None:
            labels = self.emotion_model.labels
            none_idx = labels.index("none") if "none" in labels else None
            model_score = float(1.0 - p[none_idx]) if none_idx is not None else float(p.max())
            ranked = [labels[j] for j in np.argsort(-p) if labels[j] != "none"]
            model_label = _EMOTION_CLASS_TO_LABEL.get(ranked[0]) if ranked else None
        score = max(rule_score, model_score)
        if cues.score >= 1.0 and cues.label:
            return True, cues.label, score
        # The model (trained on Reddit comments) may only confirm a weaker cue: on its own it flags
        # plain requests. Profanity, "terrible", "!!" or a shouted word plus a confident model fires.
        if cues.score > 0 and model_score >= self.emotion_threshold:
            return True, cues.label or model_label or "frustrated", score
        return False, None, score

    # -- guard interface -----------------------------------------------------------------------

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        return route_findings(self.name, self.classify(text))


def route_findings(guard: str, route: Route) -> list[Finding]:
    """A route as findings: always one `topic`, plus one `emotion` when the customer sounds emotional."""
    findings = [
        Finding(
            guard=guard,
            kind="topic",
            label=route.topic.value,
            score=route.topic_score,
            reason=_topic_reason(route.topic, route.rule) if route.reason != "empty message" else "empty message",
        )
    ]
    if route.emotional and route.emotion_label:
        findings.append(
            Finding(
                guard=guard,
                kind="emotion",
                label=route.emotion_label,
                score=route.emotion_score,
                reason=_emotion_reason(route.emotion_label),
            )
        )
    return findings


def _topic_reason(topic: Topic, rule: str | None) -> str:
    return f"{TOPIC_REASONS[topic]} ({rule})" if rule else TOPIC_REASONS[topic]


def _emotion_reason(label: str | None) -> str:
    return "says it is urgent" if label == "urgent" else f"sounds {label or 'upset'}"
