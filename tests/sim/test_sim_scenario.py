"""Scenarios: deterministic from the seed, every case present, history consistent with the root state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rootaudit.period import parse_period
from rootaudit.simulate import SPECIAL_KINDS, build_scenario
from rootaudit.simulate.events import AssumeRootCall, RootConsoleLogin, RootKeyCall, RootSessionAction
from rootaudit.simulate.taskpolicies import TASK_NAMES, TASK_POLICY_PREFIX

PERIOD = parse_period("2026-Q3")


def _fingerprint(scenario):
    return ([(a.account_id, a.name, a.state, a.joined_method, a.ou_path, a.kind,
              a.root.credential_report_line(), a.assume_root_refused, a.role_refused, a.security_contact)
             for a in scenario.accounts.values()], scenario.history)


def test_same_seed_same_organization_and_history():
    assert _fingerprint(build_scenario(40, 7, PERIOD)) == _fingerprint(build_scenario(40, 7, PERIOD))


def test_another_seed_another_organization():
    a, b = build_scenario(40, 7, PERIOD), build_scenario(40, 8, PERIOD)
    assert set(a.accounts) != set(b.accounts)
    assert a.management_account_id == b.management_account_id == "123456789012"


def test_default_has_every_case():
    scenario = build_scenario(period=PERIOD)
    assert len(scenario.accounts) == 12
    assert scenario.kinds() == set(SPECIAL_KINDS)
    assert scenario.features == ("RootCredentialsManagement", "RootSessions")
    mgmt = scenario.accounts[scenario.management_account_id]
    assert mgmt.is_management and mgmt.root.mfa == "hardware" and mgmt.root.password
    assert not mgmt.root.access_keys
    admin = scenario.accounts[scenario.delegated_admin_account_id]
    assert admin.name == "security-tooling" and not admin.root.has_credentials
    assert scenario.by_kind("invited_password_virtual_mfa").joined_method == "INVITED"
    assert scenario.by_kind("invited_password_virtual_mfa").root.mfa == "virtual"
    assert scenario.by_kind("password_hardware_mfa").root.mfa == "hardware"
    assert scenario.by_kind("active_root_key").root.access_keys[0].status == "Active"
    assert [k.status for k in scenario.by_kind("inactive_root_key").root.access_keys] == ["Inactive"]
    assert scenario.by_kind("signing_certificate").root.certificates
    no_mfa = scenario.by_kind("password_no_mfa").root
    assert no_mfa.password and no_mfa.mfa == "none"
    assert scenario.by_kind("suspended").state == "SUSPENDED"
    assert scenario.by_kind("pending_closure").state == "PENDING_CLOSURE"
    refused = scenario.by_kind("assume_root_refused")
    assert refused.assume_root_refused and not refused.role_refused
    blocked = scenario.by_kind("audit_refused")
    assert blocked.assume_root_refused and blocked.role_refused
    contacts = [a.security_contact for a in scenario.accounts.values()]
    assert sum(contacts) > len(contacts) / 2 and not all(contacts)


def test_large_organizations_are_mostly_clean():
    # How fast it is built is a benchmark's business (bench/), not a test's.
    scenario = build_scenario(1000, 3, PERIOD)
    assert len(scenario.accounts) == 1000 and len(set(scenario.accounts)) == 1000
    clean = sum(not a.root.has_credentials for a in scenario.accounts.values())
    assert clean > 900
    assert scenario.kinds() >= set(SPECIAL_KINDS)
    assert all(len(a) == 12 and a.isdigit() for a in scenario.accounts)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_small_organizations(n):
    scenario = build_scenario(n, 7, PERIOD)
    assert len(scenario.accounts) == n
    assert next(iter(scenario.accounts.values())).is_management


@pytest.mark.parametrize("n", [0, 5001])
def test_sizes_out_of_range_are_refused(n):
    with pytest.raises(ValueError, match="between 1 and 5000"):
        build_scenario(n, 7, PERIOD)


def test_history_covers_the_period_and_agrees_with_root_state():
    scenario = build_scenario(12, 7, PERIOD)
    history = scenario.history
    inside = [e for e in history if PERIOD.contains(e.time)]
    outside = [e for e in history if not PERIOD.contains(e.time)]
    assert len(inside) > 10
    # Just outside: one audit session (the call and its actions) before, one sign-in after.
    assert {type(e) for e in outside} == {AssumeRootCall, RootSessionAction, RootConsoleLogin}
    assert sum(isinstance(e, AssumeRootCall | RootConsoleLogin) for e in outside) == 2
    assert all(abs(e.time - PERIOD.start) < timedelta(days=7) or abs(e.time - PERIOD.end) < timedelta(days=7)
               for e in outside)
    calls = [e for e in history if isinstance(e, AssumeRootCall)]
    assert {c.task_policy_arn for c in calls} == {TASK_POLICY_PREFIX + t for t in TASK_NAMES}
    (refused,) = [c for c in calls if c.error_code]
    assert refused.error_code == "AccessDenied" and not refused.access_key_id
    assert refused.target_account == scenario.by_kind("assume_root_refused").account_id
    actions = [e for e in history if isinstance(e, RootSessionAction)]
    keys = {c.access_key_id for c in calls if not c.error_code}
    assert all(a.access_key_id in keys for a in actions)
    for call in calls:
        if call.error_code:
            continue
        mine = [a for a in actions if a.access_key_id == call.access_key_id]
        assert mine, f"session {call.task_policy_arn} made no member-side action"
        assert all(a.account_id == call.target_account for a in mine)
        assert all(call.time <= a.time <= call.expiration for a in mine)
    denied = [a for a in actions if a.error_code == "AccessDenied"]
    assert len(denied) == 1
    assert all(a.region == "us-east-1" for a in actions if a.event_source == "iam.amazonaws.com")
    assert any(c.caller_account == scenario.delegated_admin_account_id for c in calls)
    logins = [e for e in history if isinstance(e, RootConsoleLogin) and PERIOD.contains(e.time)]
    assert {(e.success, e.mfa_used) for e in logins} == {(True, True), (False, False), (True, False)}
    for login in logins:
        if login.success:
            assert scenario.accounts[login.account_id].root.password_last_used == login.time
    (key_call,) = [e for e in history if isinstance(e, RootKeyCall)]
    holder = scenario.by_kind("active_root_key")
    assert key_call.account_id == holder.account_id
    key = holder.root.access_keys[0]
    assert (key_call.access_key_id, key_call.time, key_call.region) == (key.key_id, key.last_used,
                                                                        key.last_used_region)
    created = scenario.by_kind("password_no_mfa").root.password_created
    assert any(c.task_policy_arn.endswith("IAMCreateRootUserPassword") and c.time == created for c in calls)


def test_trail_description():
    trail = build_scenario(12, 7, PERIOD).trail
    assert trail.bucket and trail.prefix and trail.trail_name and trail.log_group and trail.sns_topic
    assert trail.home_region in trail.regions and "@" in trail.subscriber_email


def test_same_seed_gives_the_same_organization_id() -> None:
    """The pack is named after the organization: the same scenario must give the same name."""
    from rootaudit.simulate import SimulatedOrganization

    ids = []
    for _ in range(2):
        with SimulatedOrganization(build_scenario(accounts=3, seed=11), mode="inprocess") as sim:
            ids.append(sim.client("organizations").describe_organization()["Organization"]["Id"])
    assert ids[0] == ids[1]
    assert ids[0].startswith("o-")
