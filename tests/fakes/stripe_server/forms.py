"""Stripe's request encoding: form fields with bracketed paths (``tiers[0][up_to]=10``,
``metadata[plan]=growth``, ``expand[0]=data.price``) parsed back into dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"\[([^\]]*)\]")


def _path(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    return [head] + (_TOKEN.findall("[" + rest) if rest else [])


def _listify(node: Any) -> Any:
    """Dicts whose keys are all indices (or appended ``[]``) become lists, in index order."""
    if isinstance(node, dict):
        node = {key: _listify(value) for key, value in node.items()}
        if node and all(key.isdigit() for key in node):
            return [node[key] for key in sorted(node, key=int)]
        return node
    if isinstance(node, list):
        return [_listify(item) for item in node]
    return node


def parse_form(body: str) -> dict[str, Any]:
    """The parameters of a form-encoded request, nested as the bracketed keys say."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = _path(key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "":  # key[]=value: append
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _listify(root)


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return str(value).lower() == "true"


def as_int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    return int(value)
