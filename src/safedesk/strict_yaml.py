"""YAML for settings that decide access and policy: PyYAML's safe loader, stricter.

A key given twice silently keeps its last value in plain YAML, so `access: internal` on one line and
`access: public` further down published the page; merge keys (`<<:`) can bring in values from elsewhere in
the file. Both are refused here, with the line, so a typo or a trick never decides who sees what.

Booleans are YAML 1.2's: only `true` and `false` (any case). YAML 1.1 also reads `no`, `yes`, `on`, `off`,
`y` and `n` as booleans, so `languages: [en, no]` lost Norwegian and `regions: [NO]` became `[false]`; here
they stay strings (pydantic still reads "yes"/"no"/"on"/"off" as booleans where a setting is a boolean).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"


class _StrictLoader(yaml.SafeLoader):
    pass


# The safe loader's implicit resolvers without YAML 1.1's booleans, then YAML 1.2's (an own copy: SafeLoader's
# class-level table is shared with every other PyYAML user in the process).
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|false)$", re.IGNORECASE), list("tTfF"))


def _construct_mapping(loader: _StrictLoader, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            raise ConstructorError(None, None, "merge keys ('<<') are not allowed here", key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        try:
            repeated = key in seen
        except TypeError:  # an unhashable key: the safe loader refuses it below, with its own message
            continue
        if repeated:
            raise ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]


def load(text: str) -> Any:
    """Like `yaml.safe_load`, but a repeated key or a merge key is a `yaml.YAMLError` naming its line."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
