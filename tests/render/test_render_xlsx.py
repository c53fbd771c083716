from __future__ import annotations

import io
import time
import zipfile
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from rootaudit.render.pack import PackPaths
from rootaudit.render.xlsx import render_xlsx
from rootaudit.snapshot import Snapshot
from tests.support.sample import HOSTILE_NAME, sample_results, sample_snapshot

SHEETS = [
    "Summary",
    "Sample Benchmark 1.0",
    "Control results",
    "Accounts",
    "Root credentials",
    "Credential items",
    "Privileged sessions",
    "Root activity",
    "Monitoring",
    "Exceptions",
    "Sources",
    "API calls",
]


@pytest.fixture(scope="module")
def workbook(pack: PackPaths) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO((pack.folder / "evidence.xlsx").read_bytes()))


def column(ws, name: str) -> list:
    header = [c.value for c in ws[1]]
    idx = header.index(name)
    return [row[idx] for row in ws.iter_rows(min_row=2, values_only=True)]


def test_every_sheet_is_a_filtered_table_with_a_frozen_header(workbook: openpyxl.Workbook) -> None:
    assert set(SHEETS) <= set(workbook.sheetnames)
    for name in SHEETS:
        ws = workbook[name]
        assert len(ws.tables) == 1, name
        table = next(iter(ws.tables.values()))
        assert table.ref.startswith("A1:") and table.ref.endswith(str(ws.max_row)), name
        assert ws.freeze_panes == "A2", name
        assert ws.column_dimensions["A"].width >= 8, name


def test_accounts_sheet_holds_the_whole_population(workbook: openpyxl.Workbook, snapshot: Snapshot) -> None:
    ws = workbook["Accounts"]
    assert column(ws, "account_id") == list(snapshot["accounts"]["account_id"])
    postures = column(ws, "posture")
    assert postures.count("active_credentials") == 4 and postures.count("not_assessed") == 1
    assert postures.count("clean") == 35


def test_accounts_sheet_keeps_counts_as_numbers(workbook: openpyxl.Workbook, snapshot: Snapshot) -> None:
    """Counts an auditor filters and sums are numbers, not text that looks like a number."""
    values = [v for v in column(workbook["Accounts"], "access_keys_active") if v is not None]
    assert values and all(isinstance(v, int) for v in values), values[:5]
    creds = snapshot["root_credentials"]
    assert sum(values) == int(creds["access_keys_active"].sum())


def test_sessions_and_headline_are_in_the_workbook(workbook: openpyxl.Workbook, snapshot: Snapshot) -> None:
    assert column(workbook["Privileged sessions"], "event_id") == list(
        snapshot["privileged_sessions"]["event_id"]
    )
    summary = dict(workbook["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Member accounts with active root credentials"] == 4
    assert summary["Evidence collected (UTC)"] == datetime(2026, 10, 2, 8, 15)
    assert summary["Clean headline stated"] is False


def test_framework_sheet_is_a_status_matrix_of_every_account(workbook: openpyxl.Workbook, results) -> None:
    ws = workbook["Sample Benchmark 1.0"]
    header = [c.value for c in ws[1]]
    assert header == ["account_id", "name", "R1", "R2"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    cr = results.control_results
    assert set(rows) == {"(organization)", *cr["account_id"].dropna()}
    for acct, control, status, accepted in (
        cr[["account_id", "control_id", "status", "exception_status"]]
        .fillna({"exception_status": ""})
        .astype(object)
        .itertuples(index=False)
    ):
        key = "(organization)" if pd.isna(acct) else acct
        shown = rows[key][header.index(control)]
        assert shown == (f"{status} (accepted)" if accepted == "accepted" else status), (acct, control)
    findings = list(workbook["Control results"].iter_rows(min_row=2, values_only=True))
    assert len(findings) == int(
        (cr["account_id"].isna() | ~cr["status"].isin(["PASS", "NOT_APPLICABLE"])).sum()
    )


def test_status_columns_are_coloured(workbook: openpyxl.Workbook) -> None:
    rules = workbook["Sample Benchmark 1.0"].conditional_formatting
    formulas = {f for cf in rules for r in cf.rules for f in r.formula}
    assert {'"PASS"', '"FAIL"', '"NOT_ASSESSED"'} <= formulas


def test_formula_like_name_is_text_not_a_formula(workbook: openpyxl.Workbook, pack: PackPaths) -> None:
    ws = workbook["Accounts"]
    cell = next(c for row in ws.iter_rows(min_row=2) for c in row if c.value == HOSTILE_NAME)
    assert cell.data_type == "s" and cell.quotePrefix
    with zipfile.ZipFile(pack.folder / "evidence.xlsx") as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name), name


@pytest.mark.parametrize("name", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_every_formula_prefix_is_neutralised(name: str) -> None:
    snap = sample_snapshot(accounts=3, with_credentials=1, not_assessed=0, sessions=1, hostile_names=False)
    accounts = snap["accounts"].copy()
    accounts.loc[accounts.index[-1], "name"] = name
    snap.frames["accounts"] = accounts
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(snap, sample_results(snap))))
    stored = name.replace("\r", "_x000D_")  # Excel's escape for CR, which XML would turn into LF
    cells = [c for row in wb["Accounts"].iter_rows(min_row=2) for c in row if c.value == stored]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


def test_workbook_bytes_do_not_depend_on_when_it_is_rendered(snapshot: Snapshot) -> None:
    results = sample_results(snapshot)
    first = render_xlsx(snapshot, results)
    time.sleep(1.1)  # openpyxl stamps the wall clock to the second
    assert render_xlsx(snapshot, results) == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2026, 10, 2, 8, 15, 0)}
        assert b"2026-10-02T08:15:00Z" in zf.read("docProps/core.xml")


def test_every_time_is_a_date_and_every_flag_a_boolean(workbook: openpyxl.Workbook) -> None:
    """Each frame's time columns (schema kind "time") are Excel dates, with UTC in the column name, and
    its flags (kind "bool") are boolean cells: an auditor sorts and filters them as such."""
    from rootaudit.snapshot import ALL_SCHEMAS

    sheets = {"Accounts": {**ALL_SCHEMAS["accounts"], **ALL_SCHEMAS["root_credentials"]},
              "Root credentials": ALL_SCHEMAS["root_credentials"],
              "Credential items": ALL_SCHEMAS["root_credential_items"],
              "Privileged sessions": ALL_SCHEMAS["privileged_sessions"],
              "Root activity": ALL_SCHEMAS["root_activity"], "Monitoring": ALL_SCHEMAS["monitoring"],
              "Sources": ALL_SCHEMAS["sources"], "API calls": ALL_SCHEMAS["api_calls"]}
    checked = {"time": 0, "bool": 0}
    for name, kinds in sheets.items():
        ws = workbook[name]
        header = [c.value for c in ws[1]]
        for col, kind in kinds.items():
            if kind not in checked:
                continue
            title = f"{col} (UTC)" if kind == "time" else col
            assert title in header, (name, title)
            values = [v for v in column(ws, title) if v is not None]
            want = datetime if kind == "time" else bool
            assert all(isinstance(v, want) for v in values), (name, col, values[:3])
            checked[kind] += len(values)
    assert checked["time"] > 100 and checked["bool"] > 100, checked
