"""Guards: small objects that check text and return findings. See `base.py` for the interface."""

from __future__ import annotations

import importlib
import pkgutil

from safedesk.guards.base import REGISTRY, Guard, GuardContext, build_guard, register

__all__ = ["REGISTRY", "Guard", "GuardContext", "build_guard", "load_builtin_guards", "register"]

_loaded = False


def load_builtin_guards() -> None:
    """Import every module in this package once, so their @register decorators run."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True
