"""Re-derivation: the organization and root credential frames follow from the raw responses a real
(simulated) collection kept, and every edit the responses do not support is named by account and column."""

from __future__ import annotations

import shutil
from pathlib import Path

from rootaudit.collectors.rederive import rederive
from rootaudit.snapshot import Snapshot, load_snapshot
from tests.signing.conftest import SignedRun


def loaded(signed: SignedRun) -> Snapshot:
    return load_snapshot(signed.snapshot)


def test_a_collection_is_supported_by_its_own_responses(signed: SignedRun) -> None:
    snapshot = loaded(signed)
    assert (snapshot["root_credentials"]["assessment"] == "assessed").sum() >= 3
    assert rederive(snapshot) == []


def test_an_organization_setting_flipped_is_named(signed: SignedRun) -> None:
    snapshot = loaded(signed)
    assert bool(snapshot["organization"].loc[0, "root_sessions"]) is True
    snapshot.frames["organization"].loc[0, "root_sessions"] = False
    [problem] = rederive(snapshot)
    assert problem.file == "data/organization.csv"
    assert "root_sessions is false, the responses give true" in problem.detail


def test_a_method_changed_is_named(signed: SignedRun) -> None:
    snapshot = loaded(signed)
    creds = snapshot.frames["root_credentials"]
    session = creds.index[(creds["method"] == "assume_root_audit")][0]
    account = creds.loc[session, "account_id"]
    creds.loc[session, "mfa_devices"] = 7
    creds.loc[session, "method"] = "credential_report"
    details = [p.detail for p in rederive(snapshot) if account in p.detail]
    assert details == [f"account {account}: assessed (credential_report) but the pack holds no "
                       f"get_credential_report response for it (data/raw/root_credentials/{account}/): the "
                       "row rests on nothing the pack can show"]


def test_a_row_without_its_responses_says_so(signed: SignedRun, tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    shutil.copytree(signed.snapshot, folder)
    snapshot = load_snapshot(folder)
    account = str(snapshot["root_credentials"].query("assessment == 'assessed'")["account_id"].iloc[0])
    shutil.rmtree(folder / "data" / "raw" / "root_credentials" / account)
    (folder / "data" / "raw" / "organizations" / "describe_organization.json.gz").unlink()
    problems = {p.file: p.detail for p in rederive(load_snapshot(folder))}
    assert "rests on nothing the pack can show" in problems["data/root_credentials.csv"]
    assert account in problems["data/root_credentials.csv"]
    assert "organizations/describe_organization" in problems["data/organization.csv"]


def test_an_item_added_or_removed_is_named(signed: SignedRun) -> None:
    snapshot = loaded(signed)
    items = snapshot.frames["root_credential_items"]
    assert len(items)
    first = items.iloc[0]
    snapshot.frames["root_credential_items"] = items.iloc[1:].reset_index(drop=True)
    [problem] = [p for p in rederive(snapshot) if p.file == "data/root_credential_items.csv"]
    assert f"the responses hold {first['kind']} {first['id']}" in problem.detail
