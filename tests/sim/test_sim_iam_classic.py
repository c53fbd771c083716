"""Classic reads through a read-only role in the member (and the management caller's own): the credential
report's <root_account> row, the summary keys, root virtual MFA in ListVirtualMFADevices."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from rootaudit.simulate.rootstate import CREDENTIAL_REPORT_COLUMNS
from rootaudit.simulate.sessions import error_of, role_session

ROOT_KEYS = ("AccountMFAEnabled", "AccountAccessKeysPresent", "AccountSigningCertificatesPresent",
             "AccountPasswordPresent")


def _report(sim, iam):
    assert iam.generate_credential_report()["State"] in ("STARTED", "COMPLETE")
    resp = iam.get_credential_report()
    rows = list(csv.DictReader(io.StringIO(resp["Content"].decode())))
    return resp, rows


def _member_iam(sim, kind):
    spec = sim.scenario.by_kind(kind)
    return spec, sim.client("iam", session=role_session(sim, spec.account_id))


def test_generate_is_started_then_complete(server_sim):
    _, iam = _member_iam(server_sim, "inactive_root_key")
    with pytest.raises(ClientError) as exc:
        iam.get_credential_report()
    assert error_of(exc) == ("ReportNotPresent", 410)
    assert iam.generate_credential_report()["State"] == "STARTED"
    assert iam.generate_credential_report()["State"] == "COMPLETE"
    resp = iam.get_credential_report()
    assert resp["ReportFormat"] == "text/csv"
    assert datetime.now(UTC) - resp["GeneratedTime"] < timedelta(minutes=5)


def test_root_row_is_first_with_exact_values_for_an_active_key(server_sim):
    spec, iam = _member_iam(server_sim, "active_root_key")
    resp, rows = _report(server_sim, iam)
    header = resp["Content"].decode().splitlines()[0]
    assert header.split(",") == list(CREDENTIAL_REPORT_COLUMNS)
    root = rows[0]
    key = spec.root.access_keys[0]
    assert root == {
        "user": "<root_account>", "arn": f"arn:aws:iam::{spec.account_id}:root",
        "user_creation_time": spec.root.created.isoformat(), "password_enabled": "not_supported",
        "password_last_used": "N/A", "password_last_changed": "not_supported",
        "password_next_rotation": "not_supported", "mfa_active": "false",
        "access_key_1_active": "true", "access_key_1_last_rotated": key.created.isoformat(),
        "access_key_1_last_used_date": key.last_used.isoformat(),
        "access_key_1_last_used_region": "eu-west-1",
        "access_key_1_last_used_service": "s3",
        "access_key_2_active": "false", "access_key_2_last_rotated": "N/A",
        "access_key_2_last_used_date": "N/A",
        "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
        "cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false",
        "cert_2_last_rotated": "N/A",
    }


@pytest.mark.parametrize(("kind", "expected"), [
    ("delegated_admin", {"password_last_used": "N/A", "mfa_active": "false", "access_key_1_active": "false",
                         "access_key_1_last_rotated": "N/A", "cert_1_active": "false"}),
    ("password_hardware_mfa", {"password_last_used": "no_information", "mfa_active": "true"}),
    ("inactive_root_key", {"access_key_1_active": "false", "mfa_active": "false"}),
    ("signing_certificate", {"cert_1_active": "true", "cert_2_last_rotated": "N/A"}),
    ("assume_root_refused", {"mfa_active": "true", "password_enabled": "not_supported"}),
])
def test_root_row_values_per_case(server_sim, kind, expected):
    spec, iam = _member_iam(server_sim, kind)
    _, rows = _report(server_sim, iam)
    assert rows[0]["user"] == "<root_account>"
    assert {k: rows[0][k] for k in expected} == expected
    if kind == "signing_certificate":
        assert rows[0]["cert_1_last_rotated"] == spec.root.certificates[0].uploaded.isoformat()
    if kind == "inactive_root_key":
        assert rows[0]["access_key_1_last_rotated"] == spec.root.access_keys[0].created.isoformat()


def test_iam_users_follow_the_root_row(server_sim):
    _, iam = _member_iam(server_sim, "password_no_mfa")
    iam.create_user(UserName="deploy-bot")
    _, rows = _report(server_sim, iam)
    assert [r["user"] for r in rows] == ["<root_account>", "deploy-bot"]


@pytest.mark.parametrize(("kind", "values"), [
    ("delegated_admin", (0, 0, 0, 0)),
    ("invited_password_virtual_mfa", (1, 0, 0, 1)),
    ("active_root_key", (0, 1, 0, 0)),
    ("signing_certificate", (0, 0, 1, 0)),
])
def test_account_summary_root_keys(server_sim, kind, values):
    _, iam = _member_iam(server_sim, kind)
    summary = iam.get_account_summary()["SummaryMap"]
    assert tuple(summary[k] for k in ROOT_KEYS) == values


def test_virtual_mfa_of_root_is_listed_with_the_root_arn(server_sim):
    spec, iam = _member_iam(server_sim, "invited_password_virtual_mfa")
    devices = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    roots = [d for d in devices if d["User"]["Arn"] == f"arn:aws:iam::{spec.account_id}:root"]
    assert len(roots) == 1
    assert roots[0]["SerialNumber"] == spec.root.mfa_serial
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == []


def test_hardware_mfa_is_enabled_with_no_virtual_device(server_sim):
    _, iam = _member_iam(server_sim, "password_hardware_mfa")
    assert iam.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 1
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []


def test_management_account_root_through_the_callers_own_credentials(server_sim):
    scenario = server_sim.scenario
    mgmt = scenario.accounts[scenario.management_account_id]
    iam = server_sim.client("iam")
    summary = iam.get_account_summary()["SummaryMap"]
    assert tuple(summary[k] for k in ROOT_KEYS) == (1, 0, 0, 1)
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    _, rows = _report(server_sim, iam)
    assert rows[0]["arn"] == f"arn:aws:iam::{mgmt.account_id}:root"
    assert rows[0]["mfa_active"] == "true" and rows[0]["access_key_1_active"] == "false"
    assert rows[0]["password_last_used"] == mgmt.root.password_last_used.isoformat()
