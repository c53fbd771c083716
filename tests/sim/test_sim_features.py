"""The five IAM organization-feature calls and their errors."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from rootaudit.simulate.extensions import install
from rootaudit.simulate.sessions import error_of, role_session


def test_list_enable_disable_from_the_management_account(fresh_sim):
    iam = fresh_sim.client("iam")
    org_id = fresh_sim.client("organizations").describe_organization()["Organization"]["Id"]
    listed = iam.list_organizations_features()
    assert listed["OrganizationId"] == org_id
    assert listed["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    assert iam.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert iam.disable_organizations_root_credentials_management()["EnabledFeatures"] == []
    assert iam.enable_organizations_root_sessions()["EnabledFeatures"] == ["RootSessions"]
    resp = iam.enable_organizations_root_credentials_management()
    assert resp["OrganizationId"] == org_id
    assert resp["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]


def test_delegated_admin_may_list_and_disable_but_not_enable(fresh_sim):
    admin = role_session(fresh_sim, fresh_sim.scenario.delegated_admin_account_id)
    iam = fresh_sim.client("iam", session=admin)
    assert len(iam.list_organizations_features()["EnabledFeatures"]) == 2
    assert iam.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
    with pytest.raises(ClientError) as exc:
        iam.enable_organizations_root_sessions()
    assert error_of(exc) == ("CallerIsNotManagementAccountException", 400)


@pytest.mark.parametrize("call", ["list_organizations_features", "enable_organizations_root_sessions",
                                  "disable_organizations_root_credentials_management"])
def test_a_member_account_cannot_use_them(fresh_sim, call):
    member = role_session(fresh_sim, fresh_sim.scenario.by_kind("password_no_mfa").account_id)
    with pytest.raises(ClientError) as exc:
        getattr(fresh_sim.client("iam", session=member), call)()
    assert error_of(exc) == ("AccountNotManagementOrDelegatedAdministratorException", 400)


def test_without_trusted_access_for_iam(fresh_sim):
    fresh_sim.client("organizations").disable_aws_service_access(ServicePrincipal="iam.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        fresh_sim.client("iam").list_organizations_features()
    assert error_of(exc) == ("ServiceAccessNotEnabledException", 400)


def test_trusted_access_and_delegated_admin_for_iam_are_listed(fresh_sim):
    orgs = fresh_sim.client("organizations")
    principals = {s["ServicePrincipal"]
                  for s in orgs.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
    assert {"iam.amazonaws.com", "account.amazonaws.com"} <= principals
    listed = orgs.list_delegated_administrators(ServicePrincipal="iam.amazonaws.com")
    (admin,) = listed["DelegatedAdministrators"]
    assert admin["Id"] == fresh_sim.scenario.delegated_admin_account_id
    assert admin["Name"] == "security-tooling" and "DelegationEnabledDate" in admin


def test_outside_any_organization_and_without_all_features():
    install()
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        with pytest.raises(ClientError) as exc:
            iam.list_organizations_features()
        assert error_of(exc) == ("OrganizationNotFoundException", 400)
        boto3.client("organizations", region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_organization(FeatureSet="CONSOLIDATED_BILLING")
        with pytest.raises(ClientError) as exc:
            iam.enable_organizations_root_sessions()
        assert error_of(exc) == ("OrganizationNotInAllFeaturesModeException", 400)
