"""The fault matrix, second part: answers that look whole and are not, where the one claim rootaudit
exists to make ("0 of N member accounts have active root credentials") would be false.

The organization here is small, and one member account alone holds root credentials (a password and
an active access key): the fault-free run fails on it and on nothing else, so a fault that made it read
as clean, or dropped it, would make the clean claim. Each case rewrites the simulator's answers on the
wire (rootaudit.simulate.rewrites) or the snapshot on disk, and checks that the account is not assessed
with the reason (or, where another read can answer, is read that way with the reason), that no
root-credential control passes for it or for the organization, that the headline counts it and makes no
claim, and that the exit status is 2 (3 for a snapshot that cannot be read; 1 where the other read
found the credentials). Each `test_case_<id>` is one row of docs/reliability.md, as in
test_reliability_faults.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import SEED, Outcome
from tests.reliability.test_reliability_faults import ROOT_CREDENTIAL_CONTROLS, assert_reason_shown

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def organization() -> Iterator[Any]:
    """The management account, the delegated administrator (clean) and one member whose root holds a
    password and an active access key (the issue's case)."""
    from rootaudit.period import parse_period
    from rootaudit.simulate import SimulatedOrganization, build_scenario

    scenario = build_scenario(3, seed=SEED, period=parse_period("2026-Q3"))
    target = scenario.by_kind("active_root_key").root
    target.password = True
    target.password_created = scenario.period.start + timedelta(days=3)
    with SimulatedOrganization(scenario, mode="server") as sim:
        yield sim


def target_of(sim: Any) -> str:
    return str(sim.scenario.by_kind("active_root_key").account_id)


def claim_text(run: Outcome) -> str:
    return f"0 of {run.results.headline['member_accounts']} member accounts have active root credentials"


def assert_no_false_claim(run: Outcome, baseline: Outcome, target: str, fragment: str) -> None:
    """The target is not assessed, with `fragment` in the reason the auditor reads; nothing about its
    root credentials passes; the headline counts every member and makes no claim; exit status 2."""
    # The fault-free run: the target alone holds root credentials, so only it stands between the
    # organization and the clean claim.
    assert baseline.results.headline["active_root_credentials"].keys() == {target}
    assert baseline.results.headline["not_assessed"] == 0
    row = run.root_row(target)
    assert row["assessment"] == "not_assessed", row
    assert_reason_shown(run, str(row["reason"]), fragment)
    mine = run.statuses(target)
    for key in ROOT_CREDENTIAL_CONTROLS:
        assert mine[key] == "NOT_ASSESSED", (key, mine[key])
    org = run.statuses(None)
    for key in ROOT_CREDENTIAL_CONTROLS:
        assert org[key] != "PASS", key
    headline = run.results.headline
    assert headline["member_accounts"] == baseline.results.headline["member_accounts"]
    assert target in headline["not_assessed_accounts"]
    assert headline["claim_made"] is False
    assert claim_text(run) not in headline["claim"] and not run.in_pdf(claim_text(run))
    assert run.status == 2


@pytest.fixture(scope="module")
def claims_baseline(pipeline: Any) -> Outcome:
    return pipeline.run()


def test_case_list_accounts_omits_an_account(pipeline: Any, claims_baseline: Outcome, faults: Any) -> None:
    """ListAccounts answers 200 without the account that holds root credentials; the OU walk lists it.
    The account is kept in the population, not read, and not assessed with the disagreement as its
    reason; the headline counts it among the members and makes no claim; exit status 2."""
    from rootaudit.simulate import rewrites

    target = target_of(pipeline.sim)
    rule = faults.rewrite(rewrites.drop_accounts({target}), "organizations", "ListAccounts")
    run = pipeline.run()
    assert rule.hits >= 1
    assert_no_false_claim(run, claims_baseline, target, "missing from ListAccounts")
    assert target in run.results.headline["population_disagreement_accounts"]


@pytest.mark.slow  # four whole runs with their packs
@pytest.mark.parametrize("state", ["no_state", "SUSPENDED", "CLOSED", "PENDING_ACTIVATION"])
def test_case_account_state_missing_or_not_active(state: str, pipeline: Any, claims_baseline: Outcome,
                                                  faults: Any) -> None:
    """The account's ListAccounts and OU-walk entries have no State/Status, or one that is not ACTIVE.
    It is counted as a member, not assumed into, and not assessed with its state (UNKNOWN when none
    is given) in the reason, never NOT_APPLICABLE and never dropped from the count; no claim; exit
    status 2."""
    from rootaudit.simulate import rewrites

    target = target_of(pipeline.sim)
    fields = {"State": None, "Status": None} if state == "no_state" else {"State": state, "Status": None}
    edit = rewrites.set_account_fields({target}, **fields)
    rules = [faults.rewrite(edit, "organizations", op) for op in ("ListAccounts", "ListAccountsForParent")]
    run = pipeline.run()
    assert all(rule.hits >= 1 for rule in rules)
    shown = "UNKNOWN" if state == "no_state" else state
    assert_no_false_claim(run, claims_baseline, target, f"account is {shown}, not ACTIVE")
    assert run.results.headline["not_active_accounts"] == {target: shown}
    assert "NOT_APPLICABLE" not in set(run.statuses(target).values())


INCOMPLETE_ANSWERS = {
    "login_profile_without_profile": ("drop_xml_member", ("LoginProfile",), "GetLoginProfile",
                                      "GetLoginProfile answered without LoginProfile"),
    "access_keys_truncated_without_marker": ("truncated_without_marker", (), "ListAccessKeys",
                                             "ListAccessKeys answered without a marker"),
}


@pytest.mark.slow  # two whole runs with their packs
@pytest.mark.parametrize("answer", ["login_profile_without_profile", "access_keys_truncated_without_marker"])
def test_case_root_session_answer_incomplete(answer: str, pipeline: Any, claims_baseline: Outcome,
                                             faults: Any) -> None:
    """Root session: GetLoginProfile 200 without LoginProfile, or ListAccessKeys truncated, no Marker.
    Either answer lacks what botocore's output shape requires, or what the listing needs to go on, so
    it is an incomplete read, never "none": the account is read again from its credential report through
    the fallback role, the incomplete answer named in the reason (without a fallback role it is not
    assessed: tests/collect/test_collect_faults.py). The report shows the password and the key: the
    root-credential controls fail as in the fault-free run; no claim; exit status 1."""
    from rootaudit.simulate import rewrites

    target = target_of(pipeline.sim)
    make, args, operation, fragment = INCOMPLETE_ANSWERS[answer]
    rule = faults.rewrite(getattr(rewrites, make)(*args), "iam", operation, caller_account=target)
    run = pipeline.run()
    assert rule.hits >= 1
    row = run.root_row(target)
    assert (row["assessment"], row["method"]) == ("assessed", "credential_report"), row
    assert_reason_shown(run, str(row["reason"]), fragment)
    assert "assessed from the credential report through role" in str(row["reason"])
    assert run.results.headline["active_root_credentials"].keys() == {target}
    mine, before = run.statuses(target), claims_baseline.statuses(target)
    assert {key: mine[key] for key in ROOT_CREDENTIAL_CONTROLS} == {
        key: before[key] for key in ROOT_CREDENTIAL_CONTROLS}
    assert "FAIL" in {mine[key] for key in ROOT_CREDENTIAL_CONTROLS}
    assert run.results.headline["claim_made"] is False and not run.in_pdf(claim_text(run))
    assert run.status == 1


def test_case_listing_contradicts_account_summary(pipeline: Any, claims_baseline: Outcome,
                                                  faults: Any) -> None:
    """Root session: ListAccessKeys answers empty while GetAccountSummary has AccountAccessKeysPresent=1.
    The listings and the summary cannot both be true, so what root holds is unknown: the account is not
    assessed with both sides in the reason; no root-credential control passes; no claim; exit status 2."""
    from rootaudit.simulate import rewrites

    target = target_of(pipeline.sim)
    rule = faults.rewrite(rewrites.empty_xml_list("AccessKeyMetadata"), "iam", "ListAccessKeys",
                          caller_account=target)
    run = pipeline.run()
    assert rule.hits >= 1
    assert_no_false_claim(run, claims_baseline, target,
                          "GetAccountSummary AccountAccessKeysPresent=1, but ListAccessKeys found 0")


def test_case_snapshot_with_two_rows_for_one_account(pipeline: Any, claims_baseline: Outcome,
                                                     tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot with two root_credentials rows for the account, the clean one last (`rootaudit report`).
    A load error: exit status 3 with one line naming data/root_credentials.csv and the account; no
    pack is written, so there is no result and no claim to take for the snapshot's."""
    import shutil

    from rootaudit import cli
    from rootaudit.snapshot import frame_from_csv_bytes, frame_to_csv_bytes, make_frame

    target = target_of(pipeline.sim)
    assert claims_baseline.paths is not None
    folder = tmp_path / "snapshot"
    shutil.copytree(claims_baseline.paths.folder, folder)
    path = folder / "data" / "root_credentials.csv"
    rows = frame_from_csv_bytes("root_credentials", path.read_bytes()).to_dict("records")
    dirty = next(r for r in rows if r["account_id"] == target)
    clean = {**dirty, "password_present": False, "access_keys_active": 0, "access_keys_inactive": 0,
             "password_last_used": None, "access_key_last_used": None}
    path.write_bytes(frame_to_csv_bytes("root_credentials", make_frame("root_credentials", [*rows, clean])))
    out = tmp_path / "out"
    capsys.readouterr()
    status = cli.main(["report", str(folder), "--out", str(out), "--frameworks", "cis-aws-7.0.0"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 3
    assert len(err) == 1 and "data/root_credentials.csv" in err[0] and f"account_id={target}" in err[0], err
    assert not out.exists() or not list(out.iterdir())
