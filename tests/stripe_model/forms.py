"""Stripe's form encoding: `items[0][price]=p&metadata[k]=v&expand[]=x` ⇄ nested values.

Values stay strings, as Stripe receives them; operations convert what they need.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_PART = re.compile(r"\[([^\]]*)\]")


def decode(encoded: str) -> dict[str, Any]:
    """Nested dicts for `a[b]`, lists for `a[0]`/`a[]` (indexes sorted), strings at leaves."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        head, _, rest = key.partition("[")
        path = [head, *_PART.findall("[" + rest)] if rest else [head]
        _put(root, path, value)
    result: dict[str, Any] = _listify(root)
    return result


def _put(node: dict[str, Any], path: list[str], value: str) -> None:
    for index, part in enumerate(path[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        if path[index + 1] == "":  # `a[]`: append
            child[str(len(child))] = value
            return
        node = child
    node[path[-1]] = value


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}
