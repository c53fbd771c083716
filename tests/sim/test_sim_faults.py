"""The fault plan: refusals, throttling (transient and never-ending), delays, a failing page."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from rootaudit.simulate.sessions import error_of, role_session

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
RETRY = Config(retries={"mode": "standard", "total_max_attempts": 5})
THREE_TRIES = Config(retries={"mode": "standard", "total_max_attempts": 3})


def test_transient_throttling_succeeds_on_retry(fresh_server_sim):
    rule = fresh_server_sim.faults.throttle("iam", "ListOrganizationsFeatures", failures=2)
    with pytest.raises(ClientError) as exc:
        fresh_server_sim.client("iam", config=NO_RETRY).list_organizations_features()
    assert error_of(exc) == ("Throttling", 400)
    resp = fresh_server_sim.client("iam", config=RETRY).list_organizations_features()
    assert resp["ResponseMetadata"]["RetryAttempts"] == 1  # second failure, then success
    assert rule.hits == 2


def test_never_ending_throttling_fails_every_attempt(fresh_server_sim):
    fresh_server_sim.faults.throttle("organizations", "ListAccounts", failures=None)
    with pytest.raises(ClientError) as exc:
        fresh_server_sim.client("organizations", config=THREE_TRIES).list_accounts()
    assert error_of(exc) == ("TooManyRequestsException", 400)
    assert exc.value.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_throttling_a_share_is_deterministic(fresh_server_sim):
    scenario = fresh_server_sim.scenario
    fresh_server_sim.faults.throttle("sts", "AssumeRole", share=0.5, failures=None)
    sts = fresh_server_sim.client("sts", config=NO_RETRY)

    def outcome(account_id):
        try:
            sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/RootAuditReadOnly",
                            RoleSessionName="rootaudit")
            return "ok"
        except ClientError as exc:
            return error_of(exc)[0]

    members = [a.account_id for a in scenario.members() if not a.role_refused]
    first = [outcome(a) for a in members]
    assert first == [outcome(a) for a in members]
    assert {"ok", "Throttling"} == set(first)


def test_access_denied_on_assume_root_and_assume_role_for_one_account(fresh_server_sim):
    target = fresh_server_sim.scenario.by_kind("active_root_key").account_id
    fresh_server_sim.faults.deny_assume_root(target)
    fresh_server_sim.faults.deny_assume_role(target)
    sts = fresh_server_sim.client("sts")
    with pytest.raises(ClientError) as exc:
        sts.assume_root(TargetPrincipal=target, TaskPolicyArn={
            "arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})
    assert error_of(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        role_session(fresh_server_sim, target)
    assert error_of(exc) == ("AccessDenied", 403)


def test_error_rule_matches_the_target_account(fresh_server_sim):
    scenario = fresh_server_sim.scenario
    target = scenario.by_kind("inactive_root_key").account_id
    fresh_server_sim.faults.error("AccessDenied", 403, service="sts", operation="AssumeRoot",
                                  target_account=target)
    sts = fresh_server_sim.client("sts")
    task = {"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}
    with pytest.raises(ClientError) as exc:
        sts.assume_root(TargetPrincipal=target, TaskPolicyArn=task)
    assert error_of(exc) == ("AccessDenied", 403)
    assert sts.assume_root(TargetPrincipal=scenario.by_kind("active_root_key").account_id, TaskPolicyArn=task)


def test_credential_report_stuck_in_progress(fresh_server_sim):
    target = fresh_server_sim.scenario.by_kind("inactive_root_key").account_id
    fresh_server_sim.faults.stuck_credential_report(target)
    iam = fresh_server_sim.client("iam", session=role_session(fresh_server_sim, target))
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    assert iam.generate_credential_report()["State"] == "INPROGRESS"
    with pytest.raises(ClientError) as exc:
        iam.get_credential_report()
    assert error_of(exc) == ("ReportInProgress", 404)


def test_response_delayed_beyond_the_read_timeout_for_one_account(fresh_server_sim):
    scenario = fresh_server_sim.scenario
    slow = scenario.by_kind("inactive_root_key").account_id
    # Margins wide enough for a busy machine: held back 10 s, given up on after 1 s; the other account's
    # answer (not held back) only has to come within 5 s.
    fresh_server_sim.faults.delay(10.0, service="iam", caller_account=slow)
    impatient = Config(read_timeout=1.0, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ReadTimeoutError):
        fresh_server_sim.client("iam", session=role_session(fresh_server_sim, slow),
                                config=impatient).get_account_summary()
    fast = scenario.by_kind("active_root_key").account_id
    patient = Config(read_timeout=5.0, retries={"mode": "standard", "total_max_attempts": 1})
    assert fresh_server_sim.client("iam", session=role_session(fresh_server_sim, fast),
                                   config=patient).get_account_summary()["SummaryMap"]


def test_nth_page_of_list_accounts_fails_every_time(fresh_server_sim):
    fresh_server_sim.faults.fail_page(2)
    orgs = fresh_server_sim.client("organizations", config=THREE_TRIES)
    first = orgs.list_accounts(MaxResults=5)
    assert len(first["Accounts"]) == 5 and first["NextToken"]
    with pytest.raises(ClientError) as exc:
        orgs.list_accounts(MaxResults=5, NextToken=first["NextToken"])
    assert error_of(exc) == ("ServiceException", 500)
    with pytest.raises(ClientError):
        list(orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 5}))
    fresh_server_sim.faults.clear()
    assert len([a for p in orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 5})
                for a in p["Accounts"]]) == 12


def test_list_organizations_features_refused(fresh_server_sim):
    fresh_server_sim.faults.refuse_organizations_features()
    with pytest.raises(ClientError) as exc:
        fresh_server_sim.client("iam").list_organizations_features()
    assert error_of(exc) == ("AccountNotManagementOrDelegatedAdministratorException", 400)


def test_http_faults_are_refused_in_process_rather_than_ignored(fresh_sim):
    with pytest.raises(NotImplementedError, match="server mode"):
        fresh_sim.faults.throttle("iam")
    target = fresh_sim.scenario.by_kind("active_root_key").account_id
    fresh_sim.faults.deny_assume_role(target)  # these act inside the extensions: fine in process
    with pytest.raises(ClientError) as exc:
        role_session(fresh_sim, target)
    assert error_of(exc) == ("AccessDenied", 403)


def test_throttling_a_json_protocol_service(fresh_server_sim):
    fresh_server_sim.faults.throttle("sqs", "ListQueues", failures=None, code="ThrottlingException")
    with pytest.raises(ClientError) as exc:
        fresh_server_sim.client("sqs", config=NO_RETRY).list_queues()
    assert error_of(exc) == ("ThrottlingException", 400)
