"""The words a reader sees for the names the data keep: `report_templates/labels.yaml`, loaded once.

The data files and the workbook's columns keep the internal names (tools read them); the report and
the workbook's Summary sheet show these words. A name the file does not know is shown as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml

from rootaudit.resources import templates_dir

LABELS_FILE = "labels.yaml"
SECTIONS = ("statuses", "signals", "postures", "values", "flags", "fields")


@lru_cache(maxsize=1)
def labels() -> dict[str, Any]:
    data = yaml.safe_load((templates_dir() / LABELS_FILE).read_text(encoding="utf-8")) or {}
    missing = [s for s in SECTIONS if not isinstance(data.get(s), dict)]
    if missing:
        raise ValueError(f"{LABELS_FILE}: missing section(s) {', '.join(missing)}")
    return data


def status(value: str) -> str:
    return labels()["statuses"].get(value, value)


def signal(name: str) -> str:
    return labels()["signals"].get(name, name)


def posture(key: str) -> str:
    return labels()["postures"].get(key, key)


def value(column: str, v: str) -> str:
    """A text column's value in words (`state` ACTIVE -> active); unknown values as they are."""
    return labels()["values"].get(column, {}).get(v, v)


def flag(v: Any) -> str:
    """"true"/"false" (or a bool) as yes / no; empty as "not read"."""
    key = ("true" if v else "false") if isinstance(v, bool) else ("" if v is None else str(v))
    return labels()["flags"].get(key, key)


def field(name: str) -> str:
    return labels()["fields"].get(name, name.replace("_", " ").capitalize())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Every internal name free text may hold: signals, statuses, and the values whose names are
    identifiers (credential_report, mfa_device; not plain words such as "read")."""
    values = {k: v for section in labels()["values"].values() for k, v in section.items() if "_" in k}
    return {**values, **labels()["signals"], **labels()["statuses"]}


@lru_cache(maxsize=1)
def _names() -> re.Pattern[str]:
    names = sorted(_table(), key=len, reverse=True)
    # FAIL (accepted) is one name; the others are whole words (ROOT_CREDS_ABSENT, not part of one)
    return re.compile("|".join(rf"(?<![\w]){re.escape(n)}(?![\w])" for n in names))


def readable(text: str) -> str:
    """Free text from the evaluation (a rationale, a note) with every signal, status and identifier-like
    value name in words."""
    table = _table()
    return _names().sub(lambda m: table[m.group()], text)
