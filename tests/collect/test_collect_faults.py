"""Faults in the simulated organization: each gives not_assessed rows with their reasons where it should,
and leaves every other account's result as it was without the fault."""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
import pytest


def assert_others_unchanged(run: Any, baseline: Any, state: Any, except_ids: set[str]) -> None:
    got = run.creds.frames["root_credentials"]
    want = baseline.creds.frames["root_credentials"]
    keep_got = state(got[~got["account_id"].isin(except_ids)])
    keep_want = state(want[~want["account_id"].isin(except_ids)])
    pd.testing.assert_frame_equal(keep_got, keep_want)
    items, base_items = (
        run.creds.frames["root_credential_items"],
        baseline.creds.frames["root_credential_items"],
    )
    pd.testing.assert_frame_equal(
        items[~items["account_id"].isin(except_ids)].reset_index(drop=True),
        base_items[~base_items["account_id"].isin(except_ids)].reset_index(drop=True),
    )


def clean_account(scenario: Any, n: int = 0) -> str:
    return [a.account_id for a in scenario.members() if a.kind == "clean"][n]


def test_assume_root_denied_for_one_account(
    simulated: Any, collect: Any, baseline: Any, state: Any, matches_seed: Any
) -> None:
    with simulated(14) as sim:
        target = clean_account(sim.scenario)
        sim.faults.deny_assume_root(target)
        with_fallback = collect(sim)
        without_fallback = collect(sim, fallback_role="")
    spec = sim.scenario.account(target)
    row = with_fallback.row(target)
    assert row["method"] == "credential_report" and "sts:AssumeRoot" in row["reason"]
    assert "refused" in row["reason"] and "IAMAuditRootUserCredentials" in row["reason"]
    matches_seed(with_fallback, spec, "credential_report")
    row = without_fallback.row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "AccessDenied" in row["reason"] and "no fallback role" in row["reason"]
    assert_others_unchanged(with_fallback, baseline, state, {target})
    # Without a fallback role, the accounts that needed it are not assessed; every other one is unchanged.
    needed = {a.account_id for a in sim.scenario.members() if a.assume_root_refused}
    assert set(without_fallback.rows.query("assessment == 'not_assessed'").index) >= needed
    assert_others_unchanged(without_fallback, baseline, state, {target, *needed})


@pytest.mark.slow  # adaptive retries back off for real: about 20 s
def test_throttling_on_30_percent_of_calls_retries_then_succeeds(
    simulated: Any, collect: Any, baseline: Any, state: Any
) -> None:
    with simulated(14) as sim:
        rule = sim.faults.throttle(share=0.3, failures=1)
        run = collect(sim, workers=14)
    assert rule.hits >= 10
    assert_others_unchanged(run, baseline, state, set())
    pd.testing.assert_frame_equal(run.org.frames["accounts"], baseline.org.frames["accounts"])


def test_throttled_past_retries_is_not_assessed(
    simulated: Any, collect: Any, baseline: Any, state: Any
) -> None:
    with simulated(14) as sim:
        target = clean_account(sim.scenario, 1)
        sim.faults.throttle("iam", share=1.0, failures=None, caller_account=target)
        run = collect(sim, max_attempts=2)
    row = run.row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "throttled" in row["reason"] and "2 attempts" in row["reason"]
    assert_others_unchanged(run, baseline, state, {target})


def test_credential_report_stuck_in_progress(simulated: Any, collect: Any, baseline: Any, state: Any) -> None:
    with simulated(14) as sim:
        management = sim.scenario.management_account_id
        sim.faults.stuck_credential_report(management)
        run = collect(sim, report_wait=1.0)
    row = run.row(management)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "still not available after 1 s" in row["reason"]
    assert_others_unchanged(run, baseline, state, {management})


def test_suspended_and_closing_accounts_are_listed_not_clean(baseline: Any) -> None:
    for kind, word in (("suspended", "SUSPENDED"), ("pending_closure", "PENDING_CLOSURE")):
        spec = baseline.scenario.by_kind(kind)
        row = baseline.row(spec.account_id)
        assert (row["assessment"], row["method"]) == ("not_assessed", "none")
        assert word in row["reason"] and "does not assume into it" in row["reason"]
        assert pd.isna(row["access_keys_active"]) and pd.isna(row["password_present"])
        accounts = baseline.org.frames["accounts"].set_index("account_id")
        assert accounts.loc[spec.account_id, "state"] == word


def test_one_account_timing_out(simulated: Any, collect: Any, baseline: Any, state: Any) -> None:
    with simulated(14) as sim:
        target = sim.scenario.by_kind("signing_certificate").account_id
        # The budget runs on an injected clock per account: only the target's moves (the system's), so a
        # busy machine cannot time another account out; its held-back answers (8 s) outlast the client's
        # 3 s read time-outs, which outlast its 1.5 s budget.
        sim.faults.delay(8.0, service="iam", caller_account=target)
        run = collect(sim, timeout=1.5, workers=14, read_timeout=3.0, max_attempts=2,
                      budget_clock=lambda account: time.monotonic() if account == target else 0.0)
    row = run.row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "timed out" in row["reason"] and "1.5 s" in row["reason"]
    assert_others_unchanged(run, baseline, state, {target})


def assert_accounts_re_derived(org: Any) -> None:
    """The accounts follow from the responses kept (a failed listing's error included), as verify
    derives them; and an OU path edited does not."""
    from rootaudit.collectors.rederive import rederive_accounts
    from rootaudit.period import parse_period
    from tests.support.kept import as_kept

    kept = as_kept(org, parse_period("2026-Q3"))
    assert rederive_accounts(kept) == []
    kept.frames["accounts"].loc[0, "ou_path"] = "Root/Elsewhere"
    [problem] = rederive_accounts(kept)
    assert problem.file == "data/accounts.csv" and "ou_path is Root/Elsewhere" in problem.detail


def test_unreadable_ou_paths_and_contacts_are_kept_as_unknown_with_reasons(
    simulated: Any, collect: Any, baseline: Any
) -> None:
    # The simulation's faults can single out neither ListParents' ChildId nor a REST-JSON operation of the
    # Account API, so every OU path (the walk and the ListParents fallback) and every security contact is
    # refused here.
    with simulated(14) as sim:
        sim.faults.error("AccessDeniedException", 400, service="account")
        for operation in ("ListAccountsForParent", "ListParents"):
            sim.faults.error("AccessDeniedException", 400, service="organizations", operation=operation)
        run = collect(sim)
    accounts = run.org.frames["accounts"]
    assert accounts["ou_path"].isna().all()
    assert_accounts_re_derived(run.org)  # the refusals are kept raw, and the rows follow from them
    warnings = run.org.meta["warnings"]
    unread = [w for w in warnings if w.startswith("OU path of")]
    assert sorted(w.split()[3] for w in unread) == sorted(accounts["account_id"])
    assert all("AccessDenied" in w for w in unread)
    walk = [w for w in warnings if w.startswith("the OU tree could not be walked")]
    assert len(walk) == 1 and "ListAccountsForParent" in walk[0] and f"of {len(accounts)} accounts" in walk[0]
    assert (accounts["security_contact"] == "not_assessed").all()
    assert accounts["security_contact_reason"].str.contains("AccessDenied").all()
    assert accounts["security_contact_reason"].str.contains("account.amazonaws.com").all()
    # Nothing else changes: the population, and every account's root credentials.
    assert list(accounts["account_id"]) == list(baseline.org.frames["accounts"]["account_id"])
    pd.testing.assert_frame_equal(
        run.creds.frames["root_credentials"][["account_id", "assessment", "method"]],
        baseline.creds.frames["root_credentials"][["account_id", "assessment", "method"]],
    )


@pytest.mark.parametrize(
    "refused", ["ListRoots", "ListAccountsForParent", "ListOrganizationalUnitsForParent"]
)
def test_a_failed_walk_falls_back_to_list_parents_with_the_same_paths(
    simulated: Any, collect: Any, baseline: Any, refused: str
) -> None:
    with simulated(14) as sim:
        sim.faults.error("AccessDeniedException", 400, service="organizations", operation=refused)
        run = collect(sim)
    accounts = run.org.frames["accounts"].set_index("account_id")
    assert accounts["ou_path"].to_dict() == {a: s.ou_path for a, s in sim.scenario.accounts.items()}
    assert_accounts_re_derived(run.org)
    # The same population and the same facts; only which listing placed each account differs.
    pd.testing.assert_frame_equal(run.org.frames["accounts"].drop(columns="listed_by"),
                                  baseline.org.frames["accounts"].drop(columns="listed_by"))
    assert accounts["population_reason"].isna().all()
    placed_by_list_parents = {a for a, v in accounts["listed_by"].items() if "list_parents" in v}
    assert placed_by_list_parents and all("ou_walk" not in accounts.loc[a, "listed_by"]
                                          for a in placed_by_list_parents)
    walk = [w for w in run.org.meta["warnings"] if w.startswith("the OU tree could not be walked")]
    assert len(walk) == 1 and refused in walk[0] and "ListParents" in walk[0]
    calls = [c for c in run.ctx.call_log.rows() if c["service"] == "organizations"]
    described = [json.loads(c["parameters"])["OrganizationalUnitId"] for c in calls
                 if c["operation"] == "DescribeOrganizationalUnit"]
    # An OU the walk did not name is described once, however many accounts sit under it.
    assert len(described) == len(set(described))
    walked_ous = refused == "ListAccountsForParent"  # the OUs and their names were listed
    assert len(described) == (0 if walked_ous else len(sim.scenario.ou_paths))
    asked = {json.loads(c["parameters"])["ChildId"] for c in calls if c["operation"] == "ListParents"}
    walked_root = refused == "ListOrganizationalUnitsForParent"  # the root's own accounts were listed
    assert {a for a, s in sim.scenario.accounts.items() if not (walked_root and s.ou_path == "Root")} == {
        a for a in asked if a.isdigit()
    }


def test_an_account_moved_during_the_walk_is_found_by_list_parents(simulated: Any) -> None:
    from rootaudit.aws import AwsContext, AwsSettings
    from rootaudit.collectors.organization import collect_organization

    with simulated(14) as sim, sim.environ():
        admin = sim.client("organizations")
        root_id = admin.list_roots()["Roots"][0]["Id"]
        mover = next(a for a in sim.scenario.members() if a.ou_path == "Root/Workloads/Prod")
        ctx = AwsContext(AwsSettings(region=sim.scenario.region), session=sim.session())
        orgs = ctx.client("organizations")
        moved: list[str] = []

        def move_once(**_: Any) -> None:
            # One worker walks in a fixed order: the root's OUs are listed before any account listing,
            # and Prod's accounts long after the first; an OU made now under the root is never walked.
            if not moved:
                new_ou = admin.create_organizational_unit(ParentId=root_id, Name="Moved")
                moved.append(new_ou["OrganizationalUnit"]["Id"])
                prod = admin.list_parents(ChildId=mover.account_id)["Parents"][0]["Id"]
                admin.move_account(AccountId=mover.account_id, SourceParentId=prod,
                                   DestinationParentId=moved[0])

        orgs.meta.events.register("after-call.organizations.ListAccountsForParent", move_once)
        run = collect_organization(ctx, workers=1)
    paths = run.frames["accounts"].set_index("account_id")["ou_path"].to_dict()
    assert paths.pop(mover.account_id) == "Root/Moved"
    assert paths == {a: s.ou_path for a, s in sim.scenario.accounts.items() if a != mover.account_id}
    calls = [(c["operation"], json.loads(c["parameters"])) for c in ctx.call_log.rows()]
    assert [p["ChildId"] for op, p in calls if op == "ListParents"] == [mover.account_id, moved[0]]
    assert [p["OrganizationalUnitId"] for op, p in calls if op == "DescribeOrganizationalUnit"] == moved
    assert run.meta["warnings"] == []


def test_a_root_session_answering_incompletely_falls_back_to_the_credential_report(
    simulated: Any, collect: Any, baseline: Any, state: Any, matches_seed: Any
) -> None:
    """GetLoginProfile answers 200 without LoginProfile in one account's root session: that is no "no
    password", and the credential report through the fallback role is read instead, with why; without a
    fallback role the account is not assessed, the incomplete answer named."""
    from rootaudit.simulate import rewrites

    with simulated(14) as sim:
        target = next(a.account_id for a in sim.scenario.members() if a.kind == "password_no_mfa")
        rule = sim.faults.rewrite(rewrites.drop_xml_member("LoginProfile"), "iam", "GetLoginProfile",
                                  caller_account=target)
        with_fallback = collect(sim)
        assert rule.hits >= 1
        without_fallback = collect(sim, fallback_role="")
    row = with_fallback.row(target)
    assert (row["assessment"], row["method"]) == ("assessed", "credential_report")
    assert "GetLoginProfile answered without LoginProfile" in row["reason"]
    assert "assessed from the credential report through role" in row["reason"]
    matches_seed(with_fallback, sim.scenario.account(target), "credential_report")
    assert_others_unchanged(with_fallback, baseline, state, {target})
    row = without_fallback.row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "GetLoginProfile answered without LoginProfile" in row["reason"]
    assert "no fallback role is set" in row["reason"]
