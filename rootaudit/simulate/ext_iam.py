"""IAM extensions: organization features, root sessions, and the root user in the classic reads.

- The five organization-feature calls (ListOrganizationsFeatures, Enable/Disable…), with AWS's errors.
- Root sessions (credentials from AssumeRoot): every IAM call passes through the task policy; allowed
  calls made without UserName act on the member's root credential state (and the delete calls change
  it); anything else is AccessDenied. Each call is recorded as a RootSessionAction.
- Classic reads made with ordinary credentials (a role in the member, or the management caller): the
  credential report gains the `<root_account>` row and a real GeneratedTime, the summary gains the root
  keys, ListVirtualMFADevices shows a root virtual device.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.iam.models import iam_backends
from moto.iam.responses import IamResponse

from rootaudit.aws import redact
from rootaudit.simulate import events
from rootaudit.simulate.errors import SimError, access_denied
from rootaudit.simulate.ext_organizations import IAM_PRINCIPAL, org_of
from rootaudit.simulate.identity import Caller, caller_of, new_id, now, user_agent
from rootaudit.simulate.registry import REGISTRY, RootSession
from rootaudit.simulate.rootstate import RootState

FEATURES = ("RootCredentialsManagement", "RootSessions")
# How long a credential report takes to "generate" in the simulation (STARTED, then COMPLETE).
REPORT_VALID_FOR = timedelta(hours=4)


def _no_such_entity(message: str) -> SimError:
    return SimError("NoSuchEntity", message, 404)


# --- organization features ------------------------------------------------------------------------

def _features_context(response: Any, enable: bool) -> tuple[str, set[str]]:
    """Checks the caller may use the feature calls; returns (organization id, its enabled features)."""
    caller = caller_of(response)
    view = org_of(caller.account_id, response.partition)
    if view is None:
        raise SimError("OrganizationNotFoundException",
                       "The request failed because your credentials do not belong to an organization.")
    if not view.all_features:
        raise SimError("OrganizationNotInAllFeaturesModeException",
                       "The request failed because your organization does not have all features enabled.")
    is_management = caller.account_id == view.management_account
    is_admin = caller.account_id in view.delegated_admins(IAM_PRINCIPAL)
    if caller.is_root or not (is_management or is_admin):
        raise SimError("AccountNotManagementOrDelegatedAdministratorException",
                       "The request was rejected because the account making the request is not the "
                       "management account or delegated administrator account for centralized root access.")
    if not view.trusted(IAM_PRINCIPAL):
        raise SimError("ServiceAccessNotEnabledException",
                       "The request failed because trusted access for IAM is not enabled in the "
                       "organization.")
    if enable and not is_management:
        raise SimError("CallerIsNotManagementAccountException",
                       "The request was rejected because the account making the request is not the "
                       "management account for the organization.")
    with REGISTRY.lock:
        return view.organization_id, REGISTRY.features.setdefault(view.organization_id, set())


def _features_result(org_id: str, enabled: set[str]) -> ActionResult:
    return ActionResult({"OrganizationId": org_id,
                         "EnabledFeatures": [f for f in FEATURES if f in enabled]})


def list_organizations_features(self: Any) -> ActionResult:
    org_id, enabled = _features_context(self, enable=False)
    return _features_result(org_id, enabled)


def _toggle(feature: str, on: bool) -> Callable[[Any], ActionResult]:
    def handler(self: Any) -> ActionResult:
        org_id, enabled = _features_context(self, enable=on)
        with REGISTRY.lock:
            (enabled.add if on else enabled.discard)(feature)
        return _features_result(org_id, enabled)

    handler.__name__ = f"{'enable' if on else 'disable'}_organizations_" + (
        "root_credentials_management" if feature == "RootCredentialsManagement" else "root_sessions")
    return handler


# --- root sessions --------------------------------------------------------------------------------

def _login_profile(state: RootState) -> dict[str, Any]:
    return {"UserName": state.account_id, "CreateDate": state.password_created or state.created,
            "PasswordResetRequired": False}


def _mfa_devices(state: RootState) -> list[dict[str, Any]]:
    if state.mfa == "none":
        return []
    return [{"UserName": state.account_id, "SerialNumber": state.mfa_serial,
             "EnableDate": state.mfa_enabled_at or state.created}]


def _root_user(state: RootState) -> dict[str, Any]:
    user: dict[str, Any] = {"Path": "/", "UserName": state.account_id, "UserId": state.account_id,
                            "Arn": state.arn, "CreateDate": state.created}
    if state.password_last_used:
        user["PasswordLastUsed"] = state.password_last_used
    return user


def _root_action(self: Any, action: str, state: RootState) -> ActionResult:
    """One allowed IAM action on the root user (no UserName), read from or applied to `state`."""
    p = self._get_param
    if action == "GetLoginProfile":
        if not state.password:
            raise _no_such_entity(f"Login Profile for User {state.account_id} cannot be found.")
        return ActionResult({"LoginProfile": _login_profile(state)})
    if action == "CreateLoginProfile":
        # IAMCreateRootUserPassword ("allow password recovery"): the IAM API reference says Password "must
        # be omitted when you make the request with an AssumeRoot session", and the root user must have no
        # password yet; the root user then sets one through password recovery.
        if p("Password") is not None:
            raise SimError("ValidationError", "Password must be omitted when CreateLoginProfile is called "
                           "with an AssumeRoot session: the root user sets it through password recovery.",
                           400)
        if state.password:
            raise SimError("EntityAlreadyExists",
                           f"Login Profile for user {state.account_id} already exists.", 409)
        state.password, state.password_created, state.password_last_used = True, now(), None
        return ActionResult({"LoginProfile": _login_profile(state)})
    if action == "DeleteLoginProfile":
        if not state.password:
            raise _no_such_entity(f"Login Profile for User {state.account_id} cannot be found.")
        state.password, state.password_created, state.password_last_used = False, None, None
        return EmptyResult()
    if action == "ListAccessKeys":
        return ActionResult({"AccessKeyMetadata": [
            {"AccessKeyId": k.key_id, "Status": k.status, "CreateDate": k.created}
            for k in state.access_keys], "IsTruncated": False})
    if action == "GetAccessKeyLastUsed":
        key = state.key(str(p("AccessKeyId")))
        if key is None:
            raise _no_such_entity(f"The Access Key with id {p('AccessKeyId')} cannot be found.")
        last: dict[str, Any] = {"ServiceName": key.last_used_service or "N/A",
                                "Region": key.last_used_region or "N/A"}
        if key.last_used:
            last["LastUsedDate"] = key.last_used
        return ActionResult({"UserName": state.account_id, "AccessKeyLastUsed": last})
    if action == "DeleteAccessKey":
        key = state.key(str(p("AccessKeyId")))
        if key is None:
            raise _no_such_entity(f"The Access Key with id {p('AccessKeyId')} cannot be found.")
        state.access_keys.remove(key)
        with REGISTRY.lock:
            REGISTRY.root_keys.pop(key.key_id, None)
        # The key that signed the root's requests goes from moto's backend too (it was put there at seeding).
        iam_backends[state.account_id][self.partition].access_keys.pop(key.key_id, None)
        return EmptyResult()
    if action == "ListMFADevices":
        return ActionResult({"MFADevices": _mfa_devices(state), "IsTruncated": False})
    if action == "DeactivateMFADevice":
        serial = str(p("SerialNumber"))
        if state.mfa == "none" or serial != state.mfa_serial:
            raise _no_such_entity(f"MFA Device with serial number {serial} does not exist.")
        state.mfa, state.mfa_serial, state.mfa_enabled_at = "none", "", None
        return EmptyResult()
    if action == "ListSigningCertificates":
        return ActionResult({"Certificates": [
            {"UserName": state.account_id, "CertificateId": c.certificate_id, "CertificateBody": c.body,
             "Status": c.status, "UploadDate": c.uploaded} for c in state.certificates],
            "IsTruncated": False})
    if action == "DeleteSigningCertificate":
        cert_id = str(p("CertificateId"))
        cert = next((c for c in state.certificates if c.certificate_id == cert_id), None)
        if cert is None:
            raise _no_such_entity(f"The Certificate with id {cert_id} cannot be found.")
        state.certificates.remove(cert)
        return EmptyResult()
    if action == "GetUser":
        return ActionResult({"User": _root_user(state)})
    if action == "GetAccountSummary":
        summary = dict(self.backend.get_account_summary().summary_map)
        summary.update(state.summary_keys())
        return ActionResult({"SummaryMap": summary})
    raise access_denied(f"User: {state.arn} is not authorized to perform: iam:{action}")


def session_denied(session: RootSession, service: str, action: str, resource: str) -> SimError:
    return access_denied(
        f"User: arn:aws:iam::{session.account_id}:root is not authorized to perform: {service}:{action} "
        f"on resource: {resource} because no session policy allows the {service}:{action} action")


def check_session(session: RootSession) -> None:
    if now() >= session.expiration:
        raise SimError("ExpiredToken", "The security token included in the request is expired", 403)


def record_session_action(session: RootSession, event_source: str, action: str, region: str,
                          params: dict[str, Any], error_code: str, agent: str = "") -> None:
    extra = {"user_agent": agent} if agent else {}
    # CloudTrail spells request parameters in lowerCamelCase (accessKeyId, bucketName).
    # Secrets (a new root password) are removed before the keys are re-spelled.
    params = {k[:1].lower() + k[1:]: v for k, v in redact(params).items()}
    events.EVENT_LOG.add(events.RootSessionAction(
        event_id=new_id(), time=now(), region=region, account_id=session.account_id,
        access_key_id=session.access_key_id, event_source=event_source, event_name=action,
        request_id=new_id(), request_parameters=params or None, error_code=error_code,
        read_only=action.startswith(("Get", "List")), **extra,
    ))


def _root_session_call(self: Any, session: RootSession) -> Any:
    action = str(self._get_action())
    params = {k: v for k, v in dict(getattr(self, "params", {}) or {}).items() if k != "Action"}
    error = ""
    try:
        check_session(session)
        if not session.task.allows("iam", action) or params.get("UserName"):
            # Task policies act on the root user only: naming a user is outside them too.
            raise session_denied(session, "iam", action, f"arn:aws:iam::{session.account_id}:root")
        with REGISTRY.lock:
            result = _root_action(self, action, REGISTRY.root_state(session.account_id))
    except ServiceException as exc:
        error = exc.code
        result = ActionResult(exc)
    # IAM is a global service whose events are recorded in us-east-1.
    record_session_action(session, "iam.amazonaws.com", action, "us-east-1", params, error,
                          user_agent(self.headers))
    status, headers, body = self.serialized(result)
    headers, body = self._enrich_response(headers, body)
    return status, headers, body


# --- classic reads with the root row --------------------------------------------------------------

def generate_credential_report(self: Any) -> ActionResult:
    account = str(self.current_account)
    with REGISTRY.lock:
        stuck = account in REGISTRY.report_stuck
        generated = REGISTRY.reports_generated.get(account)
        if stuck:
            return ActionResult({"State": "INPROGRESS",
                                 "Description": "Report generation is in progress"})
        if generated is not None and now() - generated < REPORT_VALID_FOR:
            return ActionResult({"State": "COMPLETE"})
        REGISTRY.reports_generated[account] = now()
    self.backend.generate_report()
    return ActionResult({"State": "STARTED",
                         "Description": "No report exists. Starting a new report generation task"})


def get_credential_report(self: Any) -> ActionResult:
    account = str(self.current_account)
    with REGISTRY.lock:
        if account in REGISTRY.report_stuck:
            raise SimError("ReportInProgress", "Report generation is in progress", 404)
        generated = REGISTRY.reports_generated.get(account)
        root_line = REGISTRY.root_state(account).credential_report_line()
    if generated is None:
        raise SimError("ReportNotPresent", "Credential report not present", 410)
    if now() - generated >= REPORT_VALID_FOR:
        raise SimError("ReportExpired", "Credential report has expired", 410)
    content = self.backend.get_credential_report()
    header, _, users = content.partition("\n")
    return ActionResult({"Content": f"{header}\n{root_line}{users}", "ReportFormat": "text/csv",
                         "GeneratedTime": generated.replace(microsecond=0)})


def get_account_summary(self: Any) -> ActionResult:
    summary = dict(self.backend.get_account_summary().summary_map)
    with REGISTRY.lock:
        summary.update(REGISTRY.root_state(str(self.current_account)).summary_keys())
    return ActionResult({"SummaryMap": summary})


def _root_virtual_device(state: RootState) -> dict[str, Any]:
    user = {"Path": "/", "UserName": state.account_id, "UserId": state.account_id, "Arn": state.arn,
            "CreateDate": state.created}
    return {"SerialNumber": state.mfa_serial, "EnableDate": state.mfa_enabled_at or state.created,
            "User": user}


def list_virtual_mfa_devices(self: Any) -> ActionResult:
    status = self._get_param("AssignmentStatus", "Any")
    devices, marker = self.backend.list_virtual_mfa_devices(status, self._get_param("Marker"),
                                                             self._get_param("MaxItems", 100))
    entries: list[Any] = []
    with REGISTRY.lock:
        state = REGISTRY.root_state(str(self.current_account))
        if state.mfa == "virtual" and status in ("Any", "Assigned") and not self._get_param("Marker"):
            entries.append(_root_virtual_device(state))
    entries.extend({"SerialNumber": d.serial_number, "EnableDate": d.enable_date,
                    "User": ({"Path": d.user.path, "UserName": d.user.name, "UserId": d.user.id,
                              "Arn": d.user.arn, "CreateDate": d.user.create_date} if d.user else None)}
                   for d in devices)
    for entry in entries:
        if entry["User"] is None:
            del entry["User"]
        if entry["EnableDate"] is None:
            del entry["EnableDate"]
    return ActionResult({"VirtualMFADevices": entries, "IsTruncated": bool(marker), "Marker": marker})


# --- installation ---------------------------------------------------------------------------------

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    cls: Any = IamResponse
    cls.list_organizations_features = list_organizations_features
    for feature in FEATURES:
        for on in (True, False):
            handler = _toggle(feature, on)
            setattr(cls, handler.__name__, handler)
    cls.generate_credential_report = generate_credential_report
    cls.get_credential_report = get_credential_report
    cls.get_account_summary = get_account_summary
    cls.list_virtual_mfa_devices = list_virtual_mfa_devices

    original_call_action = cls.call_action

    def call_action(self: Any) -> Any:
        with REGISTRY.lock:
            session = REGISTRY.root_sessions.get(str(self.access_key))
        if session is not None:
            return _root_session_call(self, session)
        return original_call_action(self)

    cls.call_action = call_action
    _installed = True


__all__ = ["Caller", "install"]
