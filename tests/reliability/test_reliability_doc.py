"""docs/reliability.md is made from the fault matrix itself, so the two cannot drift.

Each `test_case_<id>` in test_reliability_faults.py and test_reliability_claims.py is one row: the id,
the fault (first line of the docstring), and what rootaudit does (the rest). This test rebuilds the
table and compares it with the document;
`ROOTAUDIT_WRITE_DOCS=1 pytest tests/reliability/test_reliability_doc.py` rewrites it."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.reliability

HERE = Path(__file__).resolve().parent
MATRICES = (HERE / "test_reliability_faults.py", HERE / "test_reliability_claims.py")
DOC = HERE.parents[1] / "docs" / "reliability.md"
BEGIN = "<!-- cases: generated from tests/reliability/test_reliability_faults.py and test_reliability_claims.py -->"  # noqa: E501
END = "<!-- end of cases -->"


def cases() -> list[tuple[str, str, str, str]]:
    """(id, fault, what rootaudit does, variants) of every test_case_ function, in file order."""
    out = []
    nodes = [node for matrix in MATRICES for node in ast.parse(matrix.read_text(encoding="utf-8")).body]
    for node in nodes:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_case_"):
            doc = ast.get_docstring(node) or ""
            first, _, rest = doc.partition("\n")
            variants = ""
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("parametrize"):
                    variants = ast.unparse(deco.args[1])
            case_id = node.name.removeprefix("test_case_")
            out.append((case_id, first.strip(), " ".join(rest.split()), variants))
    return out


def table() -> str:
    lines = [BEGIN, "", "| case | fault | what rootaudit does |", "|---|---|---|"]
    for case_id, fault, does, variants in cases():
        cell = fault + (f" (variants: `{variants}`)" if variants else "")
        lines.append(f"| `{case_id}` | {cell.replace('|', '/')} | {does.replace('|', '/')} |")
    return "\n".join([*lines, "", END])


def test_every_case_has_its_row_and_every_row_its_case() -> None:
    found = cases()
    assert len(found) >= 12
    assert all(fault and does for _, fault, does, _ in found), "a case lacks its fault or its outcome"
    text = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.M))
    assert documented == {c[0] for c in found}


def test_document_is_up_to_date() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    fresh = text[:start] + table() + text[end:]
    if os.environ.get("ROOTAUDIT_WRITE_DOCS") == "1":
        DOC.write_text(fresh, encoding="utf-8")
    assert text == fresh, "docs/reliability.md is stale: run with ROOTAUDIT_WRITE_DOCS=1 to rewrite its table"
    count = len(cases())
    assert f"{count} cases" in text, f"the document should give the number of cases ({count} cases)"
