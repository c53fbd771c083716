"""Pure transforms on recorded raw responses, shaped as botocore returns them."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from botocore.exceptions import ClientError

from rootaudit.aws import error_raw
from rootaudit.collectors.organization import (
    account_rows,
    contact_from_error,
    contact_from_response,
    features_reason,
    names_path,
    organization_row,
)
from rootaudit.collectors.report_method import report_outcome
from rootaudit.collectors.root_session import mfa_kind_from_serials, root_session_outcome
from rootaudit.snapshot import make_frame

ACCT = "222233334444"
T = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def client_error(code: str, op: str = "ListOrganizationsFeatures", message: str = "no") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


def root_session_raw(**over: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "get_login_profile": {
            "LoginProfile": {"UserName": "", "CreateDate": T, "PasswordResetRequired": False}
        },
        "list_access_keys": [
            {
                "AccessKeyMetadata": [
                    {"AccessKeyId": "AKIAROOTKEY000000001", "Status": "Active", "CreateDate": T},
                    {"AccessKeyId": "AKIAROOTKEY000000002", "Status": "Inactive", "CreateDate": T},
                ],
                "IsTruncated": False,
            }
        ],
        "get_access_key_last_used/AKIAROOTKEY000000001": {
            "AccessKeyLastUsed": {
                "LastUsedDate": datetime(2026, 9, 1, tzinfo=UTC),
                "ServiceName": "s3",
                "Region": "us-east-1",
            }
        },
        "get_access_key_last_used/AKIAROOTKEY000000002": {
            "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}
        },
        "list_mfa_devices": [
            {
                "MFADevices": [
                    {"SerialNumber": f"arn:aws:iam::{ACCT}:mfa/root-account-mfa-device", "EnableDate": T}
                ]
            }
        ],
        "list_signing_certificates": [{"Certificates": []}],
        "get_user": {
            "User": {
                "Arn": f"arn:aws:iam::{ACCT}:root",
                "PasswordLastUsed": T,
                "UserId": ACCT,
                "UserName": "",
                "Path": "/",
                "CreateDate": T,
            }
        },
        "get_account_summary": {
            "SummaryMap": {
                "AccountMFAEnabled": 1,
                "AccountAccessKeysPresent": 1,
                "AccountSigningCertificatesPresent": 0,
            }
        },
    }
    raw.update(over)
    return raw


def test_root_session_outcome_counts_and_items() -> None:
    out = root_session_outcome(ACCT, root_session_raw(), "2026-09-30T00:00:00Z")
    row = out.row
    assert row["method"] == "assume_root_audit" and row["assessment"] == "assessed"
    assert row["password_present"] is True
    assert (row["access_keys_active"], row["access_keys_inactive"]) == (1, 1)
    assert row["mfa_devices"] == 1 and row["mfa_kind"] == "virtual"
    assert row["access_key_last_used"] == "2026-09-01T00:00:00Z"
    assert row["password_last_used"] == "2026-08-01T12:00:00Z"
    assert row["reason"] is None
    kinds = sorted((i["kind"], i["id"], i["status"]) for i in out.items)
    assert kinds == [
        ("access_key", "AKIAROOTKEY000000001", "Active"),
        ("access_key", "AKIAROOTKEY000000002", "Inactive"),
        ("mfa_device", f"arn:aws:iam::{ACCT}:mfa/root-account-mfa-device", "present"),
        ("password", "root", "present"),
    ]
    make_frame("root_credentials", [row])
    make_frame("root_credential_items", out.items)


def test_root_session_no_password() -> None:
    no_password = {"Error": {"Code": "NoSuchEntity", "Message": "no login profile"}}
    out = root_session_outcome(
        ACCT, root_session_raw(get_login_profile=no_password, list_mfa_devices=[{"MFADevices": []}],
                               get_account_summary={"SummaryMap": {"AccountMFAEnabled": 0,
                                                                   "AccountAccessKeysPresent": 1}}), "t"
    )
    assert out.row["assessment"] == "assessed" and out.row["reason"] is None
    assert out.row["password_present"] is False and out.row["mfa_kind"] == "none"
    assert not [i for i in out.items if i["kind"] == "password"]


def test_mfa_kind_goes_by_arn_resource_type_never_by_name() -> None:
    assert mfa_kind_from_serials([]) == "none"
    assert mfa_kind_from_serials([f"arn:aws:iam::{ACCT}:mfa/hardware-token"]) == "virtual"
    assert mfa_kind_from_serials([f"arn:aws:iam::{ACCT}:u2f/root-account-mfa-device/ABC"]) == "hardware"
    assert mfa_kind_from_serials(["GAHT12345678"]) == "hardware"
    assert mfa_kind_from_serials(["GAHT12345678", f"arn:aws:iam::{ACCT}:mfa/x"]) == "virtual"


def report_raw(
    summary: dict[str, int], devices: list[dict[str, object]], row: dict[str, str] | None = None
) -> dict[str, object]:
    cols = [
        "user",
        "arn",
        "password_enabled",
        "password_last_used",
        "mfa_active",
        "access_key_1_active",
        "access_key_1_last_rotated",
        "access_key_2_active",
        "cert_1_active",
        "cert_2_active",
    ]
    values = {
        "user": "<root_account>",
        "arn": f"arn:aws:iam::{ACCT}:root",
        "password_enabled": "not_supported",
        "password_last_used": "N/A",
        "mfa_active": "true",
        "access_key_1_active": "false",
        "access_key_1_last_rotated": "N/A",
        "access_key_2_active": "false",
        "cert_1_active": "false",
        "cert_2_active": "false",
        **(row or {}),
    }
    content = ",".join(cols) + "\n" + ",".join(values[c] for c in cols) + "\n"
    return {
        "get_credential_report": {"GeneratedTime": "2026-09-30T10:00:00Z", "Content": content},
        "get_account_summary": {"SummaryMap": summary},
        "list_virtual_mfa_devices": [{"VirtualMFADevices": devices}],
    }


def test_report_virtual_mfa_by_root_arn_not_name() -> None:
    # A device named like the root's, assigned to a user, is not the root's.
    decoy = {
        "SerialNumber": f"arn:aws:iam::{ACCT}:mfa/root-account-mfa-device",
        "User": {"Arn": f"arn:aws:iam::{ACCT}:user/alice"},
    }
    out = report_outcome(ACCT, report_raw({"AccountMFAEnabled": 1, "AccountPasswordPresent": 1}, [decoy]))
    assert out.row["mfa_kind"] == "hardware" and out.row["password_present"] is True
    assert out.row["source_time"] == "2026-09-30T10:00:00Z" and out.row["method"] == "credential_report"
    mine = {
        "SerialNumber": f"arn:aws:iam::{ACCT}:mfa/anything",
        "User": {"Arn": f"arn:aws:iam::{ACCT}:root"},
        "EnableDate": T,
    }
    out = report_outcome(ACCT, report_raw({"AccountMFAEnabled": 1}, [decoy, mine]))
    assert out.row["mfa_kind"] == "virtual" and out.row["mfa_devices"] == 1


def test_report_missing_password_key_is_unknown_not_zero() -> None:
    out = report_outcome(ACCT, report_raw({"AccountMFAEnabled": 0}, [], {"mfa_active": "false"}))
    assert out.row["assessment"] == "assessed"
    assert out.row["password_present"] is None
    assert "AccountPasswordPresent" in out.row["reason"]
    frame = make_frame("root_credentials", [out.row])
    assert frame["password_present"].isna().all()


def test_report_keys_and_unusable_reports() -> None:
    out = report_outcome(
        ACCT,
        report_raw(
            {"AccountPasswordPresent": 0},
            [],
            {"access_key_1_active": "true", "access_key_1_last_rotated": "2025-01-01T00:00:00+00:00"},
        ),
        "why",
    )
    assert out.row["access_keys_active"] == 1 and out.row["reason"].startswith("why; ")
    assert [i["id"] for i in out.items if i["kind"] == "access_key"] == ["access_key_1"]
    out = report_outcome(ACCT, {"get_credential_report": {"Content": "user,arn\nbob,x\n"}})
    assert out.row["assessment"] == "not_assessed" and out.row["method"] == "none"
    out = report_outcome(ACCT, report_raw({}, [], {"cert_1_active": "not_supported"}))
    assert out.row["assessment"] == "not_assessed" and "cert_1_active" in out.row["reason"]


def test_features_reason_matches_both_spellings() -> None:
    for code in ("ServiceAccessNotEnabledException", "ServiceAccessNotEnabled"):
        assert "trusted access" in features_reason(client_error(code), "arn:caller")
    for code in (
        "AccountNotManagementOrDelegatedAdministratorException",
        "AccountNotManagementOrDelegatedAdministrator",
    ):
        assert "management account" in features_reason(client_error(code), "arn:caller")
    assert "AccessDenied" in features_reason(client_error("AccessDenied"), "arn:caller")


def test_organization_row_na_when_unread() -> None:
    org = {"Id": "o-abc", "MasterAccountId": "111111111111", "FeatureSet": "ALL"}
    caller = {"Arn": "arn:aws:iam::111111111111:user/audit", "Account": "111111111111"}
    row = organization_row(
        org,
        caller,
        ["iam.amazonaws.com"],
        {"333333333333"},
        {"EnabledFeatures": ["RootCredentialsManagement"]},
        [],
    )
    assert row["root_credentials_management"] is True and row["root_sessions"] is False
    assert row["features_status"] == "assessed" and row["delegated_admins"] == "333333333333"
    row = organization_row(org, caller, ["iam.amazonaws.com"], set(), None, ["refused"])
    frame = make_frame("organization", [row])
    assert frame["root_credentials_management"].isna().all() and frame["root_sessions"].isna().all()
    assert frame.loc[0, "features_status"] == "not_assessed" and frame.loc[0, "features_reason"] == "refused"


def test_account_rows_use_state_and_keep_unknowns() -> None:
    accounts = [
        {
            "Id": "111111111111",
            "Name": "mgmt",
            "Email": "m@x",
            "State": "ACTIVE",
            "Status": "ACTIVE",
            "JoinedMethod": "CREATED",
            "JoinedTimestamp": T,
        },
        {
            "Id": "222222222222",
            "Name": "gone",
            "Email": "g@x",
            "State": "PENDING_CLOSURE",
            "Status": "ACTIVE",
            "JoinedMethod": "INVITED",
            "JoinedTimestamp": T,
        },
    ]
    rows = account_rows(
        accounts,
        "111111111111",
        None,
        {"111111111111": "Root/Security", "222222222222": None},
        {
            "111111111111": contact_from_response({"AlternateContact": {"EmailAddress": "s@x"}}),
            "222222222222": contact_from_error(error_raw(client_error("ResourceNotFoundException"))["Error"]),
        },
    )
    frame = make_frame("accounts", rows)
    assert list(frame["state"]) == ["ACTIVE", "PENDING_CLOSURE"]
    assert list(frame["is_management"]) == [True, False]
    assert frame["is_delegated_admin"].isna().all()
    assert list(frame["security_contact"]) == ["registered", "none"]
    assert frame.loc[0, "joined_at"] == "2026-08-01T12:00:00Z"
    assert pd.isna(frame.loc[1, "ou_path"])
    refused = error_raw(client_error("AccessDeniedException", "GetAlternateContact"))["Error"]
    status, reason = contact_from_error(refused)
    assert status == "not_assessed" and "account.amazonaws.com" in reason


def test_names_path_reads_root_first_and_refuses_an_incomplete_chain() -> None:
    ous = {
        "r-ab12": ("Root", None),
        "ou-ab12-work": ("Workloads", "r-ab12"),
        "ou-ab12-prod": ("Prod", "ou-ab12-work"),
        "ou-ab12-lost": ("Lost", "ou-ab12-gone"),  # its parent was never seen
        "ou-ab12-loop": ("Loop", "ou-ab12-loop"),
    }
    assert names_path("ou-ab12-prod", ous) == "Root/Workloads/Prod"
    assert names_path("r-ab12", ous) == "Root"
    assert names_path("ou-ab12-lost", ous) is None
    assert names_path("ou-ab12-loop", ous) is None
    assert names_path("ou-ab12-none", ous) is None


def test_the_command_line_defaults_are_the_settings_defaults() -> None:
    from rootaudit.cli import DEFAULTS, _configure, build_parser
    from rootaudit.collectors import CollectSettings
    from rootaudit.collectors.organization import DEFAULT_WORKERS
    from rootaudit.period import parse_period

    args = build_parser().parse_args(["collect", "--out", "unused", "--config", "/dev/null"])
    _configure(args)  # an empty configuration file: the built-in defaults
    settings = CollectSettings(period=parse_period("2026-Q3"))
    assert args.workers == DEFAULTS["workers"] == settings.workers == DEFAULT_WORKERS
    assert args.member_role == settings.fallback_role
