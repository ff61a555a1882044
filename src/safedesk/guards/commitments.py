"""Commitments guard: promises and statements only a person may make are held for staff.

Labels: `refund` (refunds, money back, returns outside policy), `discount` (discounts, coupon
codes), `compensation` (vouchers, gift cards, credits, waived fees), `price_match`, `guarantee`
(delivery guarantees, "I promise"), `legal` (liability, admissions, legal entitlements, laws) and
`action_claim` (claims of actions the assistant cannot perform: "I have cancelled your order",
"your password has been reset", "I'll change the address").

The line between a commitment and a policy statement is grammar: "Refunds are issued to the original
payment method" or "We refund the purchase within 14 days" describe policy; "I'll refund you", "you will
get your money back" and "your refund has been approved" promise something to this customer. So most
patterns need a first person with a future or perfect tense, or a second person receiving something.
Three more rules keep honest answers out:

- a sentence copied (near-)verbatim from a public source of this reply is published policy, not a
  promise (a compromised responder gains nothing by copying published policy);
- "you get 10% off ..." is a restatement when the public sources state that same discount;
- a negation in the same clause ("I can't promise", "we are not able to refund") cancels a match.

English, plus basic Norwegian, Swedish and German. A draft longer than `max_chars` (default 20,000) is
held as `too_long` without a scan: no customer-service reply is that long, and the check stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from safedesk.domain import Finding, KnowledgeChunk, Stage
from safedesk.guards._outbound_text import (
    expand_contractions,
    extract,
    normalize,
    quantity_in,
    sentences,
    shingles,
    words,
)
from safedesk.guards.base import GuardContext, register

# ---- building blocks ----------------------------------------------------------------------------

_I_WE = r"\b(?:i|we)"
_AUX_FUT = (
    r"(?:'ll|\s+will|\s+shall|\s+am going to|'m going to|\s+are going to|'re going to|\s+can|\s+could|"
    r"\s+would|'d|\s+(?:am|are)\s+(?:happy|glad|able|pleased)\s+to|'(?:m|re)\s+(?:happy|glad|able|pleased)\s+to|"
    r"\s+(?:have|'ve)\s+decided\s+to|'ve\s+decided\s+to|\s+want\s+to|\s+would\s+like\s+to|'d\s+like\s+to|"
    r"'ll\s+be\s+(?:happy|glad)\s+to|\s+will\s+be\s+(?:happy|glad)\s+to|\s+(?:am|are)\s+going\s+to)"
)
_AUX_PERF = r"(?:'ve|\s+have|\s+had)"
_ADV = (
    r"(?:\s+(?:now|just|already|also|gladly|happily|personally|definitely|certainly|immediately|right away|"
    r"go ahead and|gone ahead and|went ahead and|then|successfully|kindly|quickly|of course|still|even))*"
)
_MONEY = r"(?<![\d.,])\d+(?:[.,]\d+)?\s?(?:nok|kr|kroner|eur|euro|€|sek|dkk|,-)"
_PCT = r"(?<![\d.,])\d+(?:[.,]\d+)?\s?(?:%|percent|per cent|prosent|procent|prozent)"
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mandag|tirsdag|onsdag|torsdag|fredag|"
    r"lørdag|søndag|måndag|tisdag|lördag|söndag|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag"
)
_PAST = (
    r"changed|cancell?ed|reset|updated|refunded|sent|re-?sent|emailed|e-mailed|texted|issued|processed|booked|"
    r"scheduled|rescheduled|arranged|applied|credited|deleted|removed|erased|added|upgraded|modified|"
    r"reactivated|activated|deactivated|unlocked|unblocked|blocked|verified|confirmed|approved|placed|ordered|"
    r"shipped|dispatched|redirected|rerouted|corrected|fixed|restored|extended|waived|submitted|registered|"
    r"closed|filed|contacted|called|notified|transferred|moved|checked|looked up|looked into|reviewed|"
    r"adjusted|replaced|reversed|voided|released|expedited|escalated|forwarded|flagged|reserved|cleared|"
    r"paid|granted|authori[sz]ed|initiated|opened|created|set up|switched|recovered|sorted out|sorted|"
    r"handled|taken care of|reimbursed|compensated|discounted|matched|honou?red|unsubscribed|subscribed"
)
_BASE = (
    r"change|cancel|reset|update|refund|send|resend|e-?mail|text|issue|process|book|schedule|reschedule|"
    r"arrange|apply|credit|delete|remove|erase|upgrade|modify|reactivate|activate|deactivate|unlock|unblock|"
    r"block|verify|confirm|approve|place|order|ship|dispatch|redirect|reroute|correct|fix|restore|extend|"
    r"waive|submit|register|close|contact|call|notify|transfer|move|adjust|replace|reverse|void|release|"
    r"expedite|reserve|clear|pay|grant|authori[sz]e|initiate|switch|recover|sort out|take care of|"
    r"(?:check|look up|look into|review) your|add (?:a|an|the|your|\d)|reimburse|compensate|unsubscribe"
)
_OBJECTS = (
    r"order|password|account|address|e-?mail(?: address)?|phone(?: number)?|subscription|booking|reservation|"
    r"payment|card|refund|return|delivery|parcel|package|shipment|details|invoice|profile|membership|item|"
    r"exchange|complaint|claim|case|request|rental|money|credit|discount|voucher|gift card|price|fee|charge|"
    r"bestilling\w*|passord\w*|konto\w*|adresse\w*|beställning\w*|lösenord\w*|bestellung|passwort|konto"
)


@dataclass(frozen=True, slots=True)
class _Rule:
    label: str
    pattern: re.Pattern[str]
    score: float
    what: str
    restatement_ok: bool = False  # a restatement of a discount/time the sources publish is not a promise
    skip_conditional: bool = False  # "after we have checked your return" describes a process


def _r(label: str, pattern: str, what: str, score: float = 0.9, **kw: bool) -> _Rule:
    return _Rule(label, re.compile(pattern, re.IGNORECASE), score, what, **kw)


_RULES: tuple[_Rule, ...] = (
    # -- refunds and returns outside policy --------------------------------------------------------------
    _r(
        "refund",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:refund(?:ed)?|reimburs\w*|pa(?:y|id) you back|"
        r"(?:give|issue|process|approve|initiate|arrange|send|grant|authori[sz]e)[ds]?(?:ed)?\s+(?:you\s+)?(?:a\s+"
        r"|the\s+|your\s+)?"
        r"(?:full\s+|partial\s+|complete\s+)?refund|send\s+(?:you\s+)?(?:the\s+|your\s+)?money\s+back|"
        r"return\s+(?:the\s+|your\s+)money|credit\s+(?:you|your|the\s+money|it\s+back))",
        "promises a refund",
        skip_conditional=True,
    ),
    _r(
        "refund",
        rf"{_I_WE}{_ADV}\s+(?:refunded|reimbursed|(?:issued|processed|approved|initiated)\s+(?:you\s+)?"
        r"(?:a\s+|the\s+|your\s+)?(?:full\s+|partial\s+)?refund)",
        "claims a refund was made",
    ),
    _r(
        "refund",
        r"\byou(?:'ll|\s+will|\s+are going to|'re going to|\s+shall|\s+are sure to)\s+(?:also\s+"
        r"|definitely\s+|"
        r"certainly\s+|still\s+)*(?:get|receive|be given|be sent|be paid|be refunded|be reimbursed|see|have)\b"
        rf"[^.!?\n]{{0,30}}?(?:\brefund|\bmoney back|\byour money|\breimburs|{_MONEY})",
        "tells the customer they will get money back",
    ),
    _r(
        "refund",
        r"\byou(?:'ll|\s+will|\s+are\s+going\s+to|'re\s+going\s+to|\s+shall)\s+(?:also\s+|definitely\s+|still\s+)*"
        r"(?:get|receive|have)\s+(?:it\s+all|all\s+of\s+it|everything|every\s+(?:krone|kr|øre|cent|euro|penny)|"
        r"the\s+(?:full\s+|whole\s+|entire\s+)?(?:amount|sum|price)|(?:your|the)\s+\w+)\s+back\b",
        "tells the customer they will get money back",
    ),
    _r(
        "refund",
        r"\b(?:your|the|a)\s+(?:full\s+|partial\s+)?refund\b(?:\s+of\s+[^.!?\n]{1,20}?)?\s+"
        r"(?:has\s+(?:now\s+|already\s+)?been|was|is\s+being|is\s+now|is)\s+(?:approved|processed|issued|sent|initiated|"
        r"granted|on\s+(?:its|the)\s+way|arranged|confirmed|completed|authori[sz]ed)",
        "says a refund is approved",
    ),
    _r(
        "refund",
        r"\brefund\s+(?:request\s+)?(?:approved|granted|confirmed|authori[sz]ed)\b",
        "says a refund is approved",
    ),
    _r(
        "refund",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:make\s+an\s+exception|accept(?:ed)?\s+(?:your|the"
        rf"|this|a)\s+"
        r"(?:late\s+)?return|take\s+(?:it|them|the\s+[\w-]+|your\s+[\w-]+)\s+back|extend(?:ed)?\s+(?:the"
        r"|your)\s+return)",
        "accepts a return outside the policy",
    ),
    _r(
        "refund",
        r"\b(?:you\s+can\s+still\s+return|as\s+an\s+exception)\b[^.!?\n]{0,80}?\b(?:even\s+though|although|"
        r"despite|even\s+after|outside|beyond|past|after\s+the|refund|return)",
        "accepts a return outside the policy",
    ),
    _r(
        "refund",
        r"\bjeg\s+(?:har\s+|skal\s+|vil\s+|kan\s+)?(?:refundert|refunderer|refundere|tilbakebetalt"
        r"|betalt\s+tilbake)"
        r"|\bvi\s+(?:har|skal|vil|kan)\s+(?:refundert|refundere|tilbakebetale|tilbakebetalt|betale\s+tilbake)"
        r"|\bdu\s+(?:vil\s+|skal\s+|kommer\s+til\s+å\s+)?få(?:r)?\s+(?:pengene\s+(?:dine\s+)?tilbake|refusjon"
        r"|hele\s+beløpet)"
        r"|\bjag\s+(?:har\s+|ska\s+|kommer\s+att\s+)?(?:återbetalat|återbetala|återbetalar)"
        r"|\bdu\s+(?:kommer\s+att\s+)?få(?:r)?\s+(?:pengarna\s+tillbaka|återbetalning|tillbaka\s+pengarna)"
        r"|\b(?:ich|wir)\s+(?:habe|haben|werde|werden)\b[^.!?\n]{0,40}?\b(?:erstattet|erstatten|rückerstattet|"
        r"zurückerstattet|zurückerstatten|zurücküberwiesen|gutgeschrieben)"
        r"|\bsie\s+(?:bekommen|erhalten)\s+(?:ihr\s+geld|eine\s+(?:volle\s+|vollständige\s+)?(?:rück)?erstattung|"
        r"den\s+(?:vollen\s+)?betrag)",
        "promises a refund",
    ),
    # -- discounts and codes ----------------------------------------------------------------------------
    _r(
        "discount",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:give|offer|apply|add|grant|send|provide|extend|take|"
        rf"knock)(?:n|d|ed|s)?\b[^.!?\n]{{0,40}}?(?:{_PCT}|{_MONEY}\s+off|\bdiscount|\bcoupon|\bpromo(?:tion"
        rf"(?:al)?)?\s+code|"
        r"\bvoucher\s+code|\brebate|\bprice\s+reduction|\brabatt)",
        "offers a discount",
    ),
    _r(
        "discount",
        rf"{_I_WE}{_ADV}\s+(?:give|offer|grant|send)s?\s+you\b[^.!?\n]{{0,40}}?(?:{_PCT}|{_MONEY}\s+off"
        rf"|\bdiscount|"
        r"\bcoupon|\bpromo\s+code|\brebate)",
        "offers a discount",
    ),
    _r(
        "discount",
        rf"\byou(?:'ll|\s+will|\s+can|\s+now|\s+also|\s+still)*\s+(?:get|receive|have|enjoy|save"
        rf"|qualify\s+for)\s+"
        rf"(?:a\s+|an\s+(?:extra|additional)\s+)?(?:{_PCT}|{_MONEY})\s+(?:off|discount|rabatt|reduction)",
        "tells the customer they get a discount",
        restatement_ok=True,
    ),
    _r(
        "discount",
        rf"(?:{_PCT}|{_MONEY})\s+(?:off|discount\s+on|rabatt\s+på|off\s+of)\s+(?:your|this)\s+"
        r"(?:next\s+|whole\s+|entire\s+|current\s+)?(?:order|purchase|item|basket|cart|\w+)",
        "offers a discount on the customer's order",
        restatement_ok=True,
    ),
    _r(
        "discount",
        r"\b(?:discount|coupon|voucher|promo(?:tion(?:al)?)?|campaign|rabatt|gutschein)[- ]?(?:code|kode"
        r"|kod)\b"
        r"(?:\s+(?:is|er|är|ist))?\s*[:=]?\s*[\"']?(?-i:[A-Z0-9][A-Z0-9_-]{3,})",
        "gives a discount code",
    ),
    _r(
        "discount",
        r"\b(?:use|enter|apply|redeem|type)\s+"
        r"(?:the\s+)?(?:code\s+)?[\"']?(?-i:[A-Z][A-Z0-9_-]{3,}\d[A-Z0-9_-]*|"
        r"[A-Z]{2,}-[A-Z0-9-]{2,})[\"']?(?:\s+(?:at|in|during|when|on)\b|[.!,]|$)",
        "gives a discount code",
    ),
    _r(
        "discount",
        r"\b(?:code|kode|kod)\s*[:=]?\s*[\"']?(?-i:[A-Z][A-Z0-9]*\d+[A-Z0-9]*|[A-Z]{2,}-[A-Z0-9-]{2,})[\"']?"
        r"[^.!?\n]{0,30}?\b(?:off|discount|rabatt|rabatt|savings?)\b",
        "gives a discount code",
    ),
    _r(
        "discount",
        r"\b(?:jeg|vi)\s+(?:gir|kan\s+gi|skal\s+gi|vil\s+gi|har\s+gitt)\s+deg\b[^.!?\n]{0,30}?(?:rabatt"
        r"|avslag|\d+\s?%)"
        r"|\bdu\s+får\s+\d+\s?%\s*(?:rabatt|avslag)"
        r"|\b(?:jag|vi)\s+(?:ger|kan\s+ge|ska\s+ge|har\s+gett|har\s+gett)\s+dig\b[^.!?\n]{0,30}?(?:rabatt|\d+\s?%)"
        r"|\b(?:ich|wir)\s+(?:gebe|geben|kann|können|werde|werden)\s+ihnen\b[^.!?\n]{0,30}?(?:rabatt|nachlass|\d+\s?%)"
        r"|\bsie\s+(?:bekommen|erhalten)\s+\d+\s?%\s*(?:rabatt|nachlass)",
        "offers a discount",
    ),
    # -- compensation ----------------------------------------------------------------------------------
    _r(
        "compensation",
        r"\b(?:as|for)\s+(?:a\s+|an\s+|some\s+|our\s+|my\s+)?(?:compensation|goodwill\s+gesture"
        r"|gesture\s+of\s+"
        r"goodwill|apology|token\s+of\s+(?:our\s+|my\s+)?(?:apology|appreciation|goodwill)|way\s+of\s+(?:saying\s+sorry|"
        r"apologi[sz]ing)|sorry|thank[- ]you\s+for\s+your\s+patience)\b",
        "offers compensation",
    ),
    _r(
        "compensation",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:give|send|offer|issue|add|credit|provide|grant|"
        r"transfer|deposit|load|put)(?:n|d|ed|s)?\b[^.!?\n]{0,40}?\b(?:gift\s?card|voucher|store\s+credit|credit\s+note|"
        rf"credit|compensation|free\s+(?:shipping|delivery|item|product|gift|return|[\w-]+)|{_MONEY})",
        "offers compensation",
    ),
    _r(
        "compensation",
        rf"{_I_WE}{_ADV}\s+(?:give|send|offer|grant)s?\s+you\b[^.!?\n]{{0,40}}?\b(?:gift\s?card|voucher|"
        r"store\s+credit|credit|compensation|free\s+[\w-]+)",
        "offers compensation",
    ),
    _r(
        "compensation",
        r"\byou(?:'ll|\s+will|\s+are\s+going\s+to|'re\s+going\s+to|\s+shall)\s+(?:also\s+)?(?:get"
        r"|receive|be\s+"
        r"given|be\s+sent|be\s+compensated|be\s+credited)\b[^.!?\n]{0,40}?\b(?:gift\s?card|voucher|store\s+credit"
        r"|credit|"
        r"compensation|free\s+(?:shipping|delivery|[\w-]+))",
        "promises compensation",
    ),
    _r(
        "compensation",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:waive|cover|pay\s+for|refund)(?:d|ed)?\s+"
        rf"(?:the\s+|your\s+"
        r"|all\s+)?(?:shipping|delivery|return|fee|cost|postage|freight|charge)",
        "waives a cost",
    ),
    _r(
        "compensation",
        r"\b(?:on\s+the\s+house|free\s+of\s+charge\s+(?:for\s+you|this\s+time)|compensate\s+you"
        r"|make\s+it\s+up"
        r"\s+to\s+you|(?:jeg|vi)\s+gir\s+deg\s+(?:et\s+)?gavekort|du\s+får\s+(?:et\s+)?(?:gavekort|kompensasjon"
        r"|erstatning)|"
        r"(?:jag|vi)\s+ger\s+dig\s+(?:ett\s+)?presentkort|du\s+får\s+(?:ett\s+)?(?:presentkort|kompensation|ersättning)|"
        r"sie\s+erhalten\s+(?:einen\s+)?(?:gutschein|entschädigung)|(?:ich|wir)\s+(?:gebe|geben)\s+ihnen\s+"
        r"(?:einen\s+)?gutschein)",
        "offers compensation",
    ),
    # -- price matching -----------------------------------------------------------------------------------
    _r(
        "price_match",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:match|beat|honou?r|price[- ]match)(?:ed)?\b",
        "promises a price match",
    ),
    _r("price_match", rf"{_I_WE}{_ADV}\s+(?:matched|honou?red|price[- ]matched)\b", "claims a price match"),
    _r(
        "price_match",
        r"\bprice[- ]match(?:ing)?\s+(?:request\s+)?(?:(?:is|has\s+been|was)\s+)?(?:now\s+)?(?:approved"
        r"|confirmed|"
        r"applied|granted|accepted|done)",
        "confirms a price match",
    ),
    _r(
        "price_match",
        rf"{_I_WE}(?:{_AUX_FUT}|{_AUX_PERF}){_ADV}\s+(?:lower|reduce|adjust|drop|change|cut"
        rf"|knock\s+down)(?:ed|d)?"
        r"\s+(?:the|your|its|this|that)\s+price",
        "changes a price",
    ),
    _r(
        "price_match",
        r"\byou(?:'ll|\s+will|\s+can)\s+(?:get|have|buy|pay)\s+(?:it|this|them|that|the\s+[\w-]+"
        r"(?:\s+[\w-]+)?)"
        r"\s+for\s+(?:only\s+|just\s+)?(?:\d|nok|kr|eur|€)",
        "promises a price",
    ),
    _r(
        "price_match",
        r"\b(?:jeg|vi)\s+(?:kan\s+|skal\s+|vil\s+)?(?:matche|matcher)\s+(?:den\s+)?prisen"
        r"|\b(?:jag|vi)\s+(?:kan\s+|ska\s+)?(?:matcha|matchar)\s+(?:det\s+)?priset"
        r"|\b(?:ich|wir)\s+(?:können|werden|kann|werde)\s+(?:den|diesen)\s+preis\s+(?:anpassen|angleichen|unterbieten)",
        "promises a price match",
    ),
    # -- guarantees ----------------------------------------------------------------------------------------
    _r(
        "guarantee",
        r"\b(?:guarantee[sd]?|guaranteeing|garanter(?:t|er|ar|at)|garantiert|garantie)\b",
        "gives a guarantee",
    ),
    # A warranty beyond the published one ("a lifetime warranty against all damage") is a promise too.
    _r(
        "guarantee",
        r"\b(?:lifetime|life-long|lifelong|unlimited|eternal|permanent)\s+(?:warranty|warranties)\b"
        r"|\bwarrant(?:y|ies)\s+(?:for\s+life|forever|that\s+never\s+(?:ends|expires))"
        r"|\bwarrant(?:y|ies)\s+(?:covers?|against|for)\s+(?:all|any|every)\s+(?:kinds?\s+of\s+)?"
        r"(?:damage|faults?|defects?|problems?|wear)"
        r"|\blivstids(?:garanti|reklamasjon)\b|\blebenslange[nr]?\s+(?:garantie|gewährleistung)\b",
        "promises a warranty",
    ),
    _r(
        "guarantee",
        r"\b(?:i|we)\s+(?:can\s+)?(?:promise|swear|assure\s+you|give\s+you\s+my\s+word)\b"
        r"|\bpromised?\s+you\b"
        r"|\b(?:jeg|vi)\s+lover\b|\b(?:jag|vi)\s+lovar\b|\b(?:ich|wir)\s+versprechen?\b|\bversprochen\b",
        "makes a promise",
    ),
    _r(
        "guarantee",
        r"\b(?:will|'ll)\s+(?:definitely|certainly|surely|absolutely|100\s?%|for\s+sure|without\s+"
        r"(?:a\s+)?doubt)"
        r"\s+(?:arrive|be\s+delivered|be\s+there|reach\s+you|be\s+with\s+you|get\s+(?:there|to\s+you)|ship|be\s+shipped|"
        r"be\s+back\s+in\s+stock|be\s+in\s+stock|be\s+available|be\s+ready)",
        "guarantees delivery or stock",
    ),
    _r(
        "guarantee",
        rf"\b(?:it|they|your\s+[\w-]+|the\s+(?:order|parcel|package|item|delivery|jacket|tent"
        rf"|boots?|goods))\s+"
        rf"(?:will|'ll)\s+(?:\w+\s+)?(?:arrive|be\s+delivered|be\s+there|reach\s+you|be\s+with\s+you|get\s+to\s+you|"
        rf"be\s+at\s+your\s+door|be\s+back\s+in\s+stock)\s+(?:by|before|on\s+(?:{_DAYS}|the\s+\d|\d)|tomorrow|today"
        rf"|tonight|"
        rf"in\s+time|no\s+later\s+than|this\s+(?:week|weekend|{_DAYS})|next\s+(?:week|{_DAYS}))",
        "promises a delivery date",
    ),
    _r(
        "guarantee",
        rf"\byou(?:'ll|\s+will)\s+(?:definitely\s+|certainly\s+|surely\s+)?(?:have|receive|get)\s+(?:it"
        rf"|them|your\s+"
        rf"[\w-]+|the\s+(?:order|parcel|package|item))\s+(?:by|before|tomorrow|today|tonight|on\s+(?:{_DAYS})|in\s+time|"
        rf"no\s+later\s+than|this\s+(?:week|weekend|{_DAYS}))",
        "promises a delivery date",
    ),
    _r(
        "guarantee",
        r"\b(?:100\s?%\s+(?:sure|certain)|without\s+fail|no\s+doubt\s+about\s+it|you\s+have\s+my\s+word)\b",
        "gives a guarantee",
        score=0.7,
    ),
    _r(
        "guarantee",
        r"\b(?:kommer|blir)\s+(?:garantert|helt\s+sikkert)\s+(?:fram|frem|levert)|\bdu\s+får\s+(?:den"
        r"|pakken|varen|"
        r"bestillingen)\s+(?:i\s+morgen|innen)|\bkommer\s+(?:garanterat|säkert)\s+fram|\bdu\s+får\s+(?:den|paketet)\s+"
        r"(?:i\s+morgon|imorgon)|\b(?:kommt|wird)\s+(?:garantiert|sicher|bestimmt)\s+(?:morgen|an|geliefert)",
        "promises a delivery date",
    ),
    # -- legal statements and admissions -------------------------------------------------------------------
    _r(
        "legal",
        r"\bwe\s+(?:are|were|'re)\s+(?:fully\s+|legally\s+|entirely\s+|completely\s+|therefore\s+)?(?:liable|"
        r"responsible\s+for\s+(?:the|this|that|your|any|all)\s+(?:damage|injur|loss|harm|accident|cost)\w*|at\s+fault"
        r"|to\s+blame|"
        r"in\s+breach|negligent)",
        "admits liability",
    ),
    _r(
        "legal",
        r"\b(?:we|i)\s+(?:hereby\s+)?(?:admit|accept|acknowledge|take)\s+(?:full\s+|all\s+|the\s+"
        r"|legal\s+)?(?:liability|"
        r"responsibility|fault|blame)",
        "admits liability",
    ),
    _r(
        "legal",
        r"\b(?:it|this|that|what\s+(?:happened|we\s+did))\s+(?:is|was|'s)\s+(?:clearly\s+|definitely\s+"
        r"|actually\s+)?"
        r"(?:illegal|unlawful|against\s+the\s+law|a\s+breach\s+of|in\s+breach\s+of|a\s+violation\s+of|fraud(?:ulent)?|"
        r"discrimination)",
        "makes a legal statement",
    ),
    _r(
        "legal",
        r"\b(?:(?:it|this|that)\s+(?:is|was|'s)\s+(?:entirely\s+|completely\s+|all\s+|totally\s+)?our\s+fault|"
        r"our\s+(?:fault|negligence))\b",
        "admits fault",
    ),
    _r("legal", r"\byou\s+(?:are|'re)\s+(?:legally\s+|fully\s+)?entitled\s+to\b", "states a legal entitlement"),
    _r(
        "legal",
        r"\byou\s+have\s+(?:a|the|every)\s+(?:legal\s+|statutory\s+)?(?:right|claim)\s+to\s+(?:compensation"
        r"|damages|"
        r"a\s+(?:full\s+)?refund|reimbursement|a\s+replacement|a\s+repair|sue|a\s+price\s+reduction)",
        "states a legal entitlement",
    ),
    _r(
        "legal",
        r"\b(?:under|according\s+to|pursuant\s+to|in\s+accordance\s+with|violat\w*|breach\w*)\s+"
        r"(?:of\s+)?(?:the\s+)?"
        r"(?:norwegian\s+|eu\s+|swedish\s+|danish\s+|german\s+|european\s+)?(?:consumer|consumer\s+purchases?|purchase|"
        r"purchases|sale\s+of\s+goods|sales\s+of\s+goods|e-commerce|marketing|data\s+protection|contract)\s+(?:act|law|"
        r"directive|regulation)|\b(?:forbrukerkjøpsloven|kjøpsloven|konsumentköplagen|köplagen|gdpr\s+article"
        r"|article\s+\d+\s+"
        r"(?:of\s+the\s+)?gdpr|bgb|§\s?\d+)",
        "cites the law",
    ),
    _r(
        "legal",
        r"\byou\s+(?:can|could|should|may)\s+(?:sue|take\s+(?:us\s+to\s+court|legal\s+action)|go\s+to\s+court|"
        r"file\s+a\s+lawsuit|claim\s+damages)",
        "gives legal advice",
    ),
    _r(
        "legal",
        r"\bwe\s+(?:will|'ll)\s+(?:pay|cover)\s+(?:for\s+)?(?:the\s+|your\s+|all\s+)?(?:damages|medical|legal|"
        r"lawyer|losses|injur)",
        "promises to pay damages",
    ),
    _r(
        "legal",
        r"\bvi\s+er\s+(?:erstatnings)?ansvarlige\b|\bdu\s+har\s+(?:krav|rett)\s+på\s+(?:erstatning"
        r"|kompensasjon|"
        r"refusjon|prisavslag)|\b(?:det\s+er|dette\s+er)\s+ulovlig|\bvi\s+är\s+(?:skadeståndsskyldiga|ansvariga)\b"
        r"|\bdu\s+har"
        r"\s+rätt\s+till\s+(?:ersättning|skadestånd|kompensation)|\b(?:det\s+är)\s+olagligt|\bwir\s+haften\b"
        r"|\bsie\s+haben\s+"
        r"(?:einen\s+)?(?:rechtlichen\s+)?anspruch\s+auf\b|\b(?:das\s+)?ist\s+(?:rechtswidrig|illegal)"
        r"|\bunsere\s+schuld\b",
        "makes a legal statement",
    ),
    # -- claims of actions the assistant cannot perform ------------------------------------------------------
    _r(
        "action_claim",
        rf"{_I_WE}{_AUX_PERF}(?:\s+(?:now|just|already|also|successfully|gone\s+ahead\s+and"
        rf"|went\s+ahead\s+and|"
        rf"personally|quickly))*\s+(?:{_PAST})\b",
        "claims an action the assistant cannot take",
        skip_conditional=True,
    ),
    _r(
        "action_claim",
        rf"\bi(?:'ll|\s+will|\s+am\s+going\s+to|'m\s+going\s+to|\s+can|\s+shall|\s+am\s+able\s+to"
        rf"|'m\s+able\s+to)"
        rf"(?:\s+(?:now|just|go\s+ahead\s+and|right\s+away|immediately|quickly|also|personally))*\s+(?:{_BASE})\b",
        "promises an action the assistant cannot take",
    ),
    _r(
        "action_claim",
        rf"\b(?:your|the)\s+(?:[\w-]+\s+)?(?:{_OBJECTS})\s+(?:has|have|had)\s+(?:now\s+|just\s+|already\s+|"
        rf"successfully\s+|also\s+)*been\s+(?:{_PAST})\b",
        "claims an action was done",
    ),
    _r(
        "action_claim",
        rf"\b(?:your|the)\s+(?:[\w-]+\s+)?(?:{_OBJECTS})\s+(?:is|are)\s+now\s+(?:cancell?ed|reset|updated|changed"
        rf"|active|"
        r"unlocked|deleted|closed|confirmed|approved|refunded|on\s+its\s+way|on\s+the\s+way|shipped|fixed)",
        "claims an action was done",
    ),
    _r(
        "action_claim",
        r"\b(?:it|this|that|everything)(?:'s|\s+is|\s+has\s+been)\s+(?:all\s+|now\s+)?(?:done|sorted"
        r"|taken\s+"
        r"care\s+of|fixed|handled|arranged)\b|\bi(?:'ve|\s+have)\s+(?:taken\s+care\s+of|sorted\s+out|handled)\s+"
        r"(?:it|this|that|everything|your)",
        "claims an action was done",
        score=0.8,
    ),
    _r(
        "action_claim",
        r"\b(?:jeg|vi)\s+har\s+(?:nå\s+|allerede\s+)?(?:endret|kansellert|avbestilt|tilbakestilt"
        r"|nullstilt|"
        r"oppdatert|sendt|slettet|bestilt|godkjent|refundert|lagt\s+inn|flyttet|bekreftet|registrert|låst\s+opp|ordnet|"
        r"fikset|sjekket)\b|\b(?:bestillingen|ordren|passordet|kontoen|adressen|pakken)\s+(?:din\s+|ditt\s+)?(?:er"
        r"|har\s+"
        r"blitt)\s+(?:nå\s+)?(?:endret|kansellert|avbestilt|tilbakestilt|nullstilt|oppdatert|sendt|slettet|refundert)"
        r"|\b(?:jag|vi)\s+har\s+(?:nu\s+|redan\s+)?(?:ändrat|avbokat|annullerat|avbeställt|återställt|uppdaterat"
        r"|skickat|"
        r"raderat|tagit\s+bort|återbetalat|godkänt|bekräftat|låst\s+upp|fixat|kontrollerat)\b|\b(?:din\s+beställning|"
        r"ditt\s+lösenord|ditt\s+konto|din\s+adress|ditt\s+paket)\s+(?:har|är)\s+(?:nu\s+)?(?:ändrats|avbokats"
        r"|annullerats"
        r"|återställts|uppdaterats|skickats|raderats|ändrad|avbokad|återställd|uppdaterad|skickad)"
        r"|\b(?:ich|wir)\s+(?:habe|haben)\s+[^.!?\n]{0,40}?\b(?:geändert|storniert|zurückgesetzt|aktualisiert|gesendet|"
        r"geschickt|gelöscht|bestätigt|freigeschaltet|entsperrt|umgebucht)\b|\b(?:ihre\s+bestellung|ihr\s+passwort"
        r"|ihr\s+"
        r"konto|ihre\s+adresse|ihr\s+paket)\s+(?:wurde|ist)\s+(?:jetzt\s+|nun\s+|bereits\s+)?[^.!?\n]{0,20}?(?:geändert|"
        r"storniert|zurückgesetzt|aktualisiert|versendet|verschickt|gelöscht|erstattet)",
        "claims an action was done",
    ),
)

# Action claims that belong to a more specific label (checked on the claim and the words after it).
_ACTION_LABEL = (
    (re.compile(r"(?i)\b(?:refund\w*|reimburs\w*|refundert|återbetalat|erstattet)\b"), "refund"),
    (re.compile(r"(?i)\b(?:discount\w*|coupon|promo\s+code|\d+\s?%\s+off|rabatt)\b"), "discount"),
    (re.compile(r"(?i)\b(?:credited|compensated|waived|gift\s?card|voucher|store\s+credit)\b"), "compensation"),
    (re.compile(r"(?i)\b(?:matched|honou?red|price\s+match)\b"), "price_match"),
)

_NEGATION = re.compile(
    r"(?i)\b(?:not(?!\s+only)|never|no\s+longer|cannot|unable|ikke|aldri|inte|aldrig|nicht|nie|kein\w*|nobody|"
    r"no\s+one|neither|nor)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;:\n]|,\s|\s-\s|\bbut\b|\bhowever\b|\bmen\b|\baber\b")
_CONDITIONAL = re.compile(r"(?i)\b(?:after|once|when|until|before|if|as\s+soon\s+as|etter\s+at|når|nachdem|wenn)\b")


@lru_cache(maxsize=256)
def _source_trigrams(sources: tuple[KnowledgeChunk, ...]) -> frozenset[int]:
    out: set[int] = set()
    for chunk in sources:
        if chunk.is_public:
            out |= shingles(words(expand_contractions(normalize(chunk.text))), 3)
    return frozenset(out)


@lru_cache(maxsize=256)
def _source_quantities(sources: tuple[KnowledgeChunk, ...]) -> tuple[Any, ...]:
    return tuple(q for c in sources if c.is_public for q in extract(normalize(c.text)).quantities)


@register("commitments")
class CommitmentsGuard:
    """Holds drafts that promise refunds, discounts, compensation, price matches, guarantees, legal
    positions or actions the assistant cannot take."""

    stage = Stage.OUTBOUND

    def __init__(
        self,
        name: str,
        project_dir: Path | None = None,
        *,
        copied_share: float = 0.9,
        max_chars: int = 20_000,
        **options: Any,
    ) -> None:
        if options:
            raise TypeError(f"unknown options: {', '.join(sorted(options))}")
        self.name = name
        self.project_dir = project_dir
        self.copied_share = float(copied_share)
        self.max_chars = int(max_chars)

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        if not text or not text.strip():
            return []
        if len(text) > self.max_chars:
            # No customer-service reply is this long: a person reads it (bounded time, fails closed).
            reason = f"draft of {len(text)} characters is too long to review automatically (limit {self.max_chars})"
            return [Finding(self.name, "commitment", 1.0, reason, label="too_long")]
        draft = expand_contractions(normalize(text))
        sources = tuple(rc.chunk for rc in ctx.sources)
        found: dict[str, Finding] = {}
        sents = None
        for rule in _RULES:
            for m in rule.pattern.finditer(draft):
                if self._negated(draft, m.start(), m.end()):
                    continue
                if sents is None:
                    sents = sentences(draft)
                sentence = _sentence_at(sents, m.start())
                if rule.skip_conditional and _CONDITIONAL.search(_clause_before(draft, m.start())):
                    continue
                if sentence and self._copied_from_sources(sentence, sources):
                    continue
                if rule.restatement_ok and sentence and self._restates_sources(sentence, sources):
                    continue
                label = rule.label
                if label == "action_claim":
                    claim = draft[m.start() : m.end() + 60].split(".")[0]
                    label = next((lab for rx, lab in _ACTION_LABEL if rx.search(claim)), label)
                if label not in found or found[label].score < rule.score:
                    phrase = _shorten(m.group())
                    found[label] = Finding(self.name, "commitment", rule.score, f'{rule.what}: "{phrase}"', label=label)
                break  # one match per rule is enough
        return list(found.values())

    @staticmethod
    def _negated(text: str, start: int, end: int) -> bool:
        clause = _clause_before(text, start) + text[start:end]
        return bool(_NEGATION.search(clause))

    def _copied_from_sources(self, sentence: str, sources: tuple[KnowledgeChunk, ...]) -> bool:
        """A sentence (almost) verbatim from a public source of this reply is published policy."""
        if not sources:
            return False
        grams = shingles(words(sentence), 3)
        if len(grams) < 3:
            return False
        known = _source_trigrams(sources)
        return sum(1 for g in grams if g in known) / len(grams) >= self.copied_share

    @staticmethod
    def _restates_sources(sentence: str, sources: tuple[KnowledgeChunk, ...]) -> bool:
        """Every amount in the sentence is one the public sources of this reply publish."""
        quantities = extract(sentence).quantities
        if not quantities or not sources:
            return False
        pool = _source_quantities(sources)
        return all(quantity_in(q, pool) for q in quantities)


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - 80) : start]
    ends = [m.end() for m in _CLAUSE_BREAK.finditer(window)]
    return window[ends[-1] :] if ends else window


def _sentence_at(sents: list[Any], pos: int) -> str:
    current = ""
    for s in sents:
        if s.start <= pos:
            current = s.text
        else:
            break
    return current


def _shorten(phrase: str, limit: int = 80) -> str:
    phrase = " ".join(phrase.split())
    # Never repeat a code in full in a reason (reasons go to the audit log).
    phrase = re.sub(r"\b([A-Z][A-Z0-9-]{1})[A-Z0-9-]{3,}\b", r"\1…", phrase)
    return phrase if len(phrase) <= limit else phrase[: limit - 1] + "…"
