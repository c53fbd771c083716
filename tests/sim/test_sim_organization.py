"""The seeded organization matches its scenario: ids, states, join methods, OU paths, contacts."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from rootaudit.simulate.sessions import error_of


def _ou_paths(orgs, root_id):
    """account id -> OU path, walking the tree through the API."""
    paths = {}

    def walk(parent, path):
        for page in orgs.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            for account in page["Accounts"]:
                paths[account["Id"]] = path
        for page in orgs.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
            for ou in page["OrganizationalUnits"]:
                walk(ou["Id"], f"{path}/{ou['Name']}")

    walk(root_id, "Root")
    return paths


def test_accounts_match_the_scenario(server_sim):
    scenario = server_sim.scenario
    orgs = server_sim.client("organizations")
    org = orgs.describe_organization()["Organization"]
    assert org["FeatureSet"] == "ALL" and org["MasterAccountId"] == scenario.management_account_id
    listed = [a for p in orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 5})
              for a in p["Accounts"]]
    assert {a["Id"] for a in listed} == set(scenario.accounts)
    for account in listed:
        spec = scenario.accounts[account["Id"]]
        assert (account["Name"], account["Email"], account["State"], account["JoinedMethod"]) == (
            spec.name, spec.email, spec.state, spec.joined_method)
        assert account["JoinedTimestamp"] == spec.joined_at
    assert {a["State"] for a in listed} == {"ACTIVE", "SUSPENDED", "PENDING_CLOSURE"}
    assert {a["JoinedMethod"] for a in listed} == {"CREATED", "INVITED"}
    paths = _ou_paths(orgs, orgs.list_roots()["Roots"][0]["Id"])
    assert paths == {a.account_id: a.ou_path for a in scenario.accounts.values()}
    assert any(p.count("/") >= 3 for p in paths.values()), "nested OUs"


def test_security_contacts_as_declared(server_sim):
    scenario = server_sim.scenario
    account = server_sim.client("account")
    assert any(not a.security_contact for a in scenario.accounts.values())
    for spec in scenario.accounts.values():
        extra = {} if spec.is_management else {"AccountId": spec.account_id}
        if spec.security_contact:
            contact = account.get_alternate_contact(AlternateContactType="SECURITY",
                                                    **extra)["AlternateContact"]
            assert contact["AlternateContactType"] == "SECURITY" and contact["EmailAddress"]
        else:
            with pytest.raises(ClientError) as exc:
                account.get_alternate_contact(AlternateContactType="SECURITY", **extra)
            assert error_of(exc)[0] == "ResourceNotFoundException"


def test_audit_refused_account_refuses_the_role_too(server_sim):
    spec = server_sim.scenario.by_kind("audit_refused")
    sts = server_sim.client("sts")
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=f"arn:aws:iam::{spec.account_id}:role/{server_sim.scenario.audit_role_name}",
                        RoleSessionName="rootaudit")
    assert error_of(exc) == ("AccessDenied", 403)
    fallback = server_sim.scenario.by_kind("assume_root_refused")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{fallback.account_id}:role/RootAuditReadOnly",
                            RoleSessionName="rootaudit")["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")


def test_environ_sets_and_restores(server_sim, monkeypatch):
    import os

    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with server_sim.environ() as values:
        assert os.environ["AWS_ENDPOINT_URL"] == server_sim.endpoint_url == values["AWS_ENDPOINT_URL"]
        assert "AWS_PROFILE" not in os.environ
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        import boto3

        identity = boto3.client("sts").get_caller_identity()
        assert identity["Account"] == server_sim.scenario.management_account_id
    assert os.environ["AWS_PROFILE"] == "production" and "AWS_ENDPOINT_URL" not in os.environ
