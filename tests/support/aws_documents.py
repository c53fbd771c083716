"""AWS's own documented records and reports (tests/fixtures/aws/), each file naming its source page."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aws"


@cache
def _load(name: str) -> dict[str, Any]:
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    source = doc.pop("_source")
    assert source.get("url", "").startswith("https://docs.aws.amazon.com/") and source.get("title"), name
    return doc["examples"]


def example(name: str, key: str) -> dict[str, Any]:
    """One documented record, as a fresh copy a test may change."""
    return copy.deepcopy(_load(name)[key])


def examples(name: str) -> dict[str, dict[str, Any]]:
    return copy.deepcopy(_load(name))


def report(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
