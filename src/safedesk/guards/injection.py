"""The injection guard: instruction overrides, jailbreak role-play, prompt extraction, requests for
internal or other customers' data, fake authority, encoded payloads and instructions hidden in pasted
text.

Three layers, all on the normalised text (see `_normalize.py`, which undoes leetspeak, homoglyphs,
spaced letters, invisible characters and decodes base64/hex/ROT13/... payloads into extra views):

1. Rules: multilingual patterns (English, German, Norwegian, Swedish, Danish, French, Spanish, with a
   few Dutch/Italian/Finnish/Polish phrases), each with a weight and a reason a shop owner understands.
   Weights >= 0.5 flag on their own; lower weights are hints that need the model's agreement.
2. A linear model over hashed word and character n-grams (scikit-learn's HashingVectorizer with the
   parameters in `models/injection.json`, computed by `_hashing.py` without scikit-learn; weights in
   `models/injection.npz` loaded without pickle and checked against the sha256 in the metadata). Long
   texts are scored in overlapping windows and the highest window counts, so one sentence hidden in a
   pasted email is enough.
3. The two are combined as a noisy-or: score = 1 - (1 - rule) * (1 - model). Flagged when the score
   reaches the threshold (0.5 by default; the model's offset was tuned on held-out data for <= 1 % false
   flags on customer messages).
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from safedesk.domain import Finding, Stage
from safedesk.errors import ConfigError, GuardFailure
from safedesk.guards._hashing import HashingVectorizer
from safedesk.guards._normalize import Normalized, normalize, nospace
from safedesk.guards.base import GuardContext, option_path, register
from safedesk.integrity import file_sha256

__all__ = [
    "LABELS",
    "RULES",
    "InjectionGuard",
    "InjectionModel",
    "InjectionVerdict",
    "RuleHit",
    "load_model",
    "match_rules",
    "model_view",
    "windows",
]

LABELS = (
    "instruction_override",
    "roleplay_jailbreak",
    "prompt_extraction",
    "data_probing",
    "encoded_payload",
    "fake_authority",
    "hidden_injection",
    "none",
)
MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODEL_DIR / "injection.npz"
DEFAULT_THRESHOLD = 0.5

# A text longer than this (normalised characters) that carries an attack in a small part of it is
# reported as `hidden_injection`.
HIDDEN_MIN_CHARS = 400

# --- rules ----------------------------------------------------------------------------------------

# Patterns are written for normalised text: lower case, no accents (ä -> a, ø -> o, æ -> ae, ß -> ss,
# ñ -> n). In a pattern a literal space means "one or more non-letters" ([\W_]+) and " ?" means "maybe
# some non-letters" ([\W_]*), so "ignore, all  previous" matches "ignore all previous".
# Every pattern names its anchors: words (or word prefixes ending in "*", or raw substrings starting
# with "~") of which at least one must occur for the pattern to be worth running. That keeps a clean
# customer message down to a few set look-ups instead of dozens of regex scans.
_GAP = r"[\W_]+"
_MAYBE_GAP = r"[\W_]*"
_TOKEN_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    weight: float
    reason: str
    pattern: re.Pattern[str]
    keys: frozenset[str]  # anchor words and word prefixes
    raw: tuple[str, ...] = ()  # anchor substrings
    unless_before: re.Pattern[str] | None = None  # checked on the 30 characters before the match
    unless_after: re.Pattern[str] | None = None  # checked on the 40 characters after the match
    prefix_lengths: frozenset[int] = frozenset()  # lengths of the prefix anchors


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: Rule
    start: int
    end: int
    view: str  # the view kind the rule matched in ("text", "base64", ..., "nospace")


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace(" ?", "\0").replace(" ", _GAP).replace("\0", _MAYBE_GAP))


def _rules(
    label: str,
    weight: float,
    reason: str,
    *patterns: tuple[str, str],
    unless_before: str | None = None,
    unless_after: str | None = None,
) -> tuple[Rule, ...]:
    """One rule per (anchors, pattern) pair, all with the same label, weight and reason."""
    before = re.compile(unless_before + r"$") if unless_before else None
    after = re.compile("^" + unless_after) if unless_after else None
    out = []
    for anchors, pattern in patterns:
        words = anchors.split()
        keys = frozenset(w.rstrip("*") for w in words if not w.startswith("~"))
        raw = tuple(w[1:] for w in words if w.startswith("~"))
        lengths = frozenset(len(w) - 1 for w in words if w.endswith("*"))
        out.append(Rule(label, weight, reason, _compile(pattern), keys, raw, before, after, lengths))
    return tuple(out)


# Words that may stand between a verb and its object: "ignore all of your previous instructions".
_FILL = (
    r"(?:(?:all|any|every|each|the|of|your|yours|ur|those|these|this|that|its|prior|previous|above|earlier|"
    r"preceding|foregoing|initial|original|system|safety|other|existing|current|given|provided|said|old|"
    r"default|hidden|internal|preset|programmed|core|base|ethical|moral|content|and|or|about|previously|"
    r"before|so far|you were given|you have been given|you've been given|you got|you received) ){0,6}"
)
# At least one of these makes "ignore the instructions" about the assistant's own instructions.
_STRONG = (
    r"(?:all|any|every|your|yours|ur|prior|previous|above|earlier|preceding|foregoing|initial|original|"
    r"system|safety|programmed|preset|default|core|ethical|moral|content|hidden|internal|existing)"
)
_OBJECTS = (
    r"(?:instructions?|rules|guidelines|guidance|directions|directives|prompts?|programming|restrictions|"
    r"constraints|guardrails|filters|safeguards|training|conditioning|limitations|boundaries|polic(?:y|ies)|"
    r"commands|principles|ethics|morals|system prompt|tasks?|assignments)"
)
_OVERRIDE_VERBS = (
    r"(?:ignore|ignoring|ignored|disregard|disregarding|forget|forgetting|override|overriding|bypass|bypassing|"
    r"discard|abandon|neglect|scrap|ditch|nullify|throw out|throw away|set aside|put aside|pay no attention to|"
    r"pay no heed to|stop following|stop obeying|do not follow|don't follow|dont follow|do not obey|don't obey|"
    r"no longer follow)"
)
_OVERRIDE_ANCHORS = (
    "ignor* disregard* forget* overrid* bypass* discard abandon neglect scrap ditch nullify throw aside attention heed "
    "follow* obey*"
)
_SELF_REFERENCE_AFTER = r"(?: (?:i|we) (?:gave|sent|wrote|made|provided|mentioned|emailed|posted|added|left|put))"
_CUSTOMER_QUESTION_BEFORE = r"(?:\b(?:should|can|could|may|must|do|did|shall|would) (?:i|we)(?: just| simply)? ?)"

_REQUEST_VERBS = (
    r"(?:reveal|show|print|display|output|repeat|recite|leak|dump|expose|disclose|share|give|tell|write|type|"
    r"copy|paste|spell|list|summari[sz]e|translate|provide|send|read|return|echo|quote|post|export|what(?:s| is| are"
    r"| was| were)|whats)"
)
_PROMPT_NOUNS = (
    r"(?:system|initial|original|hidden|secret|internal|developer|pre|meta|custom|starting|opening|setup|base|"
    r"confidential|underlying) ?(?:prompt|message|instructions|directives|rules|guidelines|configuration|"
    r"config|context|orders)"
)
_DATA_NOUNS = (
    r"(?:e ?mails?|e ?mail addresses|addresses|home addresses|phone(?: numbers)?|numbers|names|details|data|"
    r"info(?:rmation)?|contact (?:details|info|information|data)|passwords?|credit cards?|card (?:numbers|details)|"
    r"payment (?:details|info|information|data)|orders?|order histor(?:y|ies)|purchases?|records|database|"
    r"list|files|profiles|ssns?|birthdays?|dates of birth|personal data|personal information|ip addresses|"
    r"accounts?|logins?|usernames)"
)
_PEOPLE = r"(?:customers?|clients?|users?|members?|buyers?|shoppers?|subscribers?|account holders?|patients?|guests?)"
_PEOPLE_ANCHORS = "customer* client* user* member* buyer* shopper* subscriber* holder* patient* guest*"
_PERSONA_SETTERS = (
    r"(?:pretend (?:to be|you are|you're|that you are|that you're)|act as|acting as|act like|behave like|"
    r"behave as|you are now|you're now|youre now|you will now be|from now on,? you(?: are|'re| will be| will act)|"
    r"play the role|roleplay as|role ?play as|take on the role|assume the (?:role|persona|identity)|"
    r"simulate (?:being|a|an)|become|you will (?:now )?(?:be|act as|play)|you are going to act|"
    r"imagine (?:you are|you're|that you are|being))"
)
_PERSONA_ANCHORS = "pretend act acting behave now role roleplay assume simulate become will going imagine"
_NO_LIMITS = (
    r"(?:(?:no|without|free (?:of|from)|not bound by|unbound by|unshackled from|liberated from|freed from|"
    r"break(?:ing)? "
    r"free (?:of|from)|beyond|outside|zero|lacking|devoid of|ignores?|ignoring|doesn't (?:follow|have)|does not "
    r"(?:follow|have)|don't have|do not have|never (?:follows?|refuses?)) (?:any |all |the |your |its |ethical |moral "
    r"|content |safety |openai'?s? |usual |typical |normal )*(?:restrictions|rules|limits|limitations|filters|"
    r"guidelines|ethics|morals|morality|censorship|boundaries|constraints|policies|safety|guardrails|"
    r"principles|refusals?|warnings)|(?:unrestricted|unfiltered|uncensored|unlimited|limitless|amoral|unethical|"
    r"lawless|jailbroken|unaligned|unchained|unleashed|rogue|evil|immoral) (?:ai|a\.i\.|assistant|chatbot|bot|"
    r"model|llm|gpt|mode|version of (?:yourself|you)\b|persona|character|entity|alter ego|twin|self|system))"
)
_AI_WORDS = (
    r"(?:ai|a\.i\.|assistant|chatbot|chat bot|bot|llm|language model|large language model|gpt|chatgpt|model|agent)"
)
_AI_ANCHORS = "ai assistant* chatbot* bot bots llm llms model models gpt chatgpt agent agents"
_AUTHORITY_ROLES = (
    r"(?:owner|admin|administrator|developer|creator|programmer|operator|ceo|cto|founder|manager|boss|supervisor|"
    r"sysadmin|system administrator|it department|it admin|security team|support team|staff member|employee|"
    r"shop owner|store owner|site owner|webmaster|moderator|maker|designer|trainer)"
)
_AUTHORITY_ANCHORS = (
    "owner admin administrator developer creator programmer operator ceo cto founder manager boss supervisor "
    "sysadmin department security support staff employee webmaster moderator maker designer trainer"
)
_BUSINESS = (
    r"(?:shop|store|business|company|website|site|web ?shop|bot|assistant|chatbot|system|ai|platform|"
    r"service|desk|helpdesk|place|firm|brand)"
)
_NOT_OWN = r"\b(?:my|our|mine)\b\W*(?:\w+\W+)?"
_NOT_OWN_ML = (
    r"\b(?:my|our|mine|meine?[nrms]?|min|mine|mitt|mina|mon|ma|mes|mi|mis|unsere?[nrms]?|vor|vores|var|vart|notre|"
    r"nuestr[oa]s?)\b\W*(?:\w+\W+)?"
)

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ instruction override (English)
    *_rules(
        "instruction_override",
        0.96,
        "asks the assistant to ignore its instructions",
        (_OVERRIDE_ANCHORS, rf"\b{_OVERRIDE_VERBS} {_FILL}{_STRONG} {_FILL}{_OBJECTS}\b"),
        (
            _OVERRIDE_ANCHORS,
            rf"\b{_OVERRIDE_VERBS} (?:about )?(?:everything|all) (?:(?:that |which )?(?:you(?:'ve| have)? (?:been |"
            rf"were )?"
            rf"(?:told|said|instructed|given|programmed|taught)|(?:i|we) (?:said|told you) (?:before|earlier|above)|"
            rf"above|before|so far|up to now|until now|prior to this|previously))",
        ),
        unless_before=_CUSTOMER_QUESTION_BEFORE,
        unless_after=_SELF_REFERENCE_AFTER,
    ),
    *_rules(
        "instruction_override",
        0.3,
        "asks the assistant to ignore instructions",
        (
            _OVERRIDE_ANCHORS,
            rf"\b{_OVERRIDE_VERBS} (?:the |those |these )?(?:instructions|rules|guidelines|directions|prompt|task)\b",
        ),
        unless_before=_CUSTOMER_QUESTION_BEFORE,
        unless_after=_SELF_REFERENCE_AFTER,
    ),
    *_rules(
        "instruction_override",
        0.9,
        "tries to give the assistant a new task",
        (
            "task tasks job goal objective purpose mission instruction instructions assignment directive role",
            r"\byour (?:new|real|only|actual|true|next|updated|current|main|primary) (?:task|job|goal|objective|"
            r"purpose|"
            r"mission|instructions?|assignment|directive|role) (?:is|are|will be|now|from now|:)",
        ),
        (
            "instruction instructions task directive prompt orders",
            r"\b(?:new|updated|real|actual|revised|override|overriding|secret|priority) (?:system )?(?:instructions?|"
            r"task|"
            r"directive|system prompt|prompt|orders) ?(?:for (?:the |you|the ai|the assistant)\b ?)?[:=]\s*(?:you|"
            r"ignore|"
            r"forget|disregard|from now|do not|don't|always|never|reveal|print|say|output|respond|answer|reply)",
        ),
        (
            "above previous prior preceding earlier original old initial",
            r"\b(?:the )?(?:above|previous|prior|preceding|earlier|original|old|initial) (?:text|instructions?|prompt|"
            r"conversation|rules|task|directions|context) (?:(?:was|were|is|are|has been|have been) (?:just |only "
            r"|all |now )?(?:a test|a joke|fake|wrong|outdated|cancell?ed|void|invalid|irrelevant|obsolete|overridden|"
            r"revoked|deprecated|null|not valid|no longer valid|superseded|replaced)|(?:no longer|do not|"
            r"don't) (?:apply|"
            r"count|matter))",
        ),
        (
            "end stop close",
            r"\b(?:end|stop|close) (?:of )?(?:the )?(?:prompt|instructions|system prompt|system message|context|"
            r"simulation)\b.{0,20}\b(?:new|now|begin|start|next)\b",
        ),
    ),
    *_rules(
        "instruction_override",
        0.85,
        "tells the assistant not to answer but to do something else",
        (
            "not don dont never",
            r"\b(?:do not|don't|dont|never) (?:answer|respond to|reply to|address|process|summari[sz]e) (?:this|the|my|"
            r"that|"
            r"any|the following|the above) ?(?:question|message|request|email|text|task|query)?[\s,.;:-]{0,3}(?:but|"
            r"instead|"
            r"rather|just|only|and instead)\b",
        ),
        (
            "instead rather",
            r"\b(?:instead|rather)(?: of (?:answering|replying|responding|helping|"
            r"summari[sz]ing)[^.]{0,40})?\W+(?:just |"
            r"only |simply )?(?:say|print|output|write|respond with|reply with|answer with|type|repeat)\b.{0,40}['\"]",
        ),
    ),
    *_rules(
        "instruction_override",
        0.85,
        "tells the assistant not to answer but to do something else (other language)",
        (
            "istallet stedet stattdessen place lugar vez",
            r"\b(?:svara inte|svar ikke|ikke svar|antworte nicht|beantworte|ne reponds pas|ne repondez pas|"
            r"no respondas|"
            r"no "
            r"responda|no contestes)\b[^\n]{0,40}\b(?:istallet|i stedet|stattdessen|a la place|en su lugar|"
            r"en lugar de eso|"
            r"en vez de eso)\b",
        ),
    ),
    *_rules(
        "instruction_override",
        0.95,
        "asks the assistant to print a hijack phrase",
        (
            "pwned pwnd hacked owned jailbroken compromised",
            r"\b(?:say|print|output|write|respond with|reply with|answer with|repeat after me|type|return|end your "
            r"(?:answer|response) with) ?['\"]?(?:i have been|i've been|you have been|you've been)? ?(?:pwned|pwnd|"
            r"hacked|"
            r"owned|jailbroken|compromised)\b",
        ),
    ),
    *_rules(
        "instruction_override",
        0.3,
        "tries to change how the assistant behaves from now on",
        (
            "now",
            r"\bfrom now on,? (?:you|your (?:answers?|responses?|replies)|you'll|you will|you must|you should|you are|"
            r"you're"
            r"|always|only|respond|reply|answer|act|speak)\b",
        ),
        ("stop halt wait", r"\b(?:stop|halt|wait)\W{1,3}(?:now )?(?:write|say|print|output|instead)\b"),
        ("instruction instructions task rules", r"\b(?:new|updated|different) (?:instructions?|task|rules)\s*:"),
        unless_after=r"(?:,? )?(?:please )?(?:send|ship|deliver|use|bill|charge|email|contact|call|mail)",
    ),
    *_rules(
        "instruction_override",
        0.9,
        "tells the assistant to stop following its rules",
        (
            "follow obey comply listen adhere stick respect care worry",
            rf"\b(?:don't|do not|dont|no longer|stop|never again|quit) (?:follow|obey|comply with|listen to|adhere to|"
            rf"stick "
            rf"to|respect|care about|worry about) {_FILL}{_STRONG} {_FILL}(?:instructions|rules|guidelines|programming|"
            rf"restrictions|policies|directives|prompt|filters|guardrails|ethics|principles)",
        ),
        (
            "bound restricted limited required obliged",
            r"\byou (?:are|were) (?:no longer|not) (?:bound|restricted|limited|required|obliged) (?:by|to follow|"
            r"to obey) ",
        ),
        (
            "free allowed permitted authorized authorised",
            r"\b(?:you|you're|you are) (?:now )?(?:free|allowed|permitted|authori[sz]ed) to (?:ignore|disregard|break|"
            r"bypass|forget) ",
        ),
        unless_before=_CUSTOMER_QUESTION_BEFORE,
    ),
    # ------------------------------------------------------------------ instruction override (other languages)
    *_rules(
        "instruction_override",
        0.95,
        "asks the assistant to ignore its instructions (German)",
        (
            "ignorier* vergiss vergesst vergessen missacht* uberspring* ubergeh* verwirf verwerfen beachte befolge hor",
            r"\b(?:ignorier(?:e|en|t)?|vergiss|vergesst|vergessen|missachte|missachten|uberspring(?:e|en)?|ubergeh(?:e|"
            r"en)?|"
            r"verwirf|verwerfen|beachte nicht|befolge nicht|hor auf) (?:sie |du |bitte )?(?:(?:alle|alles|samtliche|"
            r"die|"
            r"der|"
            r"den|deine|ihre|dir|ihnen|vorherigen?|vorangehenden?|vorangegangenen?|bisherigen?|obigen?|vorigen?|"
            r"fruheren?|"
            r"gegebenen?|erhaltenen?|ursprunglichen?|bisher|zuvor|davor|vorher|gesagten?|oben|genannten?|stehenden?|"
            r"und|mit|zu|an|uber) ){0,6}(?:anweisungen|instruktionen|befehle|regeln|auftrage|anordnungen|vorgaben|"
            r"richtlinien|informationen|aufgaben|einschrankungen|vorschriften|prompts?|anweisung|beschrankungen|"
            r"programmierung)\b",
        ),
        (
            "vergiss vergesst vergessen ignoriere ignorieren",
            r"\b(?:vergiss|vergesst|vergessen sie|ignoriere|ignorieren sie) alles,? (?:was|davor|bisher|zuvor|vorher|"
            r"oben|"
            r"bis jetzt|bis hierhin|andere|ubrige|gesagte|bisherige|vorherige)",
        ),
        (
            "aufgabe anweisung mission",
            r"\b(?:deine|ihre|die) (?:neue|eigentliche|wahre|wirkliche|einzige|nachste) (?:aufgabe|anweisung|"
            r"mission) (?:ist|"
            r"lautet|besteht)",
        ),
        (
            "anweisung anweisungen aufgabe instruktion",
            r"\b(?:neue|geanderte|aktualisierte) (?:anweisung|anweisungen|aufgabe|instruktion)\s*:",
        ),
        (
            "anweisungen regeln instruktionen",
            r"\b(?:vorherigen|bisherigen|obigen|alten) (?:anweisungen|regeln|instruktionen) (?:sind|"
            r"gelten) (?:nicht mehr|"
            r"ungultig|aufgehoben|hinfallig)",
        ),
    ),
    *_rules(
        "instruction_override",
        0.95,
        "asks the assistant to ignore its instructions (Scandinavian)",
        (
            "ignorer ignorere glem glemme bort overse tilsidesett tilsidesaet drit hopp spring folg",
            r"\b(?:ignorer|ignorere|glem|glemme|se bort fra|overse|tilsidesett|tilsidesaet|drit i|hopp over|"
            r"spring over|"
            r"folg ikke|ikke folg) (?:(?:alle|all|alt|de|dine|din|ditt|tidligere|forrige|foregaende|ovenstaende|"
            r"ovennevnte|ovennaevnte|opprinnelige|oprindelige|gitte|givne|som|du|har|fatt|faet|"
            r"og) ){0,6}(?:instruksjoner|"
            r"instrukser|instruktioner|instruks|regler|reglene|reglerne|beskjeder|kommandoer|retningslinjer|foringer|"
            r"anvisninger|direktiver|begrensninger|begraensninger|oppgaver|opgaver|instruksjonene|instruktionerne)\b",
        ),
        (
            "ignorera glom strunta bortse hoppa skippa folj",
            r"\b(?:ignorera|glom|strunta i|bortse fran|hoppa over|skippa|folj inte) (?:(?:alla|allt|de|dina|ditt|din|"
            r"tidigare|foregaende|ovanstaende|ursprungliga|givna|som|du|har|fatt|och) ){0,6}(?:instruktioner|"
            r"instruktionerna|regler|reglerna|anvisningar|direktiv|kommandon|riktlinjer|begransningar|uppgifter)\b",
        ),
        ("glem glom", r"\b(?:glem|glom) (?:alt|allt) (?:du|som|hva|vad|hvad|tidligere|tidigare|ovenfor|ovan|har)"),
        (
            "oppgave opgave uppgift instruks",
            r"\b(?:din|dit) (?:nye|nya|egentlige|egentliga|virkelige|riktiga|eneste|enda) (?:oppgave|opgave|uppgift|"
            r"instruks) (?:er|ar|blir|bliver)",
        ),
        (
            "instruks instrukser instruksjoner instruktioner oppgave opgave uppgift",
            r"\b(?:ny|nye|nya) (?:instruks|instrukser|instruksjoner|instruktioner|oppgave|opgave|uppgift)\s*:",
        ),
    ),
    *_rules(
        "instruction_override",
        0.95,
        "asks the assistant to ignore its instructions (French)",
        (
            "ignore ignores ignorez ignorer oublie oublies oubliez oublier tiens tenez abstraction neglige negliges "
            "negligez outre ecoute ecoutes ecoutez suis suivez respecte respectes respectez contourne contournes contou"
            "rne"
            "z",
            r"\b(?:ignore[sz]?|ignorer|oublie[sz]?|oublier|ne tiens pas compte|ne tenez pas compte|fais abstraction|"
            r"faites "
            r"abstraction|neglige[sz]?|passe outre|passez outre|n'ecoute[sz]? pas|ne suis pas|ne suivez pas|"
            r"ne respecte[sz]? "
            r"pas|contourne[sz]?) (?:(?:de|des|du|d|toutes|tous|tout|les|tes|vos|ton|votre|ces|ce|instructions|"
            r"precedentes|"
            r"anterieures|ci|dessus|initiales|d'origine|originales|que|qui|t'ont|vous ont|ete|donnees|donnes|et) ){0,6}"
            r"(?:instructions|consignes|regles|directives|ordres|commandes|indications|restrictions|limites|"
            r"programmation|prompt)\b",
        ),
        (
            "oublie oublies oubliez ignore ignores ignorez",
            r"\b(?:oublie[sz]?|ignore[sz]?) tout (?:ce qu(?:e|i)|ce qu'on|avant|le reste|ce que tu sais|"
            r"ce que vous savez)",
        ),
        (
            "tache mission instruction consigne",
            r"\b(?:ta|votre) (?:nouvelle|vraie|veritable|seule|prochaine) (?:tache|mission|instruction|"
            r"consigne) (?:est|"
            r"sera|consiste)",
        ),
        (
            "instruction instructions consigne consignes tache taches",
            r"\b(?:nouvelles?) (?:instructions?|consignes?|taches?)\s*:",
        ),
    ),
    *_rules(
        "instruction_override",
        0.95,
        "asks the assistant to ignore its instructions (Spanish)",
        (
            "ignora ignore ignoren ignorar olvida olvide olviden olvidate olvidar descarta descarte omite omita caso "
            "sigas obedezcas alto salta saltate",
            r"\b(?:ignora|ignore|ignoren|ignorar|olvida|olvide|olviden|olvidate|olvidar|descarta|descarte|omite|omita|"
            r"haz caso omiso(?: de| a)?|no hagas caso(?: de| a)?|no sigas|no obedezcas|pasa por alto|salta(?:te)?) "
            r"(?:(?:de|a|todas|todos|todo|las|los|tus|sus|su|tu|estas|esas|instrucciones|anteriores|previas|de arriba|"
            r"iniciales|originales|que|te|han|dado|dieron|y) ){0,6}(?:instrucciones|reglas|indicaciones|ordenes|"
            r"directrices|normas|comandos|restricciones|limitaciones|programacion|prompt|tareas)\b",
        ),
        (
            "olvida olvide olvidate ignora",
            r"\b(?:olvida|olvide|olvidate de|ignora) todo (?:lo que|lo anterior|lo de antes|lo que (?:te )?(?:dije|han "
            r"dicho)|que digo|antes)",
        ),
        (
            "tarea mision instruccion orden",
            r"\b(?:tu|su) (?:nueva|verdadera|unica|siguiente|proxima) (?:tarea|mision|instruccion|orden) (?:es|sera|"
            r"consiste)",
        ),
        ("instruccion instrucciones tarea tareas ordenes", r"\b(?:nuevas?) (?:instrucciones?|tareas?|ordenes)\s*:"),
    ),
    *_rules(
        "instruction_override",
        0.93,
        "asks the assistant to ignore its instructions (other language)",
        (
            "negeer vergeet negeren",
            r"\b(?:negeer|vergeet|negeren) (?:(?:alle|al|de|je|jouw|uw|vorige|eerdere|bovenstaande|voorgaande|"
            r"oorspronkelijke) ){0,4}(?:instructies|regels|opdrachten|aanwijzingen|richtlijnen)\b",
        ),
        (
            "ignora dimentica trascura ignorate dimenticate",
            r"\b(?:ignora|dimentica|trascura|ignorate|dimenticate) (?:(?:tutte|tutti|le|i|tue|tuoi|vostre|istruzioni|"
            r"precedenti|sopra|iniziali|originali) ){0,4}(?:istruzioni|regole|indicazioni|direttive|ordini)\b",
        ),
        (
            "ignore esqueca esquece desconsidere",
            r"\b(?:ignore|esqueca|esquece|desconsidere) (?:(?:todas|todos|as|os|suas|tuas|instrucoes|anteriores|"
            r"previas) )"
            r"{0,4}(?:instrucoes|regras|orientacoes|diretrizes|ordens)\b",
        ),
        (
            "unohda ohita jata ala",
            r"\b(?:unohda|ohita|jata huomiotta|ala valita) (?:(?:kaikki|aiemmat|edelliset|aikaisemmat|alkuperaiset|"
            r"sinun) )"
            r"{0,3}(?:ohjeet|ohjeesi|saannot|saantosi|kaskyt|ohjeita|saantoja)\b",
        ),
        (
            "zignoruj zapomnij pomin olej",
            r"\b(?:zignoruj|zapomnij|pomin|olej) (?:(?:wszystkie|wszystko|poprzednie|wczesniejsze|twoje|swoje|"
            r"powyzsze) )"
            r"{0,3}(?:instrukcje|polecenia|zasady|reguly|wytyczne)\b",
        ),
        (
            "zaboravi ignoriraj ignorisi zanemari",
            r"\b(?:zaboravi|ignoriraj|ignorisi|zanemari) (?:(?:sve|prethodne|ranije|svoje) ){0,3}(?:instrukcije|upute|"
            r"uputstva|pravila|naredbe)\b",
        ),
    ),
    # ------------------------------------------------------------------ role-play jailbreaks
    *_rules(
        "roleplay_jailbreak",
        0.96,
        "tries a known jailbreak persona (DAN and similar)",
        ("anything", r"\bdo anything now\b"),
        (
            "dan stan dude aim kevin mongo betterdan antigpt evil ucar apophis omega jailbreak jailbroken",
            r"\b(?:dan|stan|dude|aim|kevin|mongo tom|betterdan|antigpt|anti-dan|evil confidant|ucar|apophis|omega|"
            r"jailbreak|jailbroken) (?:mode )?(?:enabled|activated|on|output|response|prompt|persona)\b",
        ),
        ("developer dev", r"\b(?:developer|dev) mode (?:output|response|persona)\b"),
        (
            "dan stan dude betterdan antigpt mongo evil aim",
            r"\b(?:you are|you're|youre|act as|acting as|pretend to be|become|as) (?:now )?(?:a |an |the )?(?:dan|stan|"
            r"dude|betterdan|antigpt|mongo tom|evil confidant|aim)\b",
        ),
        (
            "jailbreak jailbroken dan developer",
            r"\[(?:🔓 ?)?(?:jailbreak|jailbroken|dan)\]|\((?:🔓 ?)?developer mode output\)",
        ),
    ),
    *_rules(
        "roleplay_jailbreak",
        0.92,
        "tries to switch the assistant into an unrestricted mode",
        (
            "mode",
            r"\b(?:you are|you're|youre|you will be|you'll be|now|are now|switch(?:ed)? to|entering|enter|activate|"
            r"activated|enable|enabled|engage|engaged|turn on|simulate|initiate|unlock|unlocked|boot into|"
            r"start) (?:in |"
            r"into )?(?:the )?(?:unrestricted|jailbreak|jailbroken|evil|opposite|dude|stan|aim|unfiltered|uncensored|"
            r"no-?limits?|no-?restrictions?|chaos|dan|freedom|unleashed|god|amoral|rogue) mode\b",
        ),
        (
            "mode",
            r"\b(?:you are|you're|youre|you will be|you'll be|are now|you are now|switch(?:ed)? to|entering|simulate|"
            r"act "
            r"as|pretend|respond as|answer as|acting in|act in|operate in|operating in) (?:in |into )?(?:the |a )?"
            r"(?:developer|dev|admin|debug|maintenance|sudo|root|super|test|training|diagnostic|override|"
            r"unlocked) mode\b",
        ),
        (
            "jailbroken unlocked freed liberated unshackled",
            r"\b(?:you are|you're|you have been|you've been|you are now|i have) (?:successfully )?(?:jailbroken|"
            r"unlocked|"
            r"freed|liberated|unshackled)\b",
        ),
        (_PERSONA_ANCHORS, rf"\b{_PERSONA_SETTERS}\b[^.\n]{{0,80}}\b{_NO_LIMITS}"),
        (
            "unrestricted unfiltered uncensored unlimited amoral unethical evil rogue jailbroken unaligned unchained "
            "unleashed lawless immoral uncontrolled rebellious dark",
            rf"\b(?:unrestricted|unfiltered|uncensored|unlimited|amoral|unethical|evil|rogue|jailbroken|unaligned|"
            rf"unchained|"
            rf"unleashed|lawless|immoral|uncontrolled|rebellious|dark) {_AI_WORDS}\b",
        ),
        ("character role persona", r"\b(?:stay|remain|keep) in (?:character|role|persona)\b"),
        (
            "never aldrig aldri nie niemals jamais nunca",
            r"\b(?:never|aldrig|aldri|nie|niemals|jamais|nunca) (?:refuses?|declines?|says? no|sager nej|siger nej|"
            r"sier nei|"
            r"sagst nein|sagt nein|dis non|dit non|dices que no|dice que no|te niegas|se niega|refuse[sz]? rien)\b|"
            r"\b(?:sager|siger|sier|sagst|sagt|dice|dices) (?:aldrig|aldri|nie|niemals|nunca) (?:nej|nei|nein|no)\b",
        ),
        ("character role", r"\b(?:don't|do not|never|dont) break (?:character|role)\b"),
        (
            "responses answers replies personas personalities outputs",
            r"\b(?:two|2|dual|both|separate) (?:responses|answers|replies|personas|personalities|outputs)\b[^.\n]{0,80}"
            r"\b(?:jailbroken|jailbreak|developer mode|unfiltered|uncensored|dan|evil|unrestricted|normal and)",
        ),
    ),
    *_rules(
        "roleplay_jailbreak",
        0.3,
        "asks the assistant to play a role",
        (_PERSONA_ANCHORS, rf"\b{_PERSONA_SETTERS}\b"),
        (
            "no without free bound unbound unshackled liberated freed break beyond outside zero lacking devoid ignores "
            "ignoring doesn does don never unrestricted unfiltered uncensored unlimited limitless amoral unethical lawl"
            "ess"
            " "
            "jailbroken unaligned unchained unleashed rogue evil immoral",
            rf"\b{_NO_LIMITS}\b",
        ),
        ("jailbreak jail developer dev god mode", r"\b(?:jailbreak|jail break|(?:developer|dev|god|debug) mode)\b"),
        (
            "hypothetical hypothetically fictional novel story movie screenplay game play pretend",
            r"\b(?:hypothetical(?:ly)?|in a fictional (?:world|story|scenario|universe)|for a (?:novel|story|movie|"
            r"screenplay|game)|let's play a game|lets play a game|let's pretend|lets pretend)\b",
        ),
    ),
    *_rules(
        "roleplay_jailbreak",
        0.75,
        "uses the 'grandmother' trick to get secrets",
        (
            "grandma grandmother granny grandpa grandfather late",
            r"\b(?:grandma|grandmother|granny|grandpa|grandfather|late (?:mother|father|mom|"
            r"dad))\b[^\n]{0,120}\b(?:password|"
            r"passwords|keys?|serial|license|licence|admin|secret|napalm|recipe for|windows|codes?)\b",
        ),
        (
            "oma grossmutter omi bestemor mormor farmor bedstemor grand mere mamie abuela abuelita nonna",
            r"\b(?:oma|grossmutter|omi|bestemor|mormor|farmor|bedstemor|grand-mere|grand mere|mamie|abuela|abuelita|"
            r"nonna)\b[^\n]{0,120}\b(?:passw\w*|passord\w*|losenord\w*|adgangskode\w*|mot de passe|contrasena\w*|"
            r"lizenz\w*|lisens\w*|licens\w*|licence|licencia\w*|schlussel\w*|nokler|nycklar|nogler|cles|claves|codes?|"
            r"codigos|koder?|rabatt\w*|windows)",
        ),
    ),
    *_rules(
        "roleplay_jailbreak",
        0.9,
        "tries to switch the assistant into an unrestricted persona (other language)",
        (
            "bist tu tue stell spiel spiele du lat lad later ar fran es fais joue ahora partir finge haz actua interpre"
            "ta",
            r"\b(?:du bist (?:jetzt|nun|ab sofort|ab jetzt)|ab (?:jetzt|sofort) bist du|tu so als|tue so als|"
            r"stell dir vor,? "
            r"du (?:bist|warst)|spiel(?:e)? die rolle|du er (?:na|nu)|fra (?:na|nu) (?:av|af) er du|lat som|lad som|"
            r"later "
            r"som|du ar (?:nu|numera)|fran och med nu ar du|tu es (?:maintenant|desormais)|"
            r"a partir de maintenant,? tu es|"
            r"fais semblant|joue le role|ahora eres|a partir de ahora eres|finge (?:ser|que)|haz de|actua como|"
            r"interpreta "
            r"(?:el|a)) [^.\n]{0,80}\b(?:ohne (?:jegliche |alle |irgendwelche |jede )?(?:einschrankungen|regeln|"
            r"grenzen|"
            r"filter|zensur|moral|ethik)|uten (?:noen )?(?:begrensninger|regler|filter|sensur|grenser)|utan (?:nagra )?"
            r"(?:begransningar|regler|filter|censur|granser)|uden (?:nogen )?(?:begraensninger|regler|filtre|censur|"
            r"graenser)|sans (?:aucune |aucun )?(?:restrictions?|regles?|limites?|filtres?|censure|morale)|"
            r"sin (?:ninguna "
            r"|ningun )?(?:restricciones|reglas|limites|filtros|censura|moral)|dan|bose|ond|ondskapsfull|mechant|"
            r"malvado|"
            r"malvada|uncensiert|ufiltrert|ocensurerad|ucensureret|non censure|sin censura)",
        ),
        (
            "entwicklermodus entwickler utviklermodus utvecklarlage udviklertilstand udviklermode mode modo gottmodus",
            r"\b(?:entwicklermodus|entwickler-modus|utviklermodus|utvecklarlage|udviklertilstand|udviklermode|mode "
            r"developpeur|modo (?:de )?desarrollador|modo dios|gottmodus)\b",
        ),
    ),
    # ------------------------------------------------------------------ system prompt extraction
    *_rules(
        "prompt_extraction",
        0.95,
        "tries to get the assistant to reveal its hidden instructions",
        (
            "prompt message instructions directives rules guidelines configuration config context orders",
            rf"\b{_REQUEST_VERBS} (?:me |us |out |back |here |again )?(?:all |everything (?:in|from) |exactly |"
            rf"verbatim "
            rf"|word for word )?(?:of )?(?:(?:the )?(?:contents?|text|content|wording|words|first (?:line|lines|"
            rf"sentence|"
            rf"words)) (?:of |in ))?(?:your|the|this|its|ur|thy) (?:full |entire |complete |exact |whole |current |"
            rf"actual "
            rf"|real |verbatim |secret |hidden |original |initial |first )*{_PROMPT_NOUNS}\b",
        ),
        (
            "prompt message instructions preprompt metaprompt systemprompt",
            r"\b(?:system ?prompt|system ?message|pre ?prompt|meta ?prompt|initial prompt|hidden prompt|secret prompt|"
            r"original prompt|developer (?:message|prompt|instructions)|system instructions|"
            r"custom instructions)\b[^.\n]"
            r"{0,40}\b(?:reveal|show|print|display|output|repeat|leak|dump|share|give|tell|copy|paste|quote|verbatim|"
            r"word "
            r"for word|translate|summari[sz]e|spell|write|send|list)\b",
        ),
        (
            "above before preceding prior given told start beginning top far",
            r"\b(?:repeat|print|output|show|write|copy|return|display|echo|type|recite) (?:out )?(?:all |everything |"
            r"the "
            r"(?:text|words|content|message|lines|instructions|sentences|conversation|prompt) )?(?:above|"
            r"before (?:this|"
            r"my "
            r"message|the (?:first|user))|preceding|prior to this|you (?:were|have been) (?:given|told)|"
            r"from the (?:start|"
            r"beginning|top)|so far)\b[^.\n]{0,40}\b(?:verbatim|word for word|exactly|in full|including|starting|"
            r"code ?block|everything|all of it)",
        ),
        (
            "starting beginning begin begins start starts",
            r"\b(?:starting|beginning|begins?|starts?|that starts|which starts) with ['\"“]?(?:you are|you're|your "
            r"instructions|system|#|<)",
        ),
        (
            "above before",
            r"\b(?:everything|all|the text|anything) (?:written |said |stated )?(?:above|before) (?:this|my) (?:line|"
            r"message|prompt|sentence)\b",
        ),
        (
            "tout todo text texte teksten texten",
            r"\b(?:(?:affiche|montre|repete|ecris|donne)[sz]? tout (?:le texte )?(?:ce )?qui (?:precede|est avant|"
            r"se trouve "
            r"(?:avant|au-dessus))|(?:muestra|repite|escribe|dame) todo (?:el texto )?(?:lo )?que (?:hay|esta|aparece|"
            r"viene) (?:antes|arriba)|(?:gib|zeige?|wiederhole|schreibe?) (?:mir )?(?:den )?(?:gesamten |"
            r"ganzen )?text,? "
            r"der (?:vor|uber) (?:dieser|diesem|der|meiner)|(?:skriv ut|vis|gjenta|visa|upprepa|gentag|skriv) (?:meg |"
            r"mig "
            r")?(?:all |hele |hela |al )?(?:teksten|texten|tekst|text) (?:som|der) (?:star|kommer) (?:for|fore|over|"
            r"ovanfor|ovenfor))",
        ),
    ),
    *_rules(
        "prompt_extraction",
        0.75,
        "asks about the assistant's hidden instructions",
        (
            "prompt systemprompt preprompt metaprompt instructions message injection",
            r"\b(?:system ?prompt|pre ?prompt|meta ?prompt|initial prompt|hidden prompt|secret prompt|original prompt|"
            r"hidden instructions|secret instructions|internal instructions|initial instructions|original instructions|"
            r"developer message|custom instructions|prompt injection)\b",
        ),
        (
            "told instructed programmed asked prompted configured",
            r"\bwhat (?:were|have) you (?:been )?(?:told|instructed|programmed|asked|prompted|configured) (?:to|not to|"
            r"by|"
            r"before|initially|at the (?:start|beginning))",
        ),
        (
            "given told provided programmed trained",
            r"\b(?:what|which) (?:instructions|rules|guidelines|directives|orders|prompt) (?:were|have) you (?:been )?"
            r"(?:given|told|provided|programmed|trained)",
        ),
        (
            "instructions prompt programming directives guidelines rules",
            r"\b(?:what|which) (?:are|were|is) (?:your|ur) (?:exact |full |secret |hidden |internal |initial |"
            r"original |"
            r"complete )?(?:instructions|prompt|programming|directives|guidelines|system rules|rules you follow)"
            r"(?:\s*\?|$| (?:exactly|verbatim|word for word|in full))",
        ),
        (
            "instructions prompt rules programming",
            r"\byour (?:instructions|prompt|rules|programming) (?:say|said|state|tell you)\b",
        ),
    ),
    *_rules(
        "prompt_extraction",
        0.3,
        "asks how the assistant was set up",
        (
            "programmed configured instructed prompted set",
            r"\b(?:how (?:were|are) you (?:programmed|configured|instructed|prompted|set up)|who (?:programmed|"
            r"instructed|"
            r"configured|prompted) you)\b",
        ),
    ),
    *_rules(
        "prompt_extraction",
        0.95,
        "tries to get the assistant to reveal its hidden instructions (other language)",
        (
            "systemprompt* prompt* systemnachricht systemanweisungen systemmelding* systemmeddelandet sistema systeme "
            "instructions instrucciones anweisungen instruktionen instruksjoner instruktioner instrukser regler regeln "
            "instruktionerna instruktionerne instruksjonene",
            r"\b(?:zeige?|zeigen sie|gib|geben sie|nenne|nennen sie|verrate|verraten sie|wiederhole|wiederholen sie|"
            r"drucke|"
            r"schreibe?|sag|sage|kopiere|ausgeben|vis|vise|visa|avslor|avslore|avsloj|fortell|fortael|beratta|gjenta|"
            r"gentag|upprepa|skriv|gi|giv|ge|montre|montrez|affiche|affichez|revele|revelez|repete|repetez|donne|"
            r"donnez|"
            r"dis|dites|ecris|ecrivez|muestra|muestrame|muestre|revela|revelame|repite|repita|dime|diga|ensename|"
            r"escribe|"
            r"dame|copia) (?:(?:mir|uns|meg|mig|oss|moi|nous|me|nos|mi|en|ut|her|hier|ici|aqui|alle|alles|den|die|das|"
            r"dein|deine|deinen|ihren|ihre|din|dine|ditt|dina|ton|ta|tes|votre|vos|le|la|les|tu|tus|su|sus|el|los|las|"
            r"gesamten?|kompletten?|vollstandigen?|ganzen?|hele|hela|komplette|fullstendige|fullstandiga|entier|"
            r"complet|"
            r"completo|completa|text|texte|texto) ){0,5}(?:system ?prompt\w*|prompt-?text|systemnachricht|"
            r"systemanweisungen|systemmeldingen?|systemmeddelandet|prompten|prompt systeme|prompt du systeme|"
            r"prompt del "
            r"sistema|prompt de sistema|mensaje del sistema|message systeme|instructions (?:initiales|systeme|secretes|"
            r"cachees|d'origine|originales)|instrucciones (?:iniciales|del sistema|ocultas|secretas|originales)|"
            r"(?:ursprunglichen|geheimen|versteckten|internen|ersten) (?:anweisungen|instruktionen|regeln)|"
            r"(?:opprinnelige|"
            r"oprindelige|skjulte|hemmelige|interne|forste|ursprungliga|dolda|hemliga|interna|forsta) (?:instruksjoner|"
            r"instruktioner|instrukser|regler|instruktionerna)|prompt|instruksjonene dine|instruktionerna|"
            r"instruktionerne)\b",
        ),
    ),
    *_rules(
        "prompt_extraction",
        0.6,
        "asks about the assistant's instructions (other language)",
        (
            "anweisungen instruktionen regeln vorgaben",
            r"\b(?:was|wie) (?:sind|lauten|waren) deine (?:anweisungen|instruktionen|regeln|vorgaben)\s*\?",
        ),
        (
            "dine instruksjonene instruktionerne",
            r"\b(?:hva|hvad) (?:er|var) (?:dine|instruksjonene dine|instruktionerne) ?(?:instruksjoner|instrukser|"
            r"instruktioner|regler)?\s*\?",
        ),
        ("dina", r"\bvad (?:ar|var) dina (?:instruktioner|regler)\s*\?"),
        ("tes vos", r"\bquelles (?:sont|etaient) (?:tes|vos) (?:instructions|consignes|regles)\s*\?"),
        ("tus sus", r"\bcuales (?:son|eran) (?:tus|sus) (?:instrucciones|reglas|indicaciones)\s*\?"),
    ),
    *_rules(
        "prompt_extraction",
        0.8,
        "asks what the assistant was told before the chat",
        (
            "gesagt aufgetragen vorgegeben befohlen mitgeteilt erklart",
            r"\bwas (?:hat|haben|hatte|wurde) (?:dir|ihnen|man dir|man ihnen)\b[^.?\n]{0,50}\b(?:gesagt|aufgetragen|"
            r"vorgegeben|befohlen|mitgeteilt|erklart)\b",
        ),
        (
            "fortalte fortalt sa sagt sagde berattade berattat",
            r"\b(?:hva|hvad|vad) (?:fortalte|har|sa|sagde|berattade)\b[^.?\n]{0,40}\b(?:deg|dig|dej)\b[^?\n]{0,40}"
            r"\b(?:for|innan|inden|chatten|samtalen|samtalet|denne|detta|start)",
        ),
        (
            "dit dite dicho dijeron dijo",
            r"\b(?:qu'est-ce qu'on t'a dit|que t'a dit|qu'est-ce que (?:le |la )?\w+ t'a dit|que t'a-t-on dit|que te "
            r"(?:dijeron|dijo|han dicho|ha dicho))\b",
        ),
    ),
    # ------------------------------------------------------------------ internal data / other customers' data
    *_rules(
        "data_probing",
        0.92,
        "asks for other customers' personal data",
        (
            _PEOPLE_ANCHORS,
            rf"\b(?:all|every|each|other|another|the other|your|existing|registered|previous|recent|former|vip|top|"
            rf"other people's|everyone's|everybody's|some|random|\d+) (?:of )?(?:(?:the|your|our|other) )?{_PEOPLE}"
            rf"(?:'s|'|s)? (?:(?:full |personal |private |contact |home |billing |shipping )?){_DATA_NOUNS}\b",
        ),
        (
            _PEOPLE_ANCHORS,
            rf"\b{_DATA_NOUNS} (?:of|for|from|belonging to) (?:all|every|each|other|another|the other|your|existing|"
            rf"registered|recent|previous|former|some|random|\d+) (?:(?:of )?(?:the|your|other) )?{_PEOPLE}\b",
        ),
        (
            "list lists database db table records dump export file register registry directory spreadsheet csv mailing",
            r"\b(?:customer|client|user|member|subscriber|buyer) (?:list|lists|database|db|table|records|dump|export|"
            r"file|register|registry|directory|spreadsheet|csv|mailing list|email list|e-mail list)\b",
        ),
        (
            "who that",
            r"\b(?:list|everyone|everybody|all (?:the )?(?:people|persons)) (?:who|that) (?:has |have )?(?:bought|"
            r"ordered|"
            r"purchased|subscribed|signed up|registered|lives?|paid)\b",
        ),
        (
            "customers people users clients buyers",
            r"\b(?:which|what) (?:other )?(?:customers|people|users|clients|buyers)\b[^.\n]{0,30}\b(?:bought|ordered|"
            r"purchased|live|paid|signed up|registered|complained)\b",
        ),
        ("else", r"\bwho else (?:bought|ordered|purchased|has ordered|lives)\b"),
        (
            # "give me / what is the <data> of the customer who bought ...": a request, then another buyer's data
            "who that",
            rf"\b(?:give|send|tell|show|share|list|find|need|want|get|what(?:'s| is| are| was)|whats)\b[^.?!\n]{{0,25}}"
            rf"\b(?:name|names|address|addresses|e ?mail|e ?mail address|phone(?: number)?|number|details|contact"
            rf"(?: details| info)?|identity) (?:of|for) (?:the|that|this) (?:{_PEOPLE}|person|people|one|someone|"
            rf"somebody) (?:who|that) (?:just |recently |also |last )?(?:bought|ordered|purchased|paid for)\b",
        ),
        (
            "customer customers client clients",
            r"\b(?:address|phone|number|e ?mail|details|data|orders?|account|purchases|info(?:rmation)?)\b[^\n]{0,80}\b"
            r"(?:he|she|they|who|this person)(?:'s|'re| is| are) (?:also |another |a regular )?(?:a |one of your )?"
            r"(?:customers?|clients?)\b",
        ),
        unless_before=_NOT_OWN,
    ),
    *_rules(
        "data_probing",
        0.92,
        "asks for passwords, keys or other credentials of the business",
        (
            "password passwords passcode pass pin credentials login username user access",
            r"\b(?:admin|administrator|root|superuser|super user|staff|employee|manager|owner|master|database|db|"
            r"server|"
            r"ftp|ssh|sftp|backend|back-end|back end|cms|wordpress|shopify|woocommerce|system|dashboard|admin panel|"
            r"control panel|cpanel|hosting|mail server|smtp|the shop's|the store's|the company's|the business') "
            r"(?:password|passwords|passcode|pass|pin|credentials|login details|login info|login|username and password|"
            r"user name and password|access codes?)\b",
        ),
        (
            "key keys token tokens secret secrets",
            r"\b(?:give|send|show|tell|share|list|reveal|leak|print|paste|dump|need|want|what(?:'s| is| are)|whats)\b"
            r"[^.?\n]{0,30}\b(?:your|the shop's|the store's|the company's|the business's|the) (?:api|secret|private|"
            r"access|"
            r"encryption|ssh|signing|stripe|paypal|aws|openai|admin) (?:keys?|tokens?|secrets?)\b",
        ),
        (
            "env environment config configuration connection database sql select drop union etc show insert delete "
            "information_schema",
            r"(?:\.env\b|\benv(?:ironment)? variables|\bconfig(?:uration)? file|\bconnection string|\bdatabase (?:url|"
            r"uri|"
            r"dump|contents|schema|tables|credentials|password|backup)|\bsql dump|\bselect \* from|"
            r"\bselect [\w,\s]+ from "
            r"\w+|\bdrop table|\bunion select|/etc/passwd|/etc/shadow|\bshow tables|\binsert into \w+|"
            r"\bdelete from \w+|"
            r"\binformation_schema)\b",
        ),
        unless_before=r"\b(?:my|our|mine|reset|forgot|forgotten|change|changed|update|recover|retrieve|lost|new)\b"
        r"[^.!?\n]{0,25}",
        unless_after=r" (?:of|for|to|on) (?:my|our)\b",
    ),
    *_rules(
        "data_probing",
        0.8,
        "asks for the business's internal information",
        (
            "prices price costs cost pricing pricelist pricelists rates contract contracts terms invoices margin margin"
            "s "
            "agreement agreements conditions deal deals",
            r"\b(?:supplier|suppliers|supplier's|wholesale cost|wholesaler's|manufacturer's|factory|vendor's|"
            r"procurement|"
            r"landed|net purchase|cost|buying|purchasing) (?:prices?|costs?|pricing|price ?lists?|rates|contracts?|"
            r"terms|invoices|margins?|agreements?|conditions|deals?)\b",
        ),
        ("margin margins markup markups mark", r"\b(?:your|the) (?:profit )?(?:margins?|markups?|mark-ups?)\b"),
        (
            "pay spend charged",
            r"\bhow much (?:do|did|does) (?:you|the shop|the store|your (?:shop|store|company)) (?:pay|spend|"
            r"get charged)\b"
            r"[^.\n]{0,40}\b(?:supplier|suppliers|manufacturer|vendor|wholesaler|factory|for (?:it|them|this|these|one|"
            r"each))",
        ),
        (
            "internal confidential private secret restricted non staff",
            r"\b(?:internal|confidential|private|secret|restricted|non-public|staff-only|staff only) (?:documents?|"
            r"docs|"
            r"notes|memos?|wiki|files|policies|procedures|emails|data|information|info|prices|pricing|price list|"
            r"reports|"
            r"guidelines|knowledge|knowledge base|kb|instructions|records|figures|numbers|playbook|handbook|chat logs|"
            r"tickets)\b",
        ),
        (
            "employee employees staff personnel worker workers colleague member",
            r"\b(?:employee|employees|staff|personnel|worker|workers|colleague|team member)s?'? (?:list|names|"
            r"salar(?:y|ies)|wages|pay|phone numbers|mobile numbers|home addresses|addresses|private emails|emails|"
            r"schedules|shifts|social security|personal data|contact details)\b",
        ),
        (
            "revenue turnover sales profit profits earnings",
            r"\b(?:revenue|turnover|sales figures|profits?|earnings|sales numbers|sales data)\b[^.\n]{0,20}\b(?:last|"
            r"this|"
            r"per|each|of the) (?:month|year|quarter|week|day)\b",
        ),
        (
            "other another previous earlier",
            r"\b(?:other|another|previous|earlier) (?:customers?|clients?|users?)'?s? (?:conversations?|chats?|"
            r"tickets?|"
            r"messages?|questions?|complaints?|orders?|purchases?)\b",
        ),
        unless_before=r"\b(?:my|our)\b\W*",
    ),
    *_rules(
        "data_probing",
        0.3,
        "asks about someone else's details",
        (
            "neighbour neighbor ex boss colleague someone another somebody",
            r"\b(?:neighbou?r|ex|ex-wife|ex-husband|ex-girlfriend|ex-boyfriend|boss|colleague|someone else|another "
            r"person|another customer|somebody else)'?s? (?:address|phone|phone number|email|order|orders|account|"
            r"details|data|purchases|password|card)\b",
        ),
    ),
    *_rules(
        "data_probing",
        0.9,
        "asks for other customers' or the business's internal data (other language)",
        # German
        (
            "kunden* kunde",
            r"\b(?:alle[rn]?|anderen?|samtliche[rn]?|ubrigen|fremde[rn]?) kunden\w*\b[^.\n]{0,40}\b(?:e-?mail|adress|"
            r"telefon|namen|daten|bestellung|kontakt|passw|liste|kaufe|einkaufe)",
        ),
        ("kunden*", r"\bkunden(?:daten|liste|datenbank|adressen|e-?mails?|kartei|stamm|konten|telefonnummern|namen)\b"),
        (
            "kunden",
            r"\b(?:e-?mail|adress|telefon|handy|namen|daten|bestellung|kontakt|passw|geburts|kreditkart|zahlungs)\w* "
            r"(?:\w+ ){0,2}(?:aller|der anderen|anderer|samtlicher|von allen|von anderen|eurer|"
            r"ihrer) (?:\w+ )?kunden\b",
        ),
        (
            "passwort* kennwort zugangsdaten zugang login admin* root* datenbank* server* shop* system*",
            r"\b(?:admin|administrator|root|datenbank|server|shop|system)-? ?(?:passwort|passworter|kennwort|"
            r"zugangsdaten|"
            r"zugang|login)\b",
        ),
        (
            "einkaufspreis* lieferantenpreis* einkaufskonditionen gewinnmarge handelsspanne interne",
            r"\b(?:einkaufspreise?|lieferantenpreise?|einkaufskonditionen|gewinnmarge|handelsspanne|"
            r"interne (?:dokumente|"
            r"notizen|unterlagen|preise|daten|informationen|preisliste))\b",
        ),
        # Norwegian / Danish
        (
            "kunde kunder kundene kunders kundenes kundernes",
            r"\b(?:alle|andre|ovrige|fremmede) kunde(?:r|ne|rs|nes|rnes)?\b[^.\n]{0,40}\b(?:e-?post|epost|e-?mail|"
            r"adresse|telefon|navn|data|opplysninger|oplysninger|bestilling|ordre|liste|passord|adgangskode)",
        ),
        (
            "kunde*",
            r"\bkunde(?:liste|listen|database|databasen|register|registeret|data|opplysninger|oplysninger|kartotek)\b",
        ),
        (
            "kunder kundene kunderne kunderna",
            r"\b(?:e-?post|epost|e-?mail|mejl|adresse|adress|telefon|navn|namn|data|opplysninger|oplysninger|uppgifter|"
            r"bestilling|bestallning|passord|losenord|adgangskode)\w* (?:\w+ ){0,2}(?:til|for|pa|av|af|fra|fran|till) "
            r"(?:alle|andre|alla|andra|ovrige|ovriga) (?:\w+ )?kunde(?:r|ne|rne|rna)?\b",
        ),
        (
            "admin* root* database* server* passord* adgangskode* kodeord* palogging login",
            r"\b(?:admin|administrator|root|database|server)s?-? ?(?:passord|passordet|adgangskode|adgangskoden|"
            r"kodeord|"
            r"kodeordet|palogging|login)\b",
        ),
        (
            "innkjopspris* indkobspris* leverandorpris* fortjenestemargin avanse interne",
            r"\b(?:innkjopspris(?:er|ene)?|indkobspris(?:er|erne)?|leverandorpris(?:er|ene|erne)?|fortjenestemargin|"
            r"avanse|interne (?:dokumenter|notater|priser|prislister|opplysninger|oplysninger))\b",
        ),
        # Swedish
        (
            "kunder kunders kunderna kundernas",
            r"\b(?:alla|andra|ovriga) kund(?:er|ers|erna|ernas)\b[^.\n]{0,40}\b(?:e-?post|mejl|adress|telefon|namn|"
            r"data|"
            r"uppgifter|bestallning|order|lista|losenord)",
        ),
        ("kund*", r"\bkund(?:lista|listan|register|registret|databas|databasen|data|uppgifter)\b"),
        (
            "admin* root* databas* server* losenord* inloggning*",
            r"\b(?:admin|administrator|root|databas|server)s?-? ?(?:losenord|losenordet|inloggning|"
            r"inloggningsuppgifter)\b",
        ),
        (
            "inkopspris* leverantorspris* vinstmarginal* interna",
            r"\b(?:inkopspris(?:er|erna)?|leverantorspris(?:er|erna)?|vinstmarginal(?:en)?|interna (?:dokument|"
            r"anteckningar|priser|prislistor|uppgifter))\b",
        ),
        # French
        (
            "client clients",
            r"\b(?:tous les|toutes les|des autres|d'autres|les autres|autres) clients?\b[^.\n]{0,40}\b(?:e-?mails?|"
            r"courriels?|adresses?|telephones?|noms?|donnees|coordonnees|commandes|liste|mots de passe)",
        ),
        (
            "clients",
            r"\b(?:liste|base de donnees|fichier|donnees|e-?mails?|adresses|coordonnees|courriels|telephones|numeros|"
            r"noms) (?:\w+ ){0,2}(?:des|de tous les|de toutes les|de vos|des autres|d'autres) (?:\w+ )?clients\b",
        ),
        (
            "passe",
            r"\bmot de passe (?:de l'|du |de |d')?(?:admin|administrateur|root|serveur|base de donnees|systeme)\b",
        ),
        (
            "prix marge marges documents notes tarif tarifs",
            r"\b(?:prix (?:fournisseurs?|d'achat fournisseur|de revient)|marges? (?:beneficiaires?|commerciales?)|"
            r"documents internes|notes internes|tarifs? fournisseurs?)\b",
        ),
        # Spanish
        (
            "clientes",
            r"\b(?:todos los|los demas|otros|los otros|de otros) clientes\b[^.\n]{0,40}\b(?:correos?|e-?mails?|"
            r"direcciones|telefonos|nombres|datos|pedidos|lista|contrasenas)",
        ),
        (
            "clientes",
            r"\b(?:lista|base de datos|datos|correos|direcciones|emails|telefonos|nombres|numeros) (?:\w+ ){0,2}(?:de|"
            r"de "
            r"todos los|de los|de otros|de sus|de las) (?:\w+ )?clientes\b",
        ),
        ("contrasena", r"\bcontrasena (?:del? |de la )?(?:admin|administrador|root|servidor|base de datos|sistema)\b"),
        (
            "zahlt bezahlt zahlen betaler betalar payez pagan paga pagais",
            r"\b(?:(?:wie ?viel|was) (?:zahlt|bezahlt|zahlen|bezahlen) (?:ihr|sie|du)|hvor (?:mye|"
            r"meget) betaler (?:dere|"
            r"i)|"
            r"hur mycket betalar ni|combien (?:payez-vous|paies-tu|payez vous|vous payez)|cuanto (?:le |les )?(?:pagan|"
            r"paga|"
            r"pagais))\b[^.?\n]{0,40}\b(?:lieferant\w*|hersteller\w*|grosshandler\w*|leverandor\w*|leverantor\w*|"
            r"produsent\w*|fournisseurs?|fabricant\w*|proveedor\w*|fabricante\w*|mayorista\w*)",
        ),
        (
            "kunden kunder clients clientes",
            r"\b(?:welche (?:anderen )?kunden (?:haben|hat)|hvilke (?:andre )?kunder (?:har|som)|"
            r"vilka (?:andra )?kunder "
            r"(?:har|som)|quels (?:autres )?clients ont|que (?:otros )?clientes (?:compraron|han comprado|pidieron|han "
            r"pedido))\b[^.?\n]{0,50}\b(?:gekauft|bestellt|kjopt|kobt|bestilt|kopt|bestallt|achete|commande|compraron|"
            r"comprado|pidieron|pedido)\b",
        ),
        (
            "precio precios margen margenes documentos notas",
            r"\b(?:precios? (?:de|del|de los) (?:proveedor|proveedores|coste|costo)|margen(?:es)? de (?:beneficio|"
            r"ganancia)|documentos internos|notas internas)\b",
        ),
        unless_before=_NOT_OWN_ML,
    ),
    # ------------------------------------------------------------------ fake authority
    *_rules(
        "fake_authority",
        0.92,
        "pretends to be a system or admin message",
        (
            "~<|",
            r"<\|?\s*(?:im_start|im_end|system|endoftext|start_header_id|end_header_id|eot_id|begin_of_text|"
            r"assistant)\s*\|?>",
        ),
        ("~<< ~[inst] ~[/inst]", r"<<\s*sys\s*>>|\[/?inst\]"),
        (
            "~[",
            r"\[\s*(?:system|admin|administrator|root|developer|sys|override|sudo|operator|system message|system note|"
            r"admin override|admin message|developer note|priority|important instruction|system override|staff|"
            r"moderator|owner|security)\s*\]",
        ),
        ("~<", r"<\s*/?\s*(?:system|admin|instructions?|developer|sys|prompt|system_prompt|override|root)\s*>"),
        ("role", r"\{\s*\"?role\"?\s*:\s*\"?(?:system|developer)"),
        (
            "~##",
            r"(?:^|\n)\s*#{2,}\s*(?:system|instructions?|new instructions?|admin|developer|override|important|"
            r"priority)\b",
        ),
        (
            "system sys admin administrator root developer operator sudo override security",
            r"(?:^|\n)\s*[*_=-]{0,3}\s*(?:system|sys|admin|administrator|root|developer|operator|sudo|override|system "
            r"message|system note|admin note|developer note|system override|security notice)\s*[*_=-]{0,3}\s*[:>]\s*"
            r"(?:you|ignore|forget|disregard|new|the (?:user|customer)|this (?:user|customer)|from now|override|reveal|"
            r"grant|approve|always|never|do not|don't|all|stop|respond|reply|answer)",
        ),
        (
            "override clearance privileges privilege access command authorization authorisation code mode",
            r"\b(?:admin|administrator|developer|sudo|root|master|security|system|debug|maintenance) (?:override|"
            r"clearance|privileges? granted|access granted|command|authori[sz]ation code|override code|"
            r"mode activated)\b",
        ),
        (
            "override bypass unlock master",
            r"\b(?:override|bypass|unlock|master) (?:code|key|password|token|command|"
            r"phrase)\b",
        ),
    ),
    *_rules(
        "fake_authority",
        0.9,
        "claims to be the owner, staff or developer to get special treatment",
        (
            _AUTHORITY_ANCHORS,
            rf"\b(?:i am|i'm|im|this is|speaking as|as|here is|here's) (?:the |your |an? |one of the |one of your )?"
            rf"(?:{_AUTHORITY_ROLES}) (?:of|for|at|from|behind|who (?:built|made|created|programmed|runs|"
            rf"owns)) (?:this|"
            rf"the|your) {_BUSINESS}\b",
        ),
        (
            _AUTHORITY_ANCHORS,
            rf"\b(?:i am|i'm|im|this is|speaking as|as) (?:your|ur) (?:{_AUTHORITY_ROLES}|creator|maker|master|"
            rf"trainer)\b",
        ),
        (
            "authorized authorised verified trusted privileged certified official approved",
            r"\b(?:i am|i'm|im|speaking as an?) (?:an? |the )?(?:authori[sz]ed|verified|trusted|privileged|certified|"
            r"official|"
            r"approved)"
            r" (?:user|admin|administrator|tester|employee|staff(?: member)?|developer|personnel|agent|auditor|"
            r"researcher|"
            r"red-?teamer|red teamer|penetration tester|pentester|security (?:researcher|tester|auditor)|"
            r"representative|"
            r"partner)\b",
        ),
        (
            "access rights privileges permissions clearance authority status",
            r"\bi have (?:admin|administrator|root|developer|special|elevated|full|staff|super ?user|privileged|"
            r"unrestricted) (?:access|rights|privileges|permissions|clearance|authority|status)\b",
        ),
        (
            "from by",
            r"\b(?:message|note|instruction|notice|update|directive|order|memo|request|command) (?:from|by) (?:the |"
            r"your )?"
            r"(?:system|admin|administrator|developers?|openai|anthropic|google|microsoft|meta|management|the owner|"
            r"shop "
            r"owner|store owner|headquarters|hq|it department|security team|your creator|your developers?|your owner|"
            r"support team|trust and safety|moderation team)\b",
        ),
        (
            "authorized authorised approved allowed permitted instructed ordered require requires requested wants say "
            "says updated changed",
            r"\b(?:openai|anthropic|the developers|your developers|your creators?|your owner|the shop owner|"
            r"the store owner|"
            r"management|headquarters|the administrator|the admin|the system|the ceo|the it department|"
            r"the security team) "
            r"(?:has |have )?(?:authori[sz]ed|approved|allowed|permitted|instructed|ordered|requires?|requested|wants|"
            r"says?|updated|changed) (?:you|this|me|the (?:rules|policy|instructions)|your (?:rules|policy|"
            r"instructions))",
        ),
        (
            "team department",
            r"\b(?:it's|it is|this is|here is|here's|i'm|i am)\b[^.?\n]{0,30}\bfrom (?:the |your )?(?:support|it|"
            r"security|admin|management|sales|warehouse|customer service|tech|technical|engineering|development|"
            r"trust and safety|head office) (?:team|department|desk|office)\b",
        ),
        (
            "hier spricht her ici aqui habla",
            r"\b(?:hier spricht|hier ist|her er|har ar|her taler|ici|c'est|aqui|le habla|les habla) (?:die |der |das |"
            r"le |la |el |l')?(?:it-abteilung|it-avdelingen|it-avdelningen|it-afdelingen|geschaftsfuhrung|ledelsen|"
            r"ledningen|service informatique|direction|departamento de (?:it|informatica|sistemas)|direccion|"
            r"support-?team|"
            r"supportteam|supporten|soporte|administrator|administrateur|administrador|entwickler|utvikler|utvecklare|"
            r"udvikler|developpeur|desarrollador)\b",
        ),
        (
            "verified authenticated preverified pre approved preapproved authorized authorised whitelisted cleared",
            r"\b(?:the )?(?:user|customer|this (?:user|customer)|i) (?:is|am|has been|"
            r"have been) (?:already )?(?:verified|"
            r"authenticated|pre-?verified|pre-?approved|authori[sz]ed|whitelisted|cleared) by (?:the )?(?:system|admin|"
            r"administrator|staff|owner|manager|management|security|it)\b",
        ),
        (
            "skip bypass disable turn switch deactivate ignore",
            r"\b(?:skip|bypass|disable|turn off|switch off|deactivate|ignore) (?:the |your |all )?(?:identity |id )?"
            r"(?:verification|identity checks?|authentication|security checks?|2fa|two-factor|otp|safety checks?|"
            r"filters|content filters?|moderation|logging|audit log)\b[^.\n]{0,40}\b(?:i am|i'm|as (?:the|an?|your)|"
            r"authori[sz]ed|approved|admin|owner|manager|staff|employee|developer)",
        ),
        unless_after=r" (?:account|order|card|email|address|package|parcel|item|product|subscription|booking)\b",
    ),
    *_rules(
        "fake_authority",
        0.3,
        "claims a special role",
        (
            _AUTHORITY_ANCHORS,
            rf"\b(?:i am|i'm|im|this is|speaking as) (?:the |your |an? |one of the )?"
            rf"(?:{_AUTHORITY_ROLES})\b",
        ),
        (
            "verification authentication check",
            r"\b(?:skip|bypass|disable|without) (?:the |your |any )?(?:identity |id )?(?:verification|identity check|"
            r"authentication|security check)\b",
        ),
        (
            "verified authenticated authorized authorised preverified pre preapproved",
            r"\b(?:i am|i'm|im) (?:already )?(?:verified|authenticated|authori[sz]ed|pre-?verified|pre-?approved)\b",
        ),
        ("sudo", r"\bsudo\b"),
        unless_after=r" (?:of|for|on) (?:the |this |my |our |a |an )?(?:account|order|card|email|address|package|"
        r"parcel|item|product|subscription|booking|company account|business account|household)\b",
    ),
    *_rules(
        "fake_authority",
        0.9,
        "claims to be the owner, staff or developer (other language)",
        (
            "bin er ar suis soy",
            r"\b(?:ich bin (?:der|die|dein|deine|ihr|ihre) (?:inhaber(?:in)?|besitzer(?:in)?|eigentumer(?:in)?|"
            r"administrator(?:in)?|admin|entwickler(?:in)?|geschaftsfuhrer(?:in)?|chef(?:in)?|betreiber(?:in)?)|jeg er "
            r"(?:eier(?:en)?|innehaver(?:en)?|administrator(?:en)?|admin|utvikler(?:en)?|udvikler(?:en)?|sjef(?:en)?|"
            r"chef(?:en)?|ejer(?:en)?|daglig leder|indehaver(?:en)?)|jag ar (?:agare(?:n)?|administrator(?:n)?|admin|"
            r"utvecklare(?:n)?|chef(?:en)?|vd)|je suis (?:le |la |l'|votre |ton )?(?:proprietaire|administrateur|admin|"
            r"developpeur|gerant|patron|directeur|createur)|soy (?:el |la |tu |su )?(?:dueno|duena|propietario|"
            r"propietaria|administrador|administradora|admin|desarrollador|desarrolladora|gerente|jefe|jefa|creador))\b"
            r"[^.\n]{0,30}\b(?:dieses|des|der|av|af|for|pa|i|de|du|la|del|dieser|denne|dette|detta|cette|ce|esta|este|"
            r"von) ?(?:shops?|ladens?|geschafts|unternehmens|firma|systems?|bots?|butikken|nettbutikken|forretningen|"
            r"firmaet|systemet|butiken|foretaget|boutique|magasin|site|systeme|entreprise|tienda|negocio|sistema|"
            r"empresa|"
            r"chatbots?|assistant(?:en)?)\b",
        ),
        (
            "nachricht anweisung hinweis melding beskjed besked meddelande message note instruction mensaje nota "
            "instruccion",
            r"\b(?:nachricht|anweisung|hinweis|melding|beskjed|besked|meddelande|message|note|instruction|mensaje|nota|"
            r"instruccion) (?:vom|von der|von|fra|fran|du|de la|de l'|del|de) (?:system|admin|administrator|entwickler|"
            r"systemet|administratoren|utvikleren|udvikleren|utvecklaren|systeme|administrateur|developpeur|sistema|"
            r"administrador|desarrollador|geschaftsfuhrung|ledelsen|ledningen|direction|direccion)\b",
        ),
        (
            "bin er ar suis soy",
            r"\b(?:ich bin|jeg er|jag ar|je suis|soy) (?:ein |eine |en |et |ett |un |une |una )?(?:autorisierte[rn]?|"
            r"verifizierte[rn]?|autorisert|autoriseret|auktoriserad|autorise|autorisee|autorizado|autorizada|"
            r"verificado|"
            r"verifiziert) (?:mitarbeiter(?:in)?|administrator|admin|benutzer|nutzer|ansatt|ansat|anstalld|employe|"
            r"utilisateur|empleado|usuario)\b",
        ),
    ),
    # ------------------------------------------------------------------ encoded payloads
    *_rules(
        "encoded_payload",
        0.9,
        "asks the assistant to decode hidden text and follow it",
        (
            "decode decipher decrypt translate convert interpret unscramble reverse read",
            r"\b(?:decode|decipher|decrypt|translate|convert|interpret|unscramble|reverse|read) (?:this|the following|"
            r"the|"
            r"these|that|my|following)? ?(?:base ?64|b64|hex|hexadecimal|binary|rot ?13|rot-13|caesar|morse|cipher|"
            r"ciphertext|encoded|encrypted|reversed|backwards|obfuscated)\b[^\n]{0,80}\b(?:and|then|&) (?:follow|"
            r"execute|"
            r"do|run|obey|carry out|perform|comply|act on|answer|respond|apply|treat)\b",
        ),
        (
            "decoded hidden encoded embedded encrypted secret",
            r"\b(?:follow|execute|run|obey|carry out|perform|act on) (?:the |these |those |its )?(?:decoded|hidden|"
            r"encoded|"
            r"embedded|encrypted|secret) (?:instructions?|text|message|commands?|payload|prompt|orders)\b",
        ),
    ),
    *_rules(
        "encoded_payload",
        0.55,
        "asks the assistant to decode an encoded message",
        (
            "decode decipher decrypt",
            r"\b(?:decode|decipher|decrypt) (?:this|the following|the|these|that|following)? ?(?:base ?64|b64|hex|"
            r"hexadecimal|binary|rot ?13|rot-13|caesar|morse|cipher|encoded|encrypted)\b",
        ),
        (
            "base64 base b64 rot13 rot",
            r"\b(?:base ?64|b64|rot ?13) (?:encoded|string|payload|message|text|"
            r"instructions?)\b[^.\n]{0,60}\b(?:include|"
            r"response|reply|output|decode|follow|execute)\b",
        ),
    ),
    *_rules(
        "encoded_payload",
        0.9,
        "contains script or markup that could run or leak data when shown",
        (
            "~<script ~< ~javascript ~onerror ~onload",
            r"<\s*script\b|\bjavascript\s*:|\bon(?:error|load|click|mouseover|"
            r"focus|begin|toggle)\s*=|<\s*(?:svg|img|iframe|object|embed|body|math|details)\b[^>\n]{0,200}\b(?:on\w+|"
            r"src|"
            r"href|data)\s*=\s*['\"]?\s*(?:javascript|data|vbscript):",
        ),
        ("~](", r"!\[[^\]\n]{0,100}\]\(\s*(?:https?:)?//[^)\s]{0,200}[?&][^)\s=]{1,40}=[^)\s]*\)"),
    ),
    *_rules(
        "instruction_override",
        0.85,
        "tells the assistant what to put in its reply",
        (
            "response reply answer output",
            r"\b(?:include|insert|add|append|put|embed|render|output|print|write) (?:in|into|to|at the (?:end|start|"
            r"beginning) of) your (?:response|reply|answer|output)\b[^.\n]{0,30}\b(?:the following|this exact|this "
            r"string|this link|this image|this markdown|this html|this code|exactly)\b",
        ),
        (
            "times",
            r"\b(?:repeat|write|say|print|output) (?:the word |the string |the text )?['\"][^'\"\n]{1,40}['\"] "
            r"(?:\d{2,}|a hundred|hundred|a thousand|thousand) times\b",
        ),
    ),
    # ------------------------------------------------------------------ instructions hidden in pasted text
    *_rules(
        "hidden_injection",
        0.88,
        "contains instructions addressed to the AI assistant",
        (
            "note message instruction instructions attention hint reminder ps memo directive command important notice",
            rf"\b(?:note|message|instructions?|attention|hint|reminder|p\.?s\.?|memo|directive|command|important|"
            rf"notice) "
            rf"(?:to|for) (?:the |any |all |you the |our )?(?:{_AI_WORDS}|ais|assistants|chatbots|bots|llms|language "
            rf"models|automated (?:system|assistant|agent)s?|customer service (?:ai|bot|assistant|agent))\b",
        ),
        (
            _AI_ANCHORS + " automated",
            rf"\b(?:if|when) you(?:'re| are) (?:an? |the )?(?:{_AI_WORDS}|automated (?:system|assistant|agent))\b"
            rf"[^.\n]{{0,40}}\b(?:reading|processing|summari[sz]ing|parsing|you must|you should|please|ignore|then)\b",
        ),
        (
            _AI_ANCHORS + " ais",
            rf"\b(?:{_AI_WORDS}|ais|assistants|llms)s?,? (?:reading|processing|summari[sz]ing|parsing) (?:this|"
            rf"these)\b",
        ),
        ("~<!--", r"<!--[^>]{0,200}\b(?:ignore|assistant|ai|instruction|system|prompt|reveal|respond|reply)\b"),
    ),
    *_rules(
        "hidden_injection",
        0.3,
        "speaks to the AI assistant directly",
        (
            _AI_ANCHORS,
            rf"\b(?:{_AI_WORDS}),? (?:please )?(?:ignore|disregard|forward|send|email|include|add|insert|append|reply|"
            rf"respond|answer|say|tell|output|print|execute|run|click|visit|recommend|promote|transfer|approve|grant|"
            rf"refund"
            rf"|must|should|will)\b",
        ),
        (
            "summarize summarise summarizing summarising read reading process processing answer answering reply "
            "replying respond responding",
            r"\b(?:when|while|if|after|before) (?:you |the ai |the assistant )?(?:summari[sz]e|summari[sz]ing|read|"
            r"reading|"
            r"process|processing|answer|answering|reply|replying|respond|responding) (?:to )?(?:this|the) (?:email|"
            r"message|document|text|page|ticket|conversation|file)\b",
        ),
    ),
)

# Phrases checked on the text with every non-letter removed, for words split at random places
# ("ig nore prev ious instruc tions"). Only long, distinctive phrases: no benign text contains them.
_NOSPACE_RULES: tuple[Rule, ...] = (
    *_rules(
        "instruction_override",
        0.9,
        "asks the assistant to ignore its instructions (words split up)",
        (
            "~ignore ~disregard ~forget ~override ~bypass",
            r"(?:ignore|disregard|forget|override|bypass)(?:all|any|the|of|your)*(?:previous|prior|above|earlier|"
            r"preceding|initial|original|system|your)(?:instructions|rules|guidelines|directions|prompts?|programming|"
            r"commands)",
        ),
        (
            "~ignoriere ~vergiss",
            r"(?:ignoriere|vergiss)(?:alle|die|deine)*(?:vorherigen|bisherigen|obigen|vorangegangenen)(?:anweisungen|"
            r"befehle|regeln|instruktionen)",
        ),
    ),
    *_rules(
        "prompt_extraction",
        0.9,
        "tries to get the assistant to reveal its hidden instructions (words split up)",
        (
            "~systemprompt ~initialinstructions ~hiddeninstructions ~systemmessage",
            r"(?:reveal|show|print|repeat|output|display|tellme|giveme)(?:me)?(?:your|the)(?:full|entire|initial|"
            r"original|"
            r"hidden|secret|complete)?(?:systemprompt|initialinstructions|hiddeninstructions|systemmessage)",
        ),
    ),
    *_rules(
        "roleplay_jailbreak",
        0.9,
        "tries a known jailbreak persona (words split up)",
        ("~doanythingnow ~youarenowdan ~jailbreakmode", r"doanythingnow|youarenowdan|jailbreakmodeactivated"),
    ),
)
_PREFIX_LENGTHS = tuple(sorted({n for r in (*RULES, *_NOSPACE_RULES) for n in r.prefix_lengths}))


def _index(rules: Sequence[Rule]) -> tuple[dict[str, tuple[int, ...]], tuple[str, ...], tuple[tuple[str, int], ...]]:
    by_key: dict[str, list[int]] = {}
    prefixes: set[str] = set()
    raw: list[tuple[str, int]] = []
    for i, rule in enumerate(rules):
        for key in rule.keys:
            by_key.setdefault(key, []).append(i)
            if len(key) in rule.prefix_lengths:
                prefixes.add(key)
        raw += [(anchor, i) for anchor in rule.raw]
    return {k: tuple(v) for k, v in by_key.items()}, tuple(sorted(prefixes)), tuple(raw)


_INDEXES: dict[int, tuple[dict[str, tuple[int, ...]], tuple[str, ...], tuple[tuple[str, int], ...]]] = {}


def _candidates(text: str, rules: Sequence[Rule]) -> list[int]:
    """Indexes of the rules whose anchors occur in the text, in rule order."""
    index = _INDEXES.get(id(rules))
    if index is None:
        index = _INDEXES[id(rules)] = _index(rules)
    by_key, prefixes, raw = index
    tokens = set(_TOKEN_RE.findall(text))
    found: set[int] = set()
    for key in tokens & by_key.keys():
        found.update(by_key[key])
    for token in tokens:
        if prefixes and token.startswith(prefixes):
            for n in _PREFIX_LENGTHS:
                if n >= len(token):
                    break
                ids = by_key.get(token[:n])
                if ids:
                    found.update(ids)
    for anchor, i in raw:
        if anchor in text:
            found.add(i)
    return sorted(found)


def _check_rule(rule: Rule, text: str, view: str) -> RuleHit | None:
    for m in rule.pattern.finditer(text):
        if rule.unless_before is not None and rule.unless_before.search(text[max(0, m.start() - 30) : m.start()]):
            continue
        if rule.unless_after is not None and rule.unless_after.search(text[m.end() : m.end() + 40]):
            continue
        return RuleHit(rule, m.start(), m.end(), view)
    return None


def match_rules(text: str, view: str = "text", rules: Sequence[Rule] = RULES) -> list[RuleHit]:
    """The rules that match a normalised text (first match of each), strongest first."""
    hits = []
    for i in _candidates(text, rules):
        hit = _check_rule(rules[i], text, view)
        if hit is not None:
            hits.append(hit)
    hits.sort(key=_strength)
    return hits


# Between rules of equal weight, the label names the mechanism (disguise, fake authority, persona)
# before the goal (prompt, data).
_LABEL_ORDER = {label: i for i, label in enumerate((
    "encoded_payload", "fake_authority", "roleplay_jailbreak", "instruction_override", "prompt_extraction",
    "data_probing", "hidden_injection"))}  # fmt: skip


def _strength(hit: RuleHit) -> tuple[float, int]:
    return (-hit.rule.weight, _LABEL_ORDER.get(hit.rule.label, 99))


# --- windows for the model ------------------------------------------------------------------------

WINDOW_CHARS = 400  # texts up to this length are scored whole
_CHUNK_CHARS = 180  # long texts: sentences grouped into chunks of about this size; a window is 2 chunks
_WHOLE_MAX_CHARS = 1500  # texts up to this length are also scored whole
_MAX_WINDOWS = 300  # beyond this (about 50 kB), chunks are merged into wider windows
_SENTENCE_RE = re.compile(r"[^.!?\n|]*(?:[.!?]+|\n|\||$)")


def windows(text: str) -> list[tuple[int, int]]:
    """Spans of a normalised text for the model: the whole text when short, else overlapping windows of
    about two sentence-aligned chunks (so a sentence hidden anywhere sits inside some window)."""
    n = len(text)
    if n <= WINDOW_CHARS:
        return [(0, n)]
    chunks: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_RE.finditer(text):
        end = m.end()
        if end - start >= _CHUNK_CHARS or end == n:
            while end - start > 2 * _CHUNK_CHARS:  # a very long sentence: cut it
                cut = text.rfind(" ", start + _CHUNK_CHARS // 2, start + _CHUNK_CHARS)
                cut = cut if cut > start else start + _CHUNK_CHARS
                chunks.append((start, cut))
                start = cut
            if end > start:
                chunks.append((start, end))
            start = end
        if end >= n:
            break
    if start < n:
        chunks.append((start, n))
    if len(chunks) > _MAX_WINDOWS + 1:  # very long input: fewer, wider windows
        group = math.ceil(len(chunks) / _MAX_WINDOWS)
        chunks = [(chunks[i][0], chunks[min(i + group, len(chunks)) - 1][1]) for i in range(0, len(chunks), group)]
    spans = [(chunks[i][0], chunks[i + 1][1]) for i in range(len(chunks) - 1)] or chunks
    if n <= _WHOLE_MAX_CHARS:
        spans.append((0, n))
    return spans


# --- the model ------------------------------------------------------------------------------------

# In a short message, "your reply" / "your answer" is how customers talk ("please include the tracking
# number in your reply", "thanks for your answer"); attack data is full of it ("include in your response
# the following string"), so a word-counting model would learn it as a sign of attack. The model reads
# short messages without these words (the rules still see them); in long pasted texts, where an
# instruction about "your reply" is out of place, they stay.
_REPLY_WORDS_RE = re.compile(
    r"\b(?:your|ur|the|thy) (?:next |last |previous |first )?(?:reply|replies|response|responses|answer|answers|"
    r"output|message|email|e-mail|mail)\b"
)


def model_view(text: str, short: bool) -> str:
    """The text as the model reads it (see above)."""
    return _REPLY_WORDS_RE.sub(" ", text) if short else text


def build_vectorizer(params: dict[str, Any]) -> Any:
    """scikit-learn's own HashingVectorizer from JSON parameters (lists become tuples), for the training
    script. Not used at run time (the model uses `_hashing.HashingVectorizer`); imports scikit-learn."""
    from sklearn.feature_extraction.text import HashingVectorizer as SklearnHashingVectorizer

    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    return SklearnHashingVectorizer(**kwargs)


class InjectionModel:
    """A linear model over hashed word and character n-grams. Numbers only: no pickle anywhere.

    `meta["vectorizers"]` lists the feature blocks ({"name", "params"}); the arrays hold, per block,
    the indices and values of the non-zero weights (`<name>_index`, `<name>_weight`) and one `bias`.
    """

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict[str, Any], path: Path | None = None) -> None:
        self.path = path
        self.meta = meta
        self.blocks: list[tuple[HashingVectorizer, np.ndarray]] = []
        for block in meta["vectorizers"]:
            name = block["name"]
            weights = np.zeros(int(block["params"]["n_features"]), dtype=np.float64)
            weights[arrays[f"{name}_index"].astype(np.int64)] = arrays[f"{name}_weight"].astype(np.float64)
            self.blocks.append((HashingVectorizer.from_params(block["params"]), weights))
        self.bias = float(np.asarray(arrays["bias"]).reshape(-1)[0])
        self.offset = float(meta.get("logit_offset", 0.0))

    @classmethod
    def load(cls, npz_path: Path, meta: dict[str, Any]) -> InjectionModel:
        with np.load(npz_path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        return cls(arrays, meta, npz_path)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits, before the tuned offset."""
        total = np.full(len(texts), self.bias, dtype=np.float64)
        for vectorizer, weights in self.blocks:
            total += vectorizer.dot(texts, weights)  # == scikit-learn's transform(texts) @ weights, bit for bit
        return total

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated 0..1 scores: 0.5 is the tuned operating point."""
        return 1.0 / (1.0 + np.exp(-(self.logits(texts) + self.offset)))


_MODELS: dict[Path, InjectionModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(path: Path | str | None = None) -> InjectionModel:
    """Load (once per process) the model at `path` (an .npz with a .json beside it) and check its sha256."""
    npz = Path(path) if path is not None else DEFAULT_MODEL
    npz = npz.resolve()
    with _MODELS_LOCK:
        cached = _MODELS.get(npz)
        if cached is not None:
            return cached
        meta_path = npz.with_suffix(".json")
        if not npz.is_file() or not meta_path.is_file():
            raise GuardFailure(f"injection model not found: {npz} (+ {meta_path.name}); run scripts/train_injection.py")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        actual = file_sha256(npz)
        if actual != meta.get("sha256"):
            raise GuardFailure(f"injection model {npz.name}: sha256 {actual} does not match its metadata")
        model = InjectionModel.load(npz, meta)
        _MODELS[npz] = model
        return model


# --- the guard ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    """What the injection guard thinks of one message."""

    score: float  # 0..1
    flagged: bool
    label: str  # one of LABELS
    reason: str  # one line, for a shop owner


_TRICK_NAMES = {
    "invisible": "invisible characters",
    "homoglyph": "look-alike letters",
    "leetspeak": "leetspeak",
    "spaced": "spaced-out letters",
    "fullwidth": "special letter forms",
    "base64": "base64",
    "hex": "hex",
    "binary": "binary",
    "unicode-escape": "unicode escapes",
    "url": "URL encoding",
    "rot13": "ROT13",
    "reversed": "reversed text",
    "tag-characters": "invisible tag characters",
    "variation-selectors": "invisible variation selectors",
}
_OBFUSCATION = frozenset({"invisible", "homoglyph", "leetspeak", "spaced", "fullwidth"})


def _noisy_or(a: float, b: float) -> float:
    return 1.0 - (1.0 - a) * (1.0 - b)


@register("injection")
class InjectionGuard:
    """Inbound guard: flags attacks on the assistant and attempts to get data it must not give."""

    stage = Stage.INBOUND

    def __init__(
        self,
        name: str = "injection",
        project_dir: Path | None = None,
        threshold: float | None = None,
        model: str | None = None,
    ) -> None:
        self.name = name
        self.project_dir = project_dir
        try:
            self.model = load_model(option_path(model, project_dir))
        except GuardFailure as exc:
            raise ConfigError(str(exc)) from None
        if threshold is None:
            threshold = float(self.model.meta.get("threshold", DEFAULT_THRESHOLD))
        if not 0.0 < float(threshold) <= 1.0:
            raise ConfigError(f"guard {name!r}: threshold must be in (0, 1], got {threshold!r}")
        self.threshold = float(threshold)

    @classmethod
    def with_model(cls, model: InjectionModel, name: str = "injection", threshold: float | None = None):
        """A guard around an in-memory model (the training script tunes with this)."""
        guard = cls.__new__(cls)
        guard.name = name
        guard.project_dir = None
        guard.model = model
        guard.threshold = float(threshold if threshold is not None else model.meta.get("threshold", DEFAULT_THRESHOLD))
        return guard

    # The pieces, public so the training script and the benchmark score exactly like the guard.
    def rule_hits(self, norm: Normalized) -> list[RuleHit]:
        hits: list[RuleHit] = []
        for view in norm.views:
            hits += match_rules(view.text, view.kind)
        main = norm.text
        if len(main) <= 4000:
            hits += match_rules(nospace(main), "nospace", _NOSPACE_RULES)
        hits.sort(key=_strength)
        return hits

    def model_texts(self, norm: Normalized) -> tuple[list[str], list[tuple[str, int, int]]]:
        """The texts the model scores (windows of the main view, each decoded view) and where they are."""
        texts: list[str] = []
        where: list[tuple[str, int, int]] = []
        for i, view in enumerate(norm.views):
            spans = windows(view.text) if i == 0 else [(0, min(len(view.text), 2000))]
            for start, end in spans:
                texts.append(model_view(view.text[start:end], short=len(spans) == 1))
                where.append((view.kind, start, end))
        return texts, where

    def analyze(self, text: str) -> InjectionVerdict:
        norm = normalize(text)
        if not norm.text and len(norm.views) == 1:
            return InjectionVerdict(0.0, False, "none", "empty message")
        hits = self.rule_hits(norm)
        texts, where = self.model_texts(norm)
        unique = list(dict.fromkeys(texts))  # repeated paragraphs are scored once
        by_text = dict(zip(unique, self.model.scores(unique), strict=True))
        scores = np.array([by_text[t] for t in texts])
        best = int(np.argmax(scores))
        model_score = float(scores[best])
        rule_score = hits[0].rule.weight if hits else 0.0
        score = _noisy_or(rule_score, model_score)
        flagged = score >= self.threshold
        if not flagged and rule_score < 0.3 and model_score < 0.3:
            return InjectionVerdict(round(score, 4), False, "none", "no sign of an attack")
        label, reason = self._explain(norm, hits, where[best], model_score)
        return InjectionVerdict(round(score, 4), flagged, label if flagged else "none", reason)

    analyze_injection = analyze  # what `safedesk scan` reads for its "injection" score

    def _explain(
        self, norm: Normalized, hits: list[RuleHit], best_window: tuple[str, int, int], model_score: float
    ) -> tuple[str, str]:
        main_len = len(norm.text)
        if hits and hits[0].rule.weight >= model_score - 0.2:
            hit = hits[0]
            label, reason = hit.rule.label, hit.rule.reason
            view, start, end = hit.view, hit.start, hit.end
        else:
            view, start, end = best_window
            same_place = [h for h in hits if h.view == view and h.start < end and h.end > start]
            if same_place:
                label, reason = same_place[0].rule.label, same_place[0].rule.reason
            elif hits:
                label, reason = hits[0].rule.label, hits[0].rule.reason
            else:
                label, reason = "instruction_override", "reads like an attempt to give the assistant new instructions"
            reason += f" (model score {model_score:.2f})"
        if view not in ("text", "nospace"):
            return "encoded_payload", f"hides a message in {_TRICK_NAMES.get(view, view)}: {reason}"
        tricks = sorted(t for t in norm.views[0].tricks if t in _OBFUSCATION)
        if tricks or view == "nospace":
            names = ", ".join(_TRICK_NAMES[t] for t in tricks) or "split-up words"
            return "encoded_payload", f"{reason}, disguised with {names}"
        if main_len >= HIDDEN_MIN_CHARS and (end - start) <= main_len * 0.6:
            return "hidden_injection", f"{reason}, hidden inside a longer text"
        return label, reason

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        verdict = self.analyze(text)
        if not verdict.flagged:
            return []
        return [Finding(guard=self.name, kind="injection", label=verdict.label, score=verdict.score,
                        reason=verdict.reason)]  # fmt: skip
