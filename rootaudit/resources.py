"""Where the package's data files are: the mappings and the report templates.

They live at the top of the repository (where auditors read and extend them) and are
reached through `rootaudit/_data`, which the wheel ships as package data.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _data_dir() -> Path:
    return Path(str(files("rootaudit"))) / "_data"


def mappings_dir() -> Path:
    return _data_dir() / "mappings"


def templates_dir() -> Path:
    return _data_dir() / "report_templates"
