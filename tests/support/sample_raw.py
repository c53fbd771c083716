"""The raw API responses behind the sample snapshot's root credential rows, in AWS's documented shapes.

Collection keeps every response (data/raw/root_credentials/<account>/<operation>), and `verify` derives
the rows from them again; so the sample carries the responses its rows follow from: the root session's
reads (IAM API Reference: GetLoginProfile, ListAccessKeys, GetAccessKeyLastUsed, ListMFADevices,
ListSigningCertificates, GetUser, GetAccountSummary) for an assume_root_audit row, the credential report
(format as tests/fixtures/aws/credential-report-root-no-credentials.csv) for a credential_report row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REPORT_HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
                 "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
                 "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
                 "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                 "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
                 "cert_1_last_rotated,cert_2_active,cert_2_last_rotated")


def _aws_time(iso: Any) -> str:
    return "N/A" if not iso else str(iso).replace("Z", "+00:00")


def root_session_raw(row: Mapping[str, Any], items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    items = list(items)
    of = {kind: [i for i in items if i["kind"] == kind] for kind in
          ("password", "access_key", "signing_certificate", "mfa_device")}
    raw: dict[str, Any] = {}
    if of["password"]:
        raw["get_login_profile"] = {"LoginProfile": {"CreateDate": of["password"][0].get("created_at"),
                                                     "PasswordResetRequired": False}}
    else:
        raw["get_login_profile"] = {"Error": {"Code": "NoSuchEntity", "Message": "NoSuchEntity: Login "
                                              "Profile for User root cannot be found."}}
    raw["list_access_keys"] = [{"AccessKeyMetadata": [
        {"AccessKeyId": k["id"], "Status": k["status"], "CreateDate": k.get("created_at")}
        for k in of["access_key"]], "IsTruncated": False}]
    for key in of["access_key"]:
        used = {"Region": "us-east-1" if key.get("last_used_at") else "N/A",
                "ServiceName": key.get("last_used_service") or "N/A"}
        if key.get("last_used_at"):
            used["LastUsedDate"] = key["last_used_at"]
        raw[f"get_access_key_last_used/{key['id']}"] = {"AccessKeyLastUsed": used}
    raw["list_mfa_devices"] = [{"MFADevices": [{"SerialNumber": d["id"], "EnableDate": d.get("created_at")}
                                               for d in of["mfa_device"]], "IsTruncated": False}]
    raw["list_signing_certificates"] = [{"Certificates": [
        {"CertificateId": c["id"], "Status": c["status"], "UploadDate": c.get("created_at")}
        for c in of["signing_certificate"]], "IsTruncated": False}]
    user: dict[str, Any] = {"Arn": f"arn:aws:iam::{row['account_id']}:root", "UserId": row["account_id"]}
    if row.get("password_last_used"):
        user["PasswordLastUsed"] = row["password_last_used"]
    raw["get_user"] = {"User": user}
    raw["get_account_summary"] = {"SummaryMap": {
        "AccountAccessKeysPresent": len(of["access_key"]), "AccountMFAEnabled": int(bool(of["mfa_device"])),
        "AccountSigningCertificatesPresent": len(of["signing_certificate"]),
        "AccountPasswordPresent": int(bool(of["password"]))}}
    return raw


def credential_report_raw(row: Mapping[str, Any]) -> dict[str, Any]:
    """The management account's report: root MFA on (hardware: no virtual device listed), no keys."""
    account = row["account_id"]
    mfa = "TRUE" if row.get("mfa_kind") == "hardware" else "FALSE"
    root = (f"<root_account>,arn:aws:iam::{account}:root,2019-01-01T00:00:00+00:00,not_supported,"
            f"{_aws_time(row.get('password_last_used'))},not_supported,not_supported,{mfa},"
            "FALSE,N/A,N/A,N/A,N/A,FALSE,N/A,N/A,N/A,N/A,FALSE,N/A,FALSE,N/A")
    return {"get_credential_report": {"GeneratedTime": row.get("source_time"), "ReportFormat": "text/csv",
                                      "Content": f"{REPORT_HEADER}\n{root}\n"},
            "get_account_summary": {"SummaryMap": {"AccountMFAEnabled": int(mfa == "TRUE"),
                                                   "AccountAccessKeysPresent": 0}},
            "list_virtual_mfa_devices": [{"VirtualMFADevices": [], "IsTruncated": False}]}


def root_credentials_raw(rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]]
                         ) -> dict[str, Any]:
    """raw key -> response for every assessed row, as collection stores them."""
    items = list(items)
    raw: dict[str, Any] = {}
    for row in rows:
        if row.get("assessment") != "assessed":
            continue
        account = row["account_id"]
        mine = [i for i in items if i["account_id"] == account]
        responses = (root_session_raw(row, mine) if row["method"] == "assume_root_audit"
                     else credential_report_raw(row))
        raw.update({f"root_credentials/{account}/{key}": value for key, value in responses.items()})
    return raw


def organization_raw(org: Mapping[str, Any]) -> dict[str, Any]:
    """The responses the sample's `organization` row follows from (Organizations and IAM API Reference)."""
    admins = [a for a in str(org.get("delegated_admins") or "").split(",") if a]
    principals = ["iam.amazonaws.com"] if org.get("iam_trusted_access") else []
    features = [name for name, on in (("RootCredentialsManagement", org.get("root_credentials_management")),
                                      ("RootSessions", org.get("root_sessions"))) if on]
    return {
        "sts/get_caller_identity": {"Account": org["caller_account"], "Arn": org["caller_arn"],
                                    "UserId": "AROAEXAMPLEID:alice@example.com"},
        "organizations/describe_organization": {"Organization": {
            "Id": org["organization_id"], "MasterAccountId": org["management_account_id"],
            "FeatureSet": org["feature_set"]}},
        "organizations/list_aws_service_access_for_organization": [{"EnabledServicePrincipals": [
            {"ServicePrincipal": p, "DateEnabled": "2024-11-15T00:00:00Z"} for p in principals]}],
        "organizations/list_delegated_administrators": [{"DelegatedAdministrators": [
            {"Id": a, "Status": "ACTIVE"} for a in admins]}],
        "iam/list_organizations_features": {"OrganizationId": org["organization_id"],
                                            "EnabledFeatures": features},
    }
