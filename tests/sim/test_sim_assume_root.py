"""sts:AssumeRoot in the simulation: every refusal aws-api-facts.md lists, and a successful session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from rootaudit.simulate import SimulatedOrganization
from rootaudit.simulate.events import EVENT_LOG, AssumeRootCall
from rootaudit.simulate.sessions import AUDIT_TASK, error_of, role_session, root_session
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

S3_TASK = TASK_POLICY_PREFIX + "S3UnlockBucketPolicy"


def _assume_root(sim: SimulatedOrganization, target: str, task: str = AUDIT_TASK, session=None, **kw):
    return sim.client("sts", session=session).assume_root(TargetPrincipal=target,
                                                          TaskPolicyArn={"arn": task}, **kw)


def test_success_returns_asia_credentials_expiring_within_900s(server_sim):
    member = server_sim.scenario.by_kind("active_root_key").account_id
    before = datetime.now(UTC)
    resp = _assume_root(server_sim, member, DurationSeconds=600)
    after = datetime.now(UTC)
    creds = resp["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert creds["SecretAccessKey"] and creds["SessionToken"]
    # 600 s after the call was answered, to the second (bounds taken around the call, not a time limit)
    window = timedelta(seconds=600)
    assert before.replace(microsecond=0) + window <= creds["Expiration"] <= after + window
    assert "SourceIdentity" not in resp  # the management caller's session has none
    recorded = [e for e in EVENT_LOG.events() if isinstance(e, AssumeRootCall)
                and e.access_key_id == creds["AccessKeyId"]]
    assert len(recorded) == 1
    assert recorded[0].caller_account == server_sim.scenario.management_account_id
    assert recorded[0].target_account == member and recorded[0].region == "us-east-1"
    assert recorded[0].task_policy_arn == AUDIT_TASK and recorded[0].error_code == ""
    assert recorded[0].user_agent.startswith("Boto3/")  # the live caller's, not a placeholder


def test_target_given_as_root_arn_is_accepted(server_sim):
    member = server_sim.scenario.by_kind("inactive_root_key").account_id
    resp = _assume_root(server_sim, f"arn:aws:iam::{member}:root")
    assert resp["Credentials"]["AccessKeyId"].startswith("ASIA")


def test_sts_region_is_recorded(server_sim):
    member = server_sim.scenario.by_kind("inactive_root_key").account_id
    key = server_sim.client("sts", region="eu-west-1").assume_root(
        TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT_TASK})["Credentials"]["AccessKeyId"]
    (event,) = [e for e in EVENT_LOG.events() if isinstance(e, AssumeRootCall) and e.access_key_id == key]
    assert event.region == "eu-west-1"


@pytest.mark.parametrize("task", ["arn:aws:iam::aws:policy/AdministratorAccess",
                                  "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentialz",
                                  "arn:aws:iam::123456789012:policy/root-task/IAMAuditRootUserCredentials"])
def test_wrong_task_policy_is_refused(server_sim, task):
    member = server_sim.scenario.by_kind("active_root_key").account_id
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, member, task)
    assert error_of(exc) == ("ValidationError", 400)


def test_duration_over_900_is_refused(server_sim):
    member = server_sim.scenario.by_kind("active_root_key").account_id
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, member, DurationSeconds=901)
    assert error_of(exc) == ("ValidationError", 400)
    assert "900" in exc.value.response["Error"]["Message"]


def test_caller_outside_management_and_delegated_admin_is_refused(server_sim):
    scenario = server_sim.scenario
    outsider = role_session(server_sim, scenario.by_kind("password_hardware_mfa").account_id)
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, scenario.by_kind("active_root_key").account_id, session=outsider)
    assert error_of(exc) == ("AccessDenied", 403)


def test_delegated_admin_may_call_it(server_sim):
    scenario = server_sim.scenario
    admin = role_session(server_sim, scenario.delegated_admin_account_id, role="RootAccessAdmin")
    resp = _assume_root(server_sim, scenario.by_kind("active_root_key").account_id, session=admin)
    key = resp["Credentials"]["AccessKeyId"]
    (event,) = [e for e in EVENT_LOG.events() if isinstance(e, AssumeRootCall) and e.access_key_id == key]
    assert event.caller_account == scenario.delegated_admin_account_id
    assert event.caller_arn.startswith(f"arn:aws:sts::{scenario.delegated_admin_account_id}:assumed-role/")


def test_root_credentials_cannot_call_it(server_sim):
    scenario = server_sim.scenario
    root = root_session(server_sim, scenario.by_kind("active_root_key").account_id)
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, scenario.by_kind("inactive_root_key").account_id, session=root)
    assert error_of(exc) == ("AccessDenied", 403)


def test_long_term_root_key_cannot_call_it(server_sim):
    spec = server_sim.scenario.by_kind("active_root_key")
    key = spec.root.access_keys[0].key_id
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, server_sim.scenario.by_kind("inactive_root_key").account_id,
                     session=server_sim.session(key, "simulated-secret"))
    assert error_of(exc) == ("AccessDenied", 403)


@pytest.mark.parametrize("target", ["999999999999", "management"])
def test_target_must_be_a_member(server_sim, target):
    if target == "management":
        target = server_sim.scenario.management_account_id
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, target)
    assert error_of(exc) == ("AccessDenied", 403)


def test_scenario_refusal_is_access_denied_and_recorded(server_sim):
    target = server_sim.scenario.by_kind("assume_root_refused").account_id
    with pytest.raises(ClientError) as exc:
        _assume_root(server_sim, target)
    assert error_of(exc) == ("AccessDenied", 403)
    refused = [e for e in EVENT_LOG.events() if isinstance(e, AssumeRootCall) and e.target_account == target
               and e.error_code == "AccessDenied" and e.access_key_id == ""]
    assert refused, "a refused AssumeRoot is recorded too"
