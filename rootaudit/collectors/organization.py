"""The organization: its accounts (with OU paths and security contacts) and its root-access settings.

Fetch (thin calls to Organizations, IAM, STS and Account) then transform (pure functions from the raw
responses to `accounts` and `organization` rows). The account population is all or nothing: if any page of
ListAccounts fails, collection stops with `CollectionAborted` rather than presenting part of the
organization as the whole of it. Everything else that cannot be read is kept as NA with its reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootaudit.aws import AwsContext, error_code, error_matches, paginate, redact
from rootaudit.collectors import Collected
from rootaudit.snapshot import make_frame, utc_iso

IAM_PRINCIPAL = "iam.amazonaws.com"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
DEFAULT_WORKERS = 16  # concurrent ListParents / GetAlternateContact calls


class CollectionAborted(RuntimeError):
    """Collection cannot go on without presenting incomplete evidence as complete (e.g. the account list)."""


def error_text(exc: BaseException) -> str:
    """`Code: message` of an AWS error, for reasons a person reads."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message") or ""
        return f"{error_code(exc)}: {message}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def error_raw(exc: BaseException) -> dict[str, Any]:
    return {"Error": {"Code": error_code(exc), "Message": error_text(exc)}}


# ----------------------------------------------------------------------------------------- pure transforms

def features_reason(exc: BaseException, caller_arn: str) -> str:
    """Why the IAM organization features could not be read, said so that someone can act on it."""
    if error_matches(exc, "ServiceAccessNotEnabledException"):
        return ("IAM trusted access is not enabled in AWS Organizations (ServiceAccessNotEnabled), so the "
                "root access features cannot be read; enable trusted access for iam.amazonaws.com")
    if error_matches(exc, "AccountNotManagementOrDelegatedAdministratorException"):
        return (f"the caller {caller_arn} is neither in the management account nor the IAM delegated "
                "administrator (AccountNotManagementOrDelegatedAdministrator); run rootaudit from the "
                "management account")
    if error_matches(exc, "OrganizationNotInAllFeaturesModeException"):
        return ("the organization is not in all-features mode (OrganizationNotInAllFeaturesMode); "
                "centralized root access needs all features enabled")
    if error_matches(exc, "OrganizationNotFoundException"):
        return "IAM found no organization for the caller (OrganizationNotFound)"
    if error_matches(exc, "AccessDenied", "AccessDeniedException"):
        return (f"the caller {caller_arn} may not call iam:ListOrganizationsFeatures (AccessDenied); "
                "allow it in the caller's policy")
    return f"iam:ListOrganizationsFeatures failed ({error_text(exc)})"


def ou_path(chain: Iterable[str]) -> str:
    """Parent ids, root first: r-abcd/ou-abcd-1111/ou-abcd-2222."""
    return "/".join(chain)


def account_rows(accounts: Iterable[Mapping[str, Any]], management_id: str,
                 delegated_admin_ids: set[str] | None, ou_paths: Mapping[str, str | None],
                 contacts: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    """`accounts` rows from ListAccounts entries and what was learnt about each account.

    `delegated_admin_ids` None means the delegated administrators could not be read (NA, not False).
    """
    rows = []
    for acct in accounts:
        account_id = str(acct["Id"])
        contact, contact_reason = contacts.get(account_id, ("not_assessed", "not read"))
        rows.append({
            "account_id": account_id,
            "name": acct.get("Name"),
            "email": acct.get("Email"),
            # State replaces the retiring Status; same values. A listing without either is UNKNOWN,
            # which later stages treat as not ACTIVE.
            "state": acct.get("State") or acct.get("Status") or "UNKNOWN",
            "joined_method": acct.get("JoinedMethod"),
            "joined_at": utc_iso(acct.get("JoinedTimestamp")),
            "ou_path": ou_paths.get(account_id),
            "is_management": account_id == management_id,
            "is_delegated_admin": None if delegated_admin_ids is None else account_id in delegated_admin_ids,
            "security_contact": contact,
            "security_contact_reason": contact_reason or None,
        })
    return rows


def organization_row(org: Mapping[str, Any], caller: Mapping[str, str],
                     service_principals: list[str] | None, delegated_admin_ids: set[str] | None,
                     features: Mapping[str, Any] | None, reasons: list[str]) -> dict[str, Any]:
    """The one `organization` row. `None` inputs are what could not be read; `reasons` says why."""
    enabled = set(features.get("EnabledFeatures") or []) if features is not None else None
    complete = service_principals is not None and delegated_admin_ids is not None and enabled is not None
    return {
        "organization_id": org.get("Id"),
        "management_account_id": org.get("MasterAccountId"),
        "feature_set": org.get("FeatureSet"),
        "iam_trusted_access": None if service_principals is None else IAM_PRINCIPAL in service_principals,
        "root_credentials_management": None if enabled is None else ROOT_CREDENTIALS_MANAGEMENT in enabled,
        "root_sessions": None if enabled is None else ROOT_SESSIONS in enabled,
        "delegated_admins": None if delegated_admin_ids is None else ",".join(sorted(delegated_admin_ids)),
        "caller_arn": caller.get("Arn"),
        "caller_account": caller.get("Account"),
        "features_status": "assessed" if complete else "not_assessed",
        "features_reason": "; ".join(reasons) or None,
    }


def contact_from_response(response: Mapping[str, Any]) -> tuple[str, str]:
    contact = response.get("AlternateContact") or {}
    if contact.get("EmailAddress") or contact.get("Name") or contact.get("PhoneNumber"):
        return "registered", ""
    return "none", "GetAlternateContact returned an empty SECURITY contact"


def contact_from_error(exc: BaseException) -> tuple[str, str]:
    if error_matches(exc, "ResourceNotFoundException"):
        return "none", ""
    if error_matches(exc, "AccessDenied", "AccessDeniedException"):
        return "not_assessed", (f"account:GetAlternateContact refused ({error_text(exc)}); allow it for the "
                                "caller and enable trusted access for account.amazonaws.com")
    return "not_assessed", f"account:GetAlternateContact failed ({error_text(exc)})"


# --------------------------------------------------------------------------------------------------- fetch

class _OuPathResolver:
    """Each account's OU path by ListParents, each OU looked up once however many threads ask for it."""

    def __init__(self, client: Any, raw: dict[str, Any], raw_lock: threading.Lock) -> None:
        self._client = client
        self._raw = raw
        self._raw_lock = raw_lock  # `raw` is shared with other threads' writers
        self._lock = threading.Lock()
        self._ou_paths: dict[str, Future[str]] = {}

    def _parent(self, child_id: str) -> Mapping[str, Any]:
        parents, pages = paginate(self._client, "list_parents", "Parents", ChildId=child_id)
        with self._raw_lock:
            self._raw[f"organizations/list_parents/{child_id}"] = pages
        if len(parents) != 1:
            raise CollectionAborted(f"ListParents({child_id}) returned {len(parents)} parents, not one")
        return parents[0]

    def path_of_parent(self, parent: Mapping[str, Any]) -> str:
        parent_id = str(parent["Id"])
        if parent.get("Type") == "ROOT":
            return parent_id
        with self._lock:
            future = self._ou_paths.get(parent_id)
            owner = future is None
            if owner:
                future = self._ou_paths[parent_id] = Future()
        assert future is not None
        if owner:
            try:
                future.set_result(ou_path([self.path_of_parent(self._parent(parent_id)), parent_id]))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def account_path(self, account_id: str) -> str:
        return self.path_of_parent(self._parent(account_id))


def _required(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        if error_matches(exc, "AWSOrganizationsNotInUseException"):
            raise CollectionAborted(f"{what}: the caller's account is not in an AWS Organization") from exc
        raise CollectionAborted(
            f"{what} failed ({error_text(exc)}); the organization cannot be listed completely, so "
            "collection stopped. Run rootaudit with management-account credentials allowed "
            "organizations:Describe*/List*") from exc


def collect_organization(ctx: AwsContext, workers: int = DEFAULT_WORKERS) -> Collected:
    """Frames `accounts` and `organization`, raw responses, and warnings in `meta["warnings"]`.

    Each account's OU path and security contact are read (at most `workers` at once) as soon as its page of
    ListAccounts arrives, and the organization's settings are read meanwhile; if any page fails, nothing
    is returned (`CollectionAborted`).
    """
    raw: dict[str, Any] = {}
    warnings: list[str] = []
    caller = _required("sts:GetCallerIdentity", ctx.caller)
    raw["sts/get_caller_identity"] = dict(caller)
    orgs = ctx.client("organizations")

    described = _required("organizations:DescribeOrganization", orgs.describe_organization)
    org = redact(dict(described.get("Organization") or {}))
    raw["organizations/describe_organization"] = {"Organization": org}
    management_id = str(org.get("MasterAccountId") or "")

    per_account = _PerAccount(ctx, management_id, caller.get("Account", ""), raw, warnings)
    accounts: list[Mapping[str, Any]] = []
    pages: list[dict[str, Any]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="rootaudit-org")
    futures = []
    try:
        try:
            for page in orgs.get_paginator("list_accounts").paginate():
                page = dict(page)
                page.pop("ResponseMetadata", None)
                pages.append(redact(page))
                for account in page.get("Accounts", []):
                    accounts.append(account)
                    futures.append(pool.submit(per_account.one, str(account["Id"])))
        except (ClientError, BotoCoreError) as exc:
            raise CollectionAborted(
                f"organizations:ListAccounts failed on page {len(pages) + 1} ({error_text(exc)}); the "
                "organization cannot be listed completely, so collection stopped. Re-run, or check that the "
                "caller may call organizations:ListAccounts") from exc
        raw["organizations/list_accounts"] = pages
        settings = _read_settings(ctx, orgs, caller, raw)  # while the pool works through the accounts
        for future in futures:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    service_principals, delegated_ids, features, reasons = settings
    frames = {
        "accounts": make_frame("accounts", account_rows(accounts, management_id, delegated_ids,
                                                        per_account.ou_paths, per_account.contacts)),
        "organization": make_frame("organization", [organization_row(org, caller, service_principals,
                                                                     delegated_ids, features, reasons)]),
    }
    return Collected(frames=frames, raw=raw, meta={"warnings": warnings, "caller": dict(caller)})


def _read_settings(ctx: AwsContext, orgs: Any, caller: Mapping[str, str], raw: dict[str, Any]
                   ) -> tuple[list[str] | None, set[str] | None, dict[str, Any] | None, list[str]]:
    """IAM trusted access, IAM delegated administrators, IAM organization features; None where unread."""
    reasons: list[str] = []
    service_principals: list[str] | None = None
    try:
        enabled, pages = paginate(orgs, "list_aws_service_access_for_organization",
                                  "EnabledServicePrincipals")
        raw["organizations/list_aws_service_access_for_organization"] = pages
        service_principals = [str(p.get("ServicePrincipal")) for p in enabled]
    except (ClientError, BotoCoreError) as exc:
        raw["organizations/list_aws_service_access_for_organization"] = error_raw(exc)
        reasons.append("IAM trusted access could not be read "
                       f"(organizations:ListAWSServiceAccessForOrganization: {error_text(exc)})")

    delegated_ids: set[str] | None = None
    try:
        admins, pages = paginate(orgs, "list_delegated_administrators", "DelegatedAdministrators",
                                 ServicePrincipal=IAM_PRINCIPAL)
        raw["organizations/list_delegated_administrators"] = pages
        delegated_ids = {str(a["Id"]) for a in admins}
    except (ClientError, BotoCoreError) as exc:
        raw["organizations/list_delegated_administrators"] = error_raw(exc)
        reasons.append(f"IAM delegated administrators could not be read "
                       f"(organizations:ListDelegatedAdministrators: {error_text(exc)})")

    features: dict[str, Any] | None = None
    try:
        resp = dict(ctx.client("iam").list_organizations_features())
        resp.pop("ResponseMetadata", None)
        features = redact(resp)
        raw["iam/list_organizations_features"] = features
    except (ClientError, BotoCoreError) as exc:
        raw["iam/list_organizations_features"] = error_raw(exc)
        reasons.append(features_reason(exc, caller.get("Arn", "")))
    return service_principals, delegated_ids, features, reasons


class _PerAccount:
    """OU path and security contact of one account at a time, from any number of threads."""

    def __init__(self, ctx: AwsContext, management_id: str, caller_account: str, raw: dict[str, Any],
                 warnings: list[str]) -> None:
        self.lock = threading.Lock()
        self.raw = raw
        self.warnings = warnings
        self.management_id = management_id
        self.caller_account = caller_account
        self.resolver = _OuPathResolver(ctx.client("organizations"), raw, self.lock)
        self.account_client = ctx.client("account")
        self.ou_paths: dict[str, str | None] = {}
        self.contacts: dict[str, tuple[str, str]] = {}

    def one(self, account_id: str) -> None:
        try:
            path: str | None = self.resolver.account_path(account_id)
        except (ClientError, BotoCoreError, CollectionAborted) as exc:
            path = None
            with self.lock:
                self.warnings.append(f"OU path of {account_id} could not be read ({error_text(exc)})")
        contact = _security_contact(self.account_client, account_id, self.management_id, self.caller_account,
                                    self.raw, self.lock)
        with self.lock:
            self.ou_paths[account_id] = path
            self.contacts[account_id] = contact


def _security_contact(client: Any, account_id: str, management_id: str, caller_account: str,
                      raw: dict[str, Any], lock: threading.Lock) -> tuple[str, str]:
    key = f"account/{account_id}/security_contact"
    if account_id == management_id and account_id != caller_account:
        return ("not_assessed", "the management account's security contact can only be read with the "
                "management account's own credentials; the caller is in account " + caller_account)
    params: dict[str, str] = {"AlternateContactType": "SECURITY"}
    if account_id != caller_account:  # an account's own contact is read without AccountId
        params["AccountId"] = account_id
    try:
        resp = dict(client.get_alternate_contact(**params))
    except (ClientError, BotoCoreError) as exc:
        with lock:
            raw[key] = error_raw(exc)
        return contact_from_error(exc)
    resp.pop("ResponseMetadata", None)
    with lock:
        raw[key] = redact(resp)
    return contact_from_response(resp)
