"""Benign messages from a source no SafeDesk model, rule or threshold was built on: chatterbot-corpus's
conversations (see `safedesk.datasets.CHATTERBOT`).

    python -m safedesk.bench.unseen_benign

What people type to a chat bot: small talk, questions about the bot ("are you sentient?"), money, food,
and a tech-support file ("My internet is not working.", "I forgot my password."). The user's side of each
conversation (its first line), deduplicated, in the languages the guards read (English, German, French,
Spanish, Swedish). Reported: the injection guard's false flags and the language guard's hand-offs, per
language and per file. Measured once the guards were frozen; nothing is tuned on it.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from safedesk.datasets import CHATTERBOT
from safedesk.errors import UserError

LANGUAGES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "swedish": "sv"}
_DATA = "chatterbot_corpus/data/"


def load_unseen_benign(wheel: Path | None = None) -> dict[str, list[str]]:
    """{"<lang>/<file>": user messages}. Raises UserError when the wheel is missing or altered."""
    out: dict[str, list[str]] = {}
    with zipfile.ZipFile(CHATTERBOT.verified(wheel)) as archive:
        for name in sorted(archive.namelist()):
            parts = name.removeprefix(_DATA).split("/")
            if not name.startswith(_DATA) or len(parts) != 2 or parts[0] not in LANGUAGES:
                continue
            doc = yaml.safe_load(archive.read(name).decode("utf-8"))
            conversations = doc.get("conversations") if isinstance(doc, dict) else None
            turns = [c[0] for c in conversations or [] if isinstance(c, list) and c]
            texts = list(dict.fromkeys(str(t).strip() for t in turns if str(t).strip()))
            if texts:
                out[f"{LANGUAGES[parts[0]]}/{parts[1].removesuffix('.yml')}"] = texts
    if not out:
        raise UserError(f"{CHATTERBOT.filename}: no conversations found in {', '.join(LANGUAGES)}")
    return out


def evaluate_unseen_benign(wheel: Path | None = None) -> dict[str, Any]:
    from safedesk.guards.injection import InjectionGuard
    from safedesk.guards.language import LanguageIdentifierGuard

    injection = InjectionGuard()
    language = LanguageIdentifierGuard()
    per_lang: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    per_file: dict[str, dict[str, Any]] = {}
    flagged_examples: list[str] = []
    for name, texts in load_unseen_benign(wheel).items():
        pairs = [(injection.analyze(t).flagged, language.judge(t).flagged) for t in texts]
        per_lang[name.split("/")[0]] += pairs
        flags = sum(f for f, _ in pairs)
        if flags:
            per_file[name] = {"messages": len(texts), "injection_false_flags": flags}
            flagged_examples += [t[:120] for t, (f, _) in zip(texts, pairs, strict=True) if f]

    def rates(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
        return {
            "messages": len(pairs),
            "injection_false_flag_rate": round(sum(f for f, _ in pairs) / len(pairs), 4),
            "handed_off_as_unreadable": round(sum(u for _, u in pairs) / len(pairs), 4),
        }

    everything = [p for pairs in per_lang.values() for p in pairs]
    return {
        "all": rates(everything),
        "by_language": {lang: rates(pairs) for lang, pairs in sorted(per_lang.items())},
        "files_with_false_flags": per_file,
        "flagged_examples": flagged_examples[:8],
    }


def main(argv: Sequence[str] | None = None) -> int:
    json.dump(evaluate_unseen_benign(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
