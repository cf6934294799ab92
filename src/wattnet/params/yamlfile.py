"""Reading the YAML of params files and change sets: one-line errors, duplicate keys refused.

PyYAML keeps the last of two equal keys in a mapping without a word, so a change set that sets
``settlement.operator_share_bps`` twice would propose whichever came last. Here every mapping is
checked as it is read: a key given twice is an error naming the key and both lines.
"""

from pathlib import Path
from typing import Any

import yaml

from wattnet.errors import ConfigError


class _Duplicate(yaml.YAMLError):  # type: ignore[misc]
    def __init__(self, key: Any, first: int, again: int) -> None:
        super().__init__(f"{key} is given twice (lines {first} and {again}); keep one")
        self.line = again


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _Duplicate(key, seen[key], line)
            except TypeError:  # an unhashable key: SafeLoader's own error follows
                break
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 _UniqueKeyLoader.construct_mapping)


def read_yaml(path: Path, source: str) -> Any:
    """The parsed document at ``path``; ``source`` names it in errors."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except _Duplicate as exc:
        raise ConfigError(f"{source}: line {exc.line}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})"
                          ) from exc
