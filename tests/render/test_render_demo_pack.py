"""The demo's PDF read as an auditor reads it, through its extracted text (pypdf): every control id whole,
no internal check (signal) or status name outside the appendix, the same population figures on every page,
every "and N more" and every cut value saying where the whole is, no "unverified" mapping; and the demo's
workbook with real types. One demo pack is made for the module (about 20 seconds)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pypdf
import pytest

from rootaudit.controls.signals import VOCABULARY
from scripts.make_samples import make_demo_pack
from tests.support.pdf_words import overprints, word_boxes

INTERNAL_STATUSES = ("NOT_ASSESSED", "NOT_APPLICABLE")
APPENDIX = "Appendix: verifying this pack"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    zip_path = make_demo_pack(tmp_path_factory.mktemp("demo"))
    return zip_path.with_suffix("")  # the pack's folder beside its zip


@pytest.fixture(scope="module")
def pages(demo: Path) -> list[str]:
    reader = pypdf.PdfReader(demo / "evidence.pdf")
    return [page.extract_text() for page in reader.pages]


def _csv(demo: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((demo / "data" / name).read_text(encoding="utf-8"))))


def _body(pages: list[str]) -> list[str]:
    """The pages before the appendix (the contents page names the appendix too: skip its line)."""
    start = next(i for i, p in enumerate(pages) if p.lstrip().startswith(APPENDIX))
    return pages[:start]


def test_every_control_id_is_whole_on_one_line(demo: Path, pages: list[str]) -> None:
    ids = {r["control_id"] for r in _csv(demo, "control_results.csv")}
    assert len(ids) > 50
    tokens = {tok.strip(",.;") for page in pages for line in page.splitlines() for tok in line.split()}
    missing = sorted(i for i in ids if i not in tokens)
    assert not missing, f"control ids broken across lines or absent: {missing}"


def test_no_internal_check_or_status_name_outside_the_appendix(pages: list[str]) -> None:
    body = "\n".join(_body(pages))
    names = re.compile(r"\b(" + "|".join(sorted(VOCABULARY | set(INTERNAL_STATUSES), key=len,
                                               reverse=True)) + r")\b")
    found = sorted(set(names.findall(body)))
    assert not found, f"internal names in the report's body: {found}"
    for placeholder in ("rationale: rationale", "Assessed: True", "-> PASS", "UNVERIFIED", "from memory"):
        assert placeholder not in body, placeholder
    # ...and the appendix names each of them, beside its words, for readers of the data files
    appendix = "\n".join(pages[len(_body(pages)):])
    assert all(name in appendix.replace("\u200b", "") for name in VOCABULARY)


def test_the_population_figures_agree_on_every_page(demo: Path, pages: list[str]) -> None:
    accounts = _csv(demo, "accounts.csv")
    creds = {r["account_id"]: r for r in _csv(demo, "root_credentials.csv")}
    members = [a for a in accounts if a["is_management"] != "true"]
    not_assessed = [a for a in members if creds[a["account_id"]]["assessment"] != "assessed"
                    or creds[a["account_id"]].get("population_reason")]
    not_active = [a for a in members if a["state"] != "ACTIVE"]
    n, na = len(members), len(not_assessed)
    assert (n, na, len(not_active)) == (39, 3, 2)  # the demo's organization, seed 7
    text = "\n".join(pages)
    flat = re.sub(r"\s+", " ", text)
    # executive summary: the claim, the scope line, the figures row and the chart
    assert f"of {n} member accounts have active root credentials" in flat
    assert f"{n} member accounts ({n - len(not_active)} active, {len(not_active)} not active)" in flat
    header = ("Member accounts Assessed Not assessed With active root credentials With other root residue "
              "AssumeRoot sessions Root console sign-ins Long-term root key calls ")
    figures = flat.split(header, 1)[1].split()[:3]
    assert figures == [str(n), str(n - na), str(na)], figures
    assert f"Account posture ({n} member accounts)" in flat
    bars = re.findall(r"(Active root credentials|Other root residue|Not assessed|Assessed, password not "
                      r"visible|Clean) (\d+) \(", flat)
    assert sum(int(c) for _, c in bars[:5]) == n and dict(bars[:5])["Not assessed"] == str(na), bars
    # scope: the reconciliation, shown once
    assert f"{len(accounts)} = {n} member accounts + 1 management account" in flat
    assert flat.count(f"{n} = {n - na} assessed + {na} not assessed") == 1
    states = re.search(r"Member account states ((?:[a-z ]+ \d+(?:, )?)+)", flat).group(1)
    assert sum(int(x) for x in re.findall(r"\d+", states)) == n, states
    # the lists of section 1 and section 5 count the same accounts
    assert f"Not assessed ({na})" in flat and f"Accounts not assessed ({na})" in flat
    for a in not_assessed:
        assert a["account_id"] in flat


def test_every_and_more_and_every_cut_says_where_the_rest_is(pages: list[str]) -> None:
    flat = re.sub(r"\s+", " ", "\n".join(pages))
    mores = [m.start() for m in re.finditer(r"and \d+ more", flat)]
    assert len(mores) > 20
    for at in mores:
        tail = flat[at:at + 120]
        assert re.search(r"more \((workbook sheet|section \d|data/)", tail), tail
    cuts = [m.start() for m in re.finditer("…", flat)]
    for at in cuts:
        tail = flat[at:at + 120]
        assert tail.startswith("… [cut: whole in "), tail
        assert any(where in tail for where in ("workbook", "data/", "section", "snapshot.json")), tail


def test_tokens_are_not_broken_mid_word(demo: Path, pages: list[str]) -> None:
    """E-mail addresses and error codes, wrapped at their separators, read whole once line breaks at those
    separators are joined; no line ends inside a word of one (the old 'example.c om', 'AccessDenie d')."""
    text = "\n".join(pages)
    joined = re.sub(r"(?<=[@./:_-])\n", "", text)
    for s in _csv(demo, "privileged_sessions.csv"):
        for value in (s["error_code"], s["caller_arn"]):
            if value:
                # a CamelCase code may wrap between its words (Access|Denied), never inside one
                assert value in re.sub(r"(?<=[a-z])\n(?=[A-Z])", "", joined), value
    assert not re.search(r"example\.c\s+om|AccessDenie\s+d", text)


def test_no_page_holds_one_leftover_row(demo: Path, pages: list[str]) -> None:
    """Each page after the first of a table starts with at least two of its rows: the not-assessed
    accounts table (three rows) is never split one from two."""
    ids = [a["account_id"] for a in _csv(demo, "root_credentials.csv") if a["assessment"] != "assessed"]
    holding = [sum(1 for i in ids if i in p) for p in pages if "Accounts not assessed" in p
               or "Reason (what to do)" in p]
    assert holding and all(h != 1 for h in holding[1:]) and max(holding) >= 2, holding


def test_the_demo_workbook_has_dates_booleans_and_a_short_summary(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo / "evidence.xlsx")
    sessions = wb["Privileged sessions"]
    header = [c.value for c in sessions[1]]
    times = [row[header.index("event_time (UTC)")] for row in sessions.iter_rows(min_row=2, values_only=True)]
    assert times and all(isinstance(t, datetime) for t in times)
    activity = wb["Root activity"]
    header = [c.value for c in activity[1]]
    flags = [row[header.index("success")] for row in activity.iter_rows(min_row=2, values_only=True)]
    assert flags and all(isinstance(f, bool) for f in flags if f is not None)
    summary = dict(wb["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Member accounts"] == 39 and summary["Member accounts not assessed"] == 3
    assert isinstance(summary["Evidence collected (UTC)"], datetime)
    long = [k for k, v in summary.items() if len(str(v)) > 260]
    assert not long, long
    assert not any("_" in str(k) for k in summary), "internal keys in the Summary sheet"


def test_the_pack_holds_no_unverified_mapping(demo: Path) -> None:
    for path in (demo / "inputs" / "mappings").glob("*.yaml"):
        assert not re.search(r"unverified|from memory", path.read_text("utf-8"), re.IGNORECASE), path.name
    bases = {r["basis"] for r in _csv(demo, "control_results.csv")}
    assert all(b.startswith(("Published mapping", "Mapping by rationale")) for b in bases), bases
    with zipfile.ZipFile(demo.with_suffix(".zip")) as zf:
        assert any(n.endswith("evidence.pdf") for n in zf.namelist())


def test_pdf_pages_renders_the_pages_to_png_or_says_what_to_install(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from scripts.pdf_pages import render_pages

    if shutil.which("pdftoppm"):
        [page] = render_pages(demo / "evidence.pdf", tmp_path / "png", dpi=30, first=3, last=3)
        assert page.name == "page-03.png" and page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match="install poppler-utils"):
        render_pages(demo / "evidence.pdf", tmp_path / "none")


def test_no_text_is_printed_over_other_text(demo: Path, tmp_path: Path) -> None:
    bbox = word_boxes(demo / "evidence.pdf", tmp_path)
    assert bbox.count("<word ") > 1000
    assert not overprints(bbox), overprints(bbox)[:10]
    # the check itself finds an overprint: two words set at the same place
    assert overprints('<page ><word xMin="10" yMin="10" xMax="60" yMax="18">2026-06-01T00:00:00Z</word>'
                       '<word xMin="55" yMin="10" xMax="90" yMax="18">expired</word>')
