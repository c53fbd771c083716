"""Both collectors on the simulated organization: every account's rows equal the seeded state, by both
methods; the organization row equals the seeded features; read-only, and no secret anywhere."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rootaudit.collectors.organization import CollectionAborted, collect_organization
from rootaudit.readonly import READ_ONLY_OPERATIONS
from rootaudit.snapshot import Snapshot

INACTIVE = {"suspended": "SUSPENDED", "pending_closure": "PENDING_CLOSURE"}


def test_every_account_matches_its_seeded_root_state(baseline: Any, matches_seed: Any) -> None:
    run, scenario = baseline, baseline.scenario
    assert set(run.rows.index) == set(scenario.accounts)
    seen_kinds = set()
    for spec in scenario.accounts.values():
        row = run.row(spec.account_id)
        seen_kinds.add(spec.kind)
        if spec.kind in INACTIVE:
            assert row["assessment"] == "not_assessed" and row["method"] == "none"
            assert INACTIVE[spec.kind] in row["reason"] and "never as clean" in row["reason"]
            assert not any(
                c["account_id"] == spec.account_id and c["operation"] in ("AssumeRoot", "AssumeRole")
                for c in run.ctx.call_log.rows()
            ), "assumed into an account that is not ACTIVE"
        elif spec.role_refused:  # neither AssumeRoot nor the fallback role: nothing may be claimed
            assert row["assessment"] == "not_assessed" and row["method"] == "none"
            assert "sts:AssumeRoot" in row["reason"] and "IAMAuditRootUserCredentials" in row["reason"]
            assert scenario.audit_role_name in row["reason"]
            assert run.items(spec.account_id).empty
        elif spec.is_management:
            matches_seed(run, spec, "credential_report")
            assert "cannot be managed centrally" in row["reason"]
        elif spec.assume_root_refused:
            matches_seed(run, spec, "credential_report")
            assert "refused" in row["reason"] and scenario.audit_role_name in row["reason"]
        else:
            matches_seed(run, spec, "assume_root_audit")
    assert {
        "clean",
        "management",
        "active_root_key",
        "invited_password_virtual_mfa",
        "password_hardware_mfa",
        "password_no_mfa",
        "inactive_root_key",
        "signing_certificate",
        "suspended",
        "pending_closure",
        "assume_root_refused",
        "audit_refused",
        "delegated_admin",
    } <= seen_kinds


def test_fallback_for_every_account_matches_the_seed(simulated: Any, collect: Any, matches_seed: Any) -> None:
    # With RootCredentialsManagement off, AssumeRoot cannot be used: every member goes by the report.
    with simulated(14, features=("RootSessions",)) as sim:
        run = collect(sim)
    organization = run.org.frames["organization"].iloc[0]
    assert not organization["root_credentials_management"] and organization["root_sessions"]
    assert not any(c["operation"] == "AssumeRoot" for c in run.ctx.call_log.rows())
    for spec in sim.scenario.accounts.values():
        row = run.row(spec.account_id)
        if spec.kind in INACTIVE or spec.role_refused:
            assert row["assessment"] == "not_assessed"
            continue
        matches_seed(run, spec, "credential_report")
        if not spec.is_management:
            assert "RootCredentialsManagement" in row["reason"]
            assert "cannot say whether root has a password" in row["reason"]


def test_organization_rows_equal_the_seed(baseline: Any) -> None:
    run, scenario = baseline, baseline.scenario
    org = run.org.frames["organization"].iloc[0].to_dict()
    assert org["management_account_id"] == scenario.management_account_id and org["feature_set"] == "ALL"
    assert org["iam_trusted_access"] is True
    assert org["root_credentials_management"] == ("RootCredentialsManagement" in scenario.features)
    assert org["root_sessions"] == ("RootSessions" in scenario.features)
    assert org["delegated_admins"] == scenario.delegated_admin_account_id
    assert org["features_status"] == "assessed"
    accounts = run.org.frames["accounts"].set_index("account_id")
    assert set(accounts.index) == set(scenario.accounts)
    for spec in scenario.accounts.values():
        got = accounts.loc[spec.account_id]
        assert (got["name"], got["state"], got["joined_method"]) == (
            spec.name,
            spec.state,
            spec.joined_method,
        )
        assert bool(got["is_management"]) == spec.is_management
        assert bool(got["is_delegated_admin"]) == spec.is_delegated_admin
        assert got["security_contact"] == ("registered" if spec.security_contact else "none")
        assert got["ou_path"] == spec.ou_path  # names, root first: Root/Workloads/Prod
    assert all(f"account/{a}/security_contact" in run.org.raw for a in scenario.accounts)
    # One walk of the tree, no ListParents per account; the OU ids stay in the raw listings.
    operations = [c["operation"] for c in run.ctx.call_log.rows() if c["service"] == "organizations"]
    assert "ListParents" not in operations and operations.count("ListRoots") == 1
    walked = {
        ou["Id"]: ou["Name"]
        for key, pages in run.org.raw.items()
        if key.startswith("organizations/list_organizational_units_for_parent/")
        for page in pages
        for ou in page["OrganizationalUnits"]
    }
    assert sorted(walked.values()) == sorted(p.rsplit("/", 1)[-1] for p in scenario.ou_paths)
    assert all(ou_id.startswith("ou-") for ou_id in walked)
    management_contact = [
        c
        for c in run.ctx.call_log.rows()
        if c["operation"] == "GetAlternateContact" and "AccountId" not in json.loads(c["parameters"])
    ]
    assert len(management_contact) == 1


def test_features_off_and_refused_are_told_apart(simulated: Any, collect: Any) -> None:
    with simulated(6, mode="server") as sim:
        sim.faults.refuse_organizations_features()
        run = collect(sim)
    org = run.org.frames["organization"]
    assert org["root_credentials_management"].isna().all() and org["root_sessions"].isna().all()
    assert org.loc[0, "features_status"] == "not_assessed"
    assert "management account" in org.loc[0, "features_reason"]
    # Unknown features do not stop the authoritative method from being tried (and here it works).
    assert "assume_root_audit" in set(run.creds.frames["root_credentials"]["method"])


def test_collection_is_read_only(baseline: Any) -> None:
    run = baseline
    made = run.ctx.call_log.operations()
    assert made - READ_ONLY_OPERATIONS == set()
    assert {("sts", "AssumeRoot"), ("iam", "GetCredentialReport"), ("organizations", "ListAccounts")} <= made
    assert all(r["outcome"] in ("ok", "error") for r in run.ctx.call_log.rows())


def test_no_secret_in_frames_raw_or_call_log(baseline: Any) -> None:
    run = baseline
    secrets = {c.secret_access_key for c in run.ctx.issued} | {c.session_token for c in run.ctx.issued}
    assert len(run.ctx.issued) >= 10 and all(len(s) >= 16 for s in secrets)
    snapshot = Snapshot(
        meta={}, frames={**run.org.frames, **run.creds.frames}, raw={**run.org.raw, **run.creds.raw}
    )
    import pandas as pd

    from rootaudit.snapshot import make_frame

    snapshot.frames["api_calls"] = make_frame("api_calls", run.ctx.call_log.rows())
    blobs = [json.dumps(snapshot.raw, default=str), json.dumps(run.ctx.call_log.rows(), default=str)]
    blobs += [frame.to_csv() for frame in snapshot.frames.values() if isinstance(frame, pd.DataFrame)]
    text = "\n".join(blobs)
    leaked = [s[:6] + "…" for s in secrets if s in text]
    assert leaked == []
    assert '"Credentials":' not in json.dumps(run.creds.raw, default=str)


def test_a_failing_page_of_accounts_aborts(simulated: Any) -> None:
    from rootaudit.aws import AwsContext, AwsSettings

    with simulated(6) as sim:
        sim.faults.fail_page(1)
        with sim.environ():
            ctx = AwsContext(AwsSettings(max_attempts=2), session=sim.session())
            with pytest.raises(CollectionAborted, match="ListAccounts"):
                collect_organization(ctx)
