"""The suite files of expectations/, read as plain JSON: what the Dagster definitions need to know
(names, the asset and table each suite validates) without importing Great Expectations, which
takes seconds and is only needed when a check runs."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from orchestration.settings import EXPECTATIONS_DIR


def suite_path(name: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / f"{name}.json"


def suite_names(directory: Path = EXPECTATIONS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.json"))


@cache
def suite_json(name: str, directory: Path = EXPECTATIONS_DIR) -> dict:
    return json.loads(suite_path(name, directory).read_text(encoding="utf-8"))


def suite_meta(name: str) -> dict:
    return suite_json(name)["meta"]


def expectation_severity(expectation: dict) -> str:
    """critical | warning | info: GX's field, critical when a suite file leaves it out."""
    return expectation.get("severity", "critical")


def has_critical(name: str) -> bool:
    """Whether the suite holds a critical expectation (one that can fail the check with ERROR)."""
    return any(expectation_severity(e) == "critical" for e in suite_json(name)["expectations"])
