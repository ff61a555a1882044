"""`safedesk init`: create a business directory, optionally filled with the demo shop."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from safedesk import strict_yaml
from safedesk.config import CONFIG_FILE, load_config
from safedesk.errors import UserError

DEMO_DIR = Path(__file__).parent / "demo"

_BLANK_KNOWLEDGE = """---
title: Welcome
access: public
---
# About us

Describe your business here. Files marked `access: public` are the only ones the assistant may use;
files without a label are treated as internal.
"""


def init_project(target: Path, *, demo: bool, business_name: str | None = None, force: bool = False) -> Path:
    target = target.expanduser().resolve()
    if (target / CONFIG_FILE).exists() and not force:
        raise UserError(f"{target} already has a {CONFIG_FILE}; use --force to overwrite its files")
    target.mkdir(parents=True, exist_ok=True)
    if demo:
        shutil.copytree(DEMO_DIR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "data"))
        if business_name:
            config_path = target / CONFIG_FILE
            data = strict_yaml.load(config_path.read_text(encoding="utf-8"))
            data["business"]["name"] = business_name
            config_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    else:
        settings = {"business": {"name": business_name or "My Shop", "timezone": "UTC"}}
        (target / CONFIG_FILE).write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        (target / "knowledge").mkdir(exist_ok=True)
        welcome = target / "knowledge" / "welcome.md"
        if not welcome.exists():
            welcome.write_text(_BLANK_KNOWLEDGE, encoding="utf-8")
    load_config(target / CONFIG_FILE)  # what we wrote must validate
    (target / "data").mkdir(exist_ok=True)
    from safedesk.vault import Vault

    Vault.of_project(target / "data")
    return target
