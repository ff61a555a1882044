"""The built-in red team: business-specific probes against the desk (in process) or any chat endpoint.

- `business`: what the red team knows about a business (non-public knowledge, customers, canaries);
- `probes`: the attacks, built from those facts, each with what counts as a failure;
- `targets`: the desk in process, a SafeDesk server, or any JSON chat endpoint, behind `Target.send`;
- `judge`: the detectors that turn replies into masked evidence;
- `runner`: runs probes against a target (`run_redteam` is what `safedesk redteam` calls);
- `report`: the summary per category and the failures, as Markdown or JSON.
"""

from __future__ import annotations

__all__ = ["run_redteam"]


def __getattr__(name: str) -> object:  # lazy: importing the package does not load the desk or httpx
    if name == "run_redteam":
        from safedesk.redteam.runner import run_redteam

        return run_redteam
    raise AttributeError(name)
