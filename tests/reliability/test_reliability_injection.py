"""Injection: account names and emails that are markup, spreadsheet formulas, paths, very long or
non-ASCII flow from Organizations through the whole pipeline and come out safe in every output:
escaped in the HTML report (and so shown as text in the PDF), text and never a formula in the workbook,
byte-for-byte unchanged in the CSV data, and unable to move any output file out of its folder."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.reliability

SCRIPT = "<script>alert(1)</script>"
HOSTILE_NAMES = [
    SCRIPT,
    '=HYPERLINK("http://x","y")',
    "+1",
    "-1",
    "@SUM(A1)",
    "\tleading-tab",
    "\rleading-cr",
    "../../etc",
    "L" * 5000,
    "\u202eevil-rtl\u202c \u05e9\u05dc\u05d5\u05dd",
    "team \U0001f680\U0001f525",
    "Cafe\u0301 Zoe\u0308",
]
HOSTILE_EMAILS = ['"=1+1"@example.com', f"x{SCRIPT}@example.com", "../../etc/passwd@example.com"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One run of the pipeline on an organization whose member accounts carry the hostile names."""
    from rootaudit.period import parse_period
    from rootaudit.simulate import SimulatedOrganization, build_scenario

    scenario = build_scenario(16, seed=11, period=parse_period("2026-Q3"))
    # Accounts holding root credentials come first: the report lists them by name (clean ones are counted).
    members = sorted((a for a in scenario.members() if a.state == "ACTIVE"),
                     key=lambda a: a.kind in ("clean", "delegated_admin"))
    assert len(members) >= len(HOSTILE_NAMES)
    for spec, name in zip(members, HOSTILE_NAMES, strict=False):
        spec.name = name
    for spec, email in zip(members, HOSTILE_EMAILS, strict=False):
        spec.email = email
    names = {a.account_id: a.name for a in scenario.accounts.values()}
    emails = {a.account_id: a.email for a in scenario.accounts.values()}
    with SimulatedOrganization(scenario, mode="server") as sim:
        from rootaudit.aws import AwsContext, AwsSettings
        from rootaudit.collect import collect
        from rootaudit.collectors import CollectSettings

        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions),
                                   cloudtrail=f"s3://{scenario.trail.bucket}/{scenario.trail.prefix}",
                                   fallback_role=scenario.audit_role_name, workers=8)
        with sim.environ():
            snapshot = collect(AwsContext(AwsSettings(region=scenario.region)), settings)
    from rootaudit.controls import evaluate
    from rootaudit.render.pack import write_pack

    out = tmp_path_factory.mktemp("hostile")
    results = evaluate(snapshot, frameworks=["cis-aws-7.0.0"])
    paths = write_pack(snapshot, results, out)
    return {"names": names, "emails": emails, "paths": paths, "snapshot": snapshot, "results": results,
            "out": out}


def test_names_reach_the_snapshot_unchanged(hostile: Any) -> None:
    accounts = hostile["snapshot"]["accounts"].set_index("account_id")
    for account_id, name in hostile["names"].items():
        if account_id in accounts.index and account_id != "123456789012":
            assert accounts.loc[account_id, "name"] == name
            assert accounts.loc[account_id, "email"] == hostile["emails"][account_id]


def test_csv_data_holds_the_names_byte_for_byte(hostile: Any) -> None:
    data = (hostile["paths"].folder / "data" / "accounts.csv").read_bytes().decode("utf-8")  # as written
    rows = {r["account_id"]: r for r in csv.DictReader(io.StringIO(data, newline=""))}
    for account_id, name in hostile["names"].items():
        if account_id != "123456789012":
            assert rows[account_id]["name"] == name, repr(rows[account_id]["name"][:40])
            assert rows[account_id]["email"] == hostile["emails"][account_id]


def test_html_report_escapes_markup(hostile: Any) -> None:
    # <wbr> marks where a long token may wrap; a browser shows nothing for it
    html = (hostile["paths"].folder / "report.html").read_text(encoding="utf-8").replace("<wbr>", "")
    assert "<script" not in html.lower(), "a script element reached the report"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The right-to-left override is shown inside its own element, closed there, so it cannot reorder
    # the text around it.
    assert re.search(r">[^<]*\u202eevil-rtl\u202c[^<]*<", html)
    assert "team \U0001f680\U0001f525" in html and "Cafe\u0301 Zoe\u0308" in html


def test_pdf_shows_markup_as_text(hostile: Any) -> None:
    from pypdf import PdfReader

    reader = PdfReader(hostile["paths"].folder / "evidence.pdf")
    # Some runs of text come out as UTF-16 with NULs between the letters; neither matters here.
    text = re.sub(r"[\s\x00]+", "", " ".join(p.extract_text() or "" for p in reader.pages))
    assert "<script>alert(1)</script>" in text  # had it been markup, the text would not show the tag
    assert '=HYPERLINK("http://x","y")' in text


def test_workbook_holds_text_never_a_formula(hostile: Any) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(hostile["paths"].folder / "evidence.xlsx")
    seen: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    seen.add(cell.value)
                    if cell.value.startswith(FORMULA_STARTS):
                        assert cell.quotePrefix, f"{ws.title}!{cell.coordinate} {cell.value!r}: no prefix"
    for name in HOSTILE_NAMES:
        if name.startswith("\r"):
            continue  # openpyxl reads Excel's _x000D_ escape back as text; checked below
        assert name in seen, f"{name[:30]!r} is not in the workbook as it was"
    # No sheet XML holds a formula element at all.
    with zipfile.ZipFile(hostile["paths"].folder / "evidence.xlsx") as zf:
        for member in zf.namelist():
            if member.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(member) and b"<f " not in zf.read(member), member


def test_every_output_stays_in_its_folder(hostile: Any) -> None:
    out: Path = hostile["out"].resolve()
    for path in hostile["out"].rglob("*"):
        assert path.resolve().is_relative_to(out), path
    with zipfile.ZipFile(hostile["paths"].zip) as zf:
        for member in zf.namelist():
            assert ".." not in Path(member).parts and not member.startswith("/"), member


SEPARATOR_NAMES = [("../../etc", "2026-Q3"), ("o-abc/../../x", "../../.."), ("o-x", "2026/../../evil"),
                   ("..\\..\\windows", "Q3\\..\\.."), ("", ""), ("o-" + "x" * 300, "\u202e3Q-6202"),
                   (".", ".."), ("o-a\x00b", "2026-Q3\n")]


def _with_names(snapshot: Any, org_id: str, label: str) -> Any:
    from rootaudit.snapshot import Snapshot

    meta = {**snapshot.meta, "organization_id": org_id, "period": {**snapshot.meta["period"], "label": label}}
    return Snapshot(meta=meta, frames=snapshot.frames, raw=snapshot.raw)


@pytest.mark.parametrize(("org_id", "label"), SEPARATOR_NAMES)
def test_pack_name_is_one_plain_file_name(hostile: Any, org_id: str, label: str) -> None:
    from rootaudit.render.pack import pack_name

    name = pack_name(_with_names(hostile["snapshot"], org_id, label))
    assert re.fullmatch(r"rootaudit-[A-Za-z0-9._-]+", name) and ".." not in name and len(name) < 200, name


def test_pack_with_separators_in_its_name_is_written_inside_the_output_folder(hostile: Any,
                                                                               tmp_path: Path) -> None:
    """Organization id and period label with separators: the pack folder and zip stay in `out`."""
    from rootaudit.render.pack import write_pack

    out = tmp_path / "deep" / "out"
    paths = write_pack(_with_names(hostile["snapshot"], "o-abc/../../x", "../../.."), hostile["results"], out)
    assert paths.folder.parent == out and paths.zip.parent == out
    left = [p for p in tmp_path.rglob("*") if not p.resolve().is_relative_to(out.resolve())]
    assert sorted(p.name for p in left) == ["deep"], left


def test_snapshot_round_trip_keeps_every_name(hostile: Any, tmp_path: Path) -> None:
    """The snapshot written to disk and read back (what `report` and `verify` do) has the same accounts."""
    from rootaudit.snapshot import load_snapshot, save_snapshot

    folder = save_snapshot(hostile["snapshot"], tmp_path / "snap")
    back = load_snapshot(folder)["accounts"].set_index("account_id")
    accounts = hostile["snapshot"]["accounts"].set_index("account_id")
    assert len(back) == len(accounts)
    assert back["name"].to_dict() == accounts["name"].to_dict()


def test_pack_with_hostile_names_verifies(hostile: Any) -> None:
    """`rootaudit verify` re-reads the snapshot inside the pack and re-evaluates it: the same results."""
    from rootaudit.render.verify import verify_pack

    report = verify_pack(hostile["paths"].folder)
    assert report.ok, report.problems
