"""One population from every listing: an account one listing names and another omits is kept, not
assessed, with the disagreement as its reason (rootaudit/population.py), at collection and again at
evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from rootaudit import population
from rootaudit.collect import reconcile_population
from rootaudit.collectors.organization import account_rows
from rootaudit.snapshot import make_frame

A, B, C, D = "111111111111", "222222222222", "333333333333", "444444444444"


def entry(account_id: str, **fields: Any) -> dict[str, Any]:
    return {"Id": account_id, "Name": f"acct-{account_id[:3]}", "Email": f"{account_id}@example.com",
            "State": "ACTIVE", **fields}


def rows_of(entries: list[dict[str, Any]], named: dict[str, Any], unread: tuple[str, ...] = ()) -> dict:
    rows = account_rows(entries, A, set(), {}, {}, named, unread)
    return {r["account_id"]: r for r in rows}


def test_an_account_both_complete_listings_name_is_reconciled() -> None:
    rows = rows_of([entry(A), entry(B)], {"list_accounts": [A, B], "ou_walk": [A, B],
                                          "management_account": [A]})
    assert rows[B]["listed_by"] == "list_accounts,ou_walk"
    assert rows[A]["listed_by"] == "list_accounts,management_account,ou_walk"
    assert rows[A]["population_reason"] is None and rows[B]["population_reason"] is None


def test_an_account_the_walk_names_and_list_accounts_omits_is_kept_with_the_reason() -> None:
    # The case: ListAccounts leaves the account out without an error; the OU walk lists it.
    rows = rows_of([entry(A), entry(B, State="ACTIVE", Name="walked")],
                   {"list_accounts": [A], "ou_walk": [A, B]})
    assert rows[B]["name"] == "walked" and rows[B]["state"] == "ACTIVE"
    assert rows[B]["listed_by"] == "ou_walk"
    reason = rows[B]["population_reason"]
    assert "named by the OU walk (ListAccountsForParent)" in reason and "missing from ListAccounts" in reason


def test_list_parents_places_an_account_the_walk_missed() -> None:
    rows = rows_of([entry(A), entry(B)], {"list_accounts": [A, B], "ou_walk": [A], "list_parents": [B]})
    assert rows[B]["population_reason"] is None


def test_a_complete_walk_that_misses_a_listed_account_is_a_disagreement() -> None:
    rows = rows_of([entry(A), entry(B)], {"list_accounts": [A, B], "ou_walk": [A]})
    assert "missing from the OU walk (ListAccountsForParent) or ListParents" in rows[B]["population_reason"]


def test_an_ou_tree_that_could_not_be_read_is_a_gap_not_a_disagreement() -> None:
    rows = rows_of([entry(A), entry(B)], {"list_accounts": [A, B], "ou_walk": [A]}, unread=(B,))
    assert rows[B]["population_reason"] is None


def test_a_delegated_administrator_no_listing_names_is_kept() -> None:
    rows = rows_of([entry(A), entry(C, Status="SUSPENDED", State=None)],
                   {"list_accounts": [A], "ou_walk": [A], "delegated_administrators": [C]})
    assert rows[C]["state"] == "SUSPENDED"  # the retiring Status, where State is not given
    assert "ListDelegatedAdministrators" in rows[C]["population_reason"]


@pytest.mark.parametrize("fields", [{"State": None}, {"State": None, "Status": None}])
def test_an_entry_without_a_state_is_unknown_never_active(fields: dict[str, Any]) -> None:
    listed = entry(B, **fields)
    listed.pop("Status", None)
    rows = rows_of([entry(A), listed], {"list_accounts": [A, B], "ou_walk": [A, B]})
    assert rows[B]["state"] == "UNKNOWN"


def test_the_management_account_missing_from_list_accounts_is_added() -> None:
    rows = population.reconcile([{"account_id": B, "listed_by": "list_accounts,ou_walk",
                                  "population_reason": None}], {"management_account": [A]}, A)
    assert [r["account_id"] for r in rows] == [A, B]
    assert rows[0]["is_management"] is True and rows[0]["state"] == "UNKNOWN"
    assert "DescribeOrganization (the management account)" in rows[0]["population_reason"]
    assert rows[1]["population_reason"] is None


def frames_with(**extra: list[dict[str, Any]]) -> dict[str, Any]:
    accounts = [{"account_id": a, "state": "ACTIVE", "is_management": a == A,
                 "listed_by": "list_accounts,ou_walk"} for a in (A, B)]
    frames = {"accounts": make_frame("accounts", accounts),
              "organization": make_frame("organization", [{"organization_id": "o-1",
                                                            "management_account_id": A}]),
              "root_credentials": make_frame("root_credentials", [
                  {"account_id": a, "assessment": "assessed", "method": "assume_root_audit"}
                  for a in (A, B)])}
    for name in ("root_activity", "privileged_sessions", "sources"):
        frames[name] = make_frame(name, extra.get(name, []))
    return frames


def test_cloudtrail_recipient_accounts_join_the_population() -> None:
    frames = frames_with(
        root_activity=[{"event_id": "e1", "account_id": C, "kind": "console_login"}],
        sources=[{"source": "s3://b/p", "account_id": D, "region": "*", "item": "*", "status": "skipped",
                  "reason": "account not in the organization's account list; not read"},
                 {"source": "s3://b/p", "account_id": "*", "region": "*", "item": "*", "status": "read"}],
        privileged_sessions=[{"event_id": "s1", "target_account": "555555555555",
                              "error_code": "AccessDenied"}])
    reconcile_population(frames, A)
    accounts = frames["accounts"].set_index("account_id")
    assert sorted(accounts.index) == [A, B, C, D]  # a refused AssumeRoot proves nothing of its target
    for account in (C, D):
        assert accounts.loc[account, "listed_by"] == "cloudtrail"
        assert accounts.loc[account, "state"] == "UNKNOWN"
        assert "CloudTrail" in accounts.loc[account, "population_reason"]
    creds = frames["root_credentials"].set_index("account_id")
    assert creds.loc[C, "assessment"] == "not_assessed"
    assert creds.loc[C, "reason"] == accounts.loc[C, "population_reason"]
    assert population.counts(frames["accounts"].to_dict("records"))["disagreements"] == [C, D]


def test_the_controls_stage_reconciles_a_snapshot_too(snapshot_factory: Any) -> None:
    from rootaudit.controls import evaluate

    snapshot = snapshot_factory()
    clean = evaluate(snapshot, ["cis-aws-7.0.0"]).headline
    assert clean["claim_made"] is True, clean["claim"]
    stray = {"event_id": "e1", "event_time": "2026-08-01T00:00:00Z", "account_id": C,
             "kind": "console_login", "success": True}
    snapshot.frames["root_activity"] = make_frame("root_activity", [stray])
    headline = evaluate(snapshot, ["cis-aws-7.0.0"]).headline
    assert headline["claim_made"] is False
    assert headline["member_accounts"] == clean["member_accounts"] + 1
    assert C in headline["not_assessed_accounts"] and C in headline["population_disagreement_accounts"]


@pytest.fixture
def snapshot_factory() -> Any:
    from tests.controls.conftest import build

    return lambda: build(["clean_rcm"])


def test_list_accounts_leaving_an_account_out_on_the_wire(simulated: Any, collect: Any) -> None:
    """ListAccounts answers 200 without one account; the OU walk still lists it."""
    from rootaudit.simulate import rewrites

    with simulated(6) as sim:
        target = sim.scenario.by_kind("active_root_key").account_id
        rule = sim.faults.rewrite(rewrites.drop_accounts({target}), "organizations", "ListAccounts")
        run = collect(sim)
    assert rule.hits >= 1
    accounts = run.org.frames["accounts"].set_index("account_id")
    assert set(accounts.index) == set(sim.scenario.accounts)  # seen, and kept
    assert accounts.loc[target, "listed_by"] == "ou_walk"
    assert "missing from ListAccounts" in accounts.loc[target, "population_reason"]
    assert accounts["population_reason"].notna().sum() == 1
    row = run.row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert row["reason"] == accounts.loc[target, "population_reason"]
    assert any(target in w and "missing from ListAccounts" in w for w in run.org.meta["warnings"])


def test_listings_without_a_state_give_an_unknown_account_not_read(simulated: Any, collect: Any) -> None:
    from rootaudit.simulate import rewrites

    with simulated(6) as sim:
        target = sim.scenario.by_kind("active_root_key").account_id
        no_state = rewrites.set_account_fields({target}, State=None, Status=None)
        rules = [sim.faults.rewrite(no_state, "organizations", op)
                 for op in ("ListAccounts", "ListAccountsForParent")]
        run = collect(sim)
    assert all(r.hits >= 1 for r in rules)
    accounts = run.org.frames["accounts"].set_index("account_id")
    assert accounts.loc[target, "state"] == "UNKNOWN"
    assert accounts["population_reason"].isna().all()
    row = run.row(target)
    assert row["assessment"] == "not_assessed" and "account is UNKNOWN, not ACTIVE" in row["reason"]
