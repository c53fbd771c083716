"""AssumeRoot refusals that need a simulation of their own (features switched off, the global endpoint)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from rootaudit.simulate import SimulatedOrganization
from rootaudit.simulate.sessions import AUDIT_TASK, error_of
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

S3_TASK = TASK_POLICY_PREFIX + "S3UnlockBucketPolicy"


def _assume_root(sim: SimulatedOrganization, target: str, task: str = AUDIT_TASK, session=None, **kw):
    return sim.client("sts", session=session).assume_root(TargetPrincipal=target,
                                                          TaskPolicyArn={"arn": task}, **kw)


def test_missing_feature_refuses_the_tasks_that_need_it(fresh_sim):
    member = fresh_sim.scenario.by_kind("active_root_key").account_id
    iam = fresh_sim.client("iam")
    iam.disable_organizations_root_sessions()
    with pytest.raises(ClientError) as exc:
        _assume_root(fresh_sim, member, S3_TASK)
    assert error_of(exc) == ("AccessDenied", 403)
    assert _assume_root(fresh_sim, member)["Credentials"]  # IAM tasks need RootCredentialsManagement only
    iam.disable_organizations_root_credentials_management()
    with pytest.raises(ClientError) as exc:
        _assume_root(fresh_sim, member)
    assert error_of(exc) == ("AccessDenied", 403)
    iam.enable_organizations_root_sessions()
    assert _assume_root(fresh_sim, member, S3_TASK)["Credentials"]


def test_global_endpoint_is_refused(fresh_sim):
    member = fresh_sim.scenario.by_kind("active_root_key").account_id
    sts = fresh_sim.session().client("sts", region_name="us-east-1", endpoint_url="https://sts.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT_TASK})
    assert error_of(exc) == ("AccessDenied", 403)
    regional = fresh_sim.session().client("sts", region_name="us-east-1",
                                          endpoint_url="https://sts.us-east-1.amazonaws.com")
    assert regional.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT_TASK})["Credentials"]
