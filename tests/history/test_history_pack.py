"""In the pack: drift inside the period (a credential created and deleted in the period is found and shown,
though the account is clean at both ends; the credential controls say so), and, when the history holds an
earlier pack of the organization, "Since the last pack" in the PDF and the workbook, and the trend."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pypdf
import pytest

from rootaudit.history.drift import NOT_CLEAN_THROUGHOUT, period_drift, speaks_of_credentials
from rootaudit.history.pack_view import SINCE_COLUMNS, history_view, since_rows
from rootaudit.history.render import render_history
from rootaudit.history.store import HistoryStore
from rootaudit.render.pack import write_pack

from .conftest import Collected


def test_a_credential_created_and_deleted_inside_the_period_is_found(collected: Collected) -> None:
    drift = {d.account_id: d for d in period_drift(collected.snapshots["later"])}
    d = drift[collected.drifted]
    assert [(e.event_name, e.success, e.task_policy) for e in d.events] == [
        ("CreateLoginProfile", True, "IAMCreateRootUserPassword"),
        ("DeleteLoginProfile", True, "IAMDeleteRootUserCredentials")]
    assert d.at_collection == "clean" and d.not_clean_throughout
    # the clean-up's account held its credentials until the clean-up: not clean throughout either
    assert drift[collected.quarters.cleaned].not_clean_throughout
    # the account whose password was created holds it at collection: active, not "clean throughout"
    created = drift[collected.quarters.password_created]
    assert created.at_collection == "active" and not created.not_clean_throughout
    assert {a for a, x in drift.items() if x.not_clean_throughout} == {collected.drifted,
                                                                       collected.quarters.cleaned}


def test_the_credential_controls_say_so_in_their_rationale(collected: Collected) -> None:
    cr = collected.results["later"].control_results
    soc2 = cr[(cr["control_id"] == "CC6.1") & cr["framework"].str.startswith("AICPA")]
    by_account = dict(zip(soc2["account_id"].fillna(""), soc2["rationale"], strict=True))
    assert NOT_CLEAN_THROUGHOUT in by_account[collected.drifted]
    assert "CreateLoginProfile" in by_account[collected.drifted]
    # the delegated administrator's account is clean, and no credential of its root changed
    clean_all_along = collected.quarters.later.by_kind("delegated_admin").account_id
    assert NOT_CLEAN_THROUGHOUT not in by_account[clean_all_along]
    assert "Not clean throughout the period: 2 member account(s)" in by_account[""]
    # the earlier quarter had no such change: nothing is said there
    earlier = collected.results["earlier"].control_results
    assert not earlier["rationale"].str.contains(NOT_CLEAN_THROUGHOUT, case=False).any()


def test_history_lists_both_quarters_oldest_first(collected: Collected, tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        store.add(collected.records["later"])
        store.add(collected.records["earlier"])
        records = store.records()
    assert [r.period for r in records] == ["2026-Q2", "2026-Q3"]
    table = render_history(records, "table").splitlines()
    assert table[2].startswith("2026-Q2") and table[3].startswith("2026-Q3")
    hipaa = [line for line in table if "164.308(a)(5)(ii)(C)" in line]
    assert hipaa and hipaa[0].split()[-2:] == ["PASS", "FAIL"]


@pytest.fixture(scope="module")
def later_pack(collected: Collected, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("packs")
    with HistoryStore.open(folder / "h.sqlite") as store:
        store.add(collected.records["earlier"])
        view = history_view(store, collected.snapshots["later"], collected.results["later"].control_results,
                            collected.results["later"].exceptions)
    paths = write_pack(collected.snapshots["later"], collected.results["later"], folder, history=view)
    return paths, view


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join("".join(page.extract_text().split()) for page in reader.pages)


def test_the_pdf_and_the_workbook_show_what_changed_since_the_last_pack(later_pack,
                                                                       collected: Collected) -> None:
    paths, view = later_pack
    q = collected.quarters
    rows = since_rows(view.diff)
    assert {r["account_id"] for r in rows if r["area"] in ("account", "root credential")} == {
        q.invited, q.password_created, q.cleaned}
    assert [r["name"] for r in rows if r["area"] == "risk acceptance"] == ["RISK-T-1"]
    assert not [r for r in rows if r["area"] == "organization feature"]
    text = _pdf_text(paths.folder / "evidence.pdf")
    assert "Sincethelastpack(2026-Q2" in text
    assert "Trendacrosstherecordedpacks" in text and "2026-Q3(thispack)" in text
    for account in (q.invited, q.password_created, q.cleaned, collected.drifted):
        assert account in text
    assert "notcleanthroughouttheperiod" in text
    wb = openpyxl.load_workbook(paths.folder / "evidence.xlsx", read_only=True)
    sheet = [list(r) for r in wb["Since the last pack"].iter_rows(values_only=True)]
    assert sheet[0] == SINCE_COLUMNS
    assert [[c or "" for c in r] for r in sheet[1:]] == [[r[c] for c in SINCE_COLUMNS] for r in rows]
    drift_sheet = list(wb["Period credential changes"].iter_rows(values_only=True))
    assert sum(1 for r in drift_sheet[1:] if r[0] == collected.drifted) == 2


def test_without_an_earlier_pack_there_is_no_since_section(collected: Collected, tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        store.add(collected.records["later"])
        earlier = collected.results["earlier"]
        view = history_view(store, collected.snapshots["earlier"], earlier.control_results,
                            earlier.exceptions)
    assert view.previous is None and view.diff is None and view.trend == []


def test_the_signals_that_speak_of_credentials_are_the_controls_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from rootaudit.controls import signals

    assert all(speaks_of_credentials([name]) for name in signals.CREDENTIAL_SIGNALS)
    others = set(signals.ACCOUNT_SIGNALS) - set(signals.CREDENTIAL_SIGNALS)
    assert others and not speaks_of_credentials(others)  # e.g. NO_ROOT_CONSOLE_LOGIN
    # one vocabulary: a credential signal the controls gain is one the drift's rationale speaks for
    monkeypatch.setitem(signals.CREDENTIAL_SIGNALS, "ROOT_SOMETHING_NEW_ABSENT", signals.root_creds_absent)
    assert speaks_of_credentials(["ROOT_SOMETHING_NEW_ABSENT"])
