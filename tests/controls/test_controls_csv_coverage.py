"""Every row of reference/control-mappings.csv is a control in a mapping file, or listed in
mappings/README.md as deliberately left out, with its basis carried over; a row the CSV marks
UNVERIFIED or 'verify' is either checked against the published text (`checked`) or marked `not_checked`
in its file (and so shown as a mapping by rationale), and its source keeps no "from memory" note."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest

from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.resources import mappings_dir

REPO = Path(__file__).resolve().parents[2]
CANDIDATES = [
    Path(os.environ["ROOTAUDIT_REFERENCE_DIR"]) / "control-mappings.csv"
    if os.environ.get("ROOTAUDIT_REFERENCE_DIR") else None,
    REPO.parent / "shared" / "reference" / "control-mappings.csv",  # a clone in CI
    Path("/work/shared/reference/control-mappings.csv"),  # development
]


def _csv_rows() -> list[dict[str, str]]:
    path = next((p for p in CANDIDATES if p is not None and p.is_file()), None)
    if path is None:
        # A missing reference is a failure, not a skip: a skip would hide the whole coverage check.
        pytest.fail("control-mappings.csv not found (looked in ../shared/reference/ beside the clone, "
                    "/work/shared/reference/, and $ROOTAUDIT_REFERENCE_DIR): cannot check mapping coverage")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _left_out() -> set[tuple[str, str, str]]:
    text = (mappings_dir() / "README.md").read_text(encoding="utf-8")
    section = text.split("## Rows of control-mappings.csv deliberately left out", 1)[1]
    out = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("framework", "---") and not set(cells[0]) <= {"-"}:
            assert cells[3], f"README lists {cells[:3]} without a reason"
            out.add((cells[0], cells[1], cells[2]))
    return out


def _published_part(source: str) -> str:
    """The CSV's source without its review notes ("...; correspondence from memory - verify",
    "(UNVERIFIED mapping)"): those become the mapping's `not_checked` or `checked`, in words."""
    parts = [p.strip() for p in source.split(";")]
    kept = [p.replace(" (UNVERIFIED mapping)", "") for p in parts
            if not re.search(r"\bverify\b|from memory", p)]
    return "; ".join(kept)


def test_every_csv_row_is_mapped_or_deliberately_left_out():
    rows = _csv_rows()
    controls = {(c.framework, c.version, c.id): c
                for fw in parse_frameworks(read_mapping_files([mappings_dir()])) for c in fw.controls}
    left_out = _left_out()
    missing = []
    for row in rows:
        key = (row["framework"], row["version"], row["control_id"])
        if key in left_out:
            assert key not in controls, f"{key} is both mapped and listed as left out"
            continue
        control = controls.get(key)
        if control is None:
            missing.append(key)
            continue
        # The CSV's source is carried into the mapping, and so is its basis.
        assert _published_part(row["source"]) in control.source, key
        assert not re.search(r"unverified|from memory|\bverify\b", control.source, re.IGNORECASE), key
        if row["source"].lower().startswith("rationale"):
            assert control.basis == "rationale", key
        marks = row["title"] + " " + row["source"]
        if "UNVERIFIED" in marks or re.search(r"\bverify\b", marks):
            assert control.unverified or control.checked, f"{key} is marked UNVERIFIED / verify in the CSV"
            if control.unverified:
                assert control.shown_basis == "rationale", key
    assert not missing, f"CSV rows neither mapped nor listed in mappings/README.md: {missing}"
    csv_keys = {(r["framework"], r["version"], r["control_id"]) for r in rows}
    invented = sorted(set(controls) - csv_keys)
    assert not invented, f"mapped controls that the CSV does not have: {invented}"
    assert left_out <= csv_keys, f"README lists rows the CSV does not have: {sorted(left_out - csv_keys)}"
