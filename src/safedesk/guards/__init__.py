"""Guards: small objects that check text and return findings. See `base.py` for the interface."""

from __future__ import annotations

import importlib
import os
import pkgutil

# Presidio (the PII guard's engine) probes for a CUDA device with PyTorch on import when PyTorch is
# importable, and allocates on the GPU when there is one. SafeDesk's spaCy pipeline runs on the CPU: say
# so before any guard imports Presidio. An operator's own PRESIDIO_DEVICE still wins.
os.environ.setdefault("PRESIDIO_DEVICE", "cpu")

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
