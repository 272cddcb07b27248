"""Masking personal values before they leave the warehouse: examples in the Dagster UI, IDs in
the city reports. An ID number keeps its first 6 characters (where it was issued) and its last 4."""

from __future__ import annotations

import re
from collections.abc import Iterable


def mask_id(value: object) -> object:
    """First 6 and last 4 characters of an ID number, the rest as *."""
    if value is None:
        return None
    text = str(value)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_name(value: object) -> object:
    if value is None:
        return None
    text = str(value)
    return text[:1] + "*" * max(0, len(text) - 1)


_ID_LIKE = re.compile(r"\d{15}|\d{17}[\dXx]")


def mask_value(column: str, value: object, personal: Iterable[str]) -> object:
    if column in personal:
        return (
            mask_id(value)
            if ("id" in column or "number" in column or "phone" in column)
            else mask_name(value)
        )
    if isinstance(value, str) and _ID_LIKE.search(value):
        return _ID_LIKE.sub(lambda m: str(mask_id(m.group(0))), value)
    return value
