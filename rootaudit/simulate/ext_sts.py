"""STS extensions: sts:AssumeRoot, refusals of AssumeRole, and the root session's own identity.

AssumeRoot follows aws-api-facts.md. Where AWS documents the rule but not the exact error, the choice
here is a setting, named in the message: a task policy other than the five, or DurationSeconds out of
0..900, is a ValidationError (400); every refusal of the caller, the target, or a missing feature is
AccessDenied (403), as AWS answers unauthorised STS calls.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse
from moto.sts.utils import random_session_token

from rootaudit.simulate import events
from rootaudit.simulate.errors import SimError, access_denied, validation_error
from rootaudit.simulate.ext_organizations import IAM_PRINCIPAL, org_of
from rootaudit.simulate.identity import Caller, caller_of, new_id, now, user_agent
from rootaudit.simulate.registry import REGISTRY, RootSession
from rootaudit.simulate.taskpolicies import task_policies

MAX_ROOT_SESSION_SECONDS = 900
_TARGET = re.compile(r"^(?:arn:aws[\w-]*:iam::)?(\d{12})(?::root)?$")


def _target_account(principal: str) -> str | None:
    match = _TARGET.match(principal.strip())
    return match.group(1) if match else None


def _check_assume_root(self: Any, caller: Caller, target: str | None, task_arn: str,
                       duration: int) -> Any:
    """Raises the refusal AWS would give; returns the task policy when the call may proceed."""
    policy = task_policies().get(task_arn)
    if policy is None:
        raise validation_error(
            f"The TaskPolicyArn {task_arn!r} is not a root task policy: use one of "
            + ", ".join(sorted(p.arn for p in task_policies().values())))
    if not 0 <= duration <= MAX_ROOT_SESSION_SECONDS:
        raise validation_error(
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy "
            f"constraint: Member must have value less than or equal to {MAX_ROOT_SESSION_SECONDS}")
    host = urlparse(str(self.uri)).hostname or ""
    if host == "sts.amazonaws.com":
        raise access_denied("AssumeRoot is not supported on the global STS endpoint; "
                            "send the request to a Regional STS endpoint.")
    if caller.is_root:
        raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot: "
                            "root user credentials cannot call AssumeRoot")
    view = org_of(caller.account_id, self.partition)
    admins = view.delegated_admins(IAM_PRINCIPAL) if view else set()
    if view is None or (caller.account_id != view.management_account and caller.account_id not in admins):
        raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot: only the "
                            "management account or the IAM delegated administrator may call it")
    if target is None or view.member(target) is None or target == view.management_account:
        raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: "
                            f"{self._get_param('TargetPrincipal')}: the target must be a member account "
                            "of the organization")
    with REGISTRY.lock:
        enabled = set(REGISTRY.features.get(view.organization_id, set()))
        refused = target in REGISTRY.assume_root_refused
        require_feature = REGISTRY.require_task_feature
    if not view.trusted(IAM_PRINCIPAL) or (require_feature and policy.feature not in enabled):
        raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: "
                            f"arn:aws:iam::{target}:root: centralized root access ({policy.feature}) is "
                            "not enabled for the organization")
    if refused:
        raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRoot on resource: "
                            f"arn:aws:iam::{target}:root with an explicit deny in a service control policy")
    return policy


def assume_root(self: Any) -> ActionResult:
    caller = caller_of(self)
    principal = str(self._get_param("TargetPrincipal") or "")
    task = self._get_param("TaskPolicyArn") or {}
    task_arn = str(task.get("arn", "") if isinstance(task, dict) else task)
    duration_param = self._get_param("DurationSeconds")
    duration = int(duration_param) if duration_param is not None else MAX_ROOT_SESSION_SECONDS
    target = _target_account(principal)
    base = {"event_id": new_id(), "time": now(), "region": str(self.region),
            "caller_account": caller.account_id, "caller_arn": caller.arn,
            "caller_principal_id": caller.principal_id, "target_account": target or principal,
            "target_principal": principal,
            "task_policy_arn": task_arn, "duration_seconds": duration, "request_id": new_id(),
            "duration_given": duration_param is not None, "caller_access_key_id": caller.access_key_id}
    if agent := user_agent(self.headers):
        base["user_agent"] = agent
    try:
        policy = _check_assume_root(self, caller, target, task_arn, duration)
    except ServiceException as exc:
        events.EVENT_LOG.add(events.AssumeRootCall(**base, error_code=exc.code, error_message=exc.message))
        raise
    assert target is not None
    # The session key lives in the member's IAM backend, so moto maps its requests to the member.
    key = iam_backends[target][self.partition].create_temp_access_key()
    expiration = (now() + timedelta(seconds=duration)).replace(microsecond=0)
    token = random_session_token()
    with REGISTRY.lock:
        REGISTRY.root_sessions[key.access_key_id] = RootSession(
            key.access_key_id, target, policy, expiration, caller.account_id, caller.arn,
            secret_access_key=key.secret_access_key, session_token=token)
    events.EVENT_LOG.add(events.AssumeRootCall(**base, access_key_id=key.access_key_id,
                                               expiration=expiration, session_token=token))
    result: dict[str, Any] = {
        "Credentials": {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key,
                        "SessionToken": token, "Expiration": expiration},
    }
    with REGISTRY.lock:
        source_identity = REGISTRY.source_identities.get(caller.access_key_id)
    if source_identity:  # AWS returns the caller session's source identity, and none when it has none
        result["SourceIdentity"] = source_identity
    return ActionResult(result)


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    cls: Any = TokenResponse
    cls.assume_root = assume_root

    original_assume_role = cls.assume_role
    original_identity = cls.get_caller_identity

    def assume_role(self: Any) -> Any:
        match = re.match(r"^arn:aws[\w-]*:iam::(\d{12}):role/", str(self._get_param("RoleArn") or ""))
        with REGISTRY.lock:
            refused = bool(match) and match.group(1) in REGISTRY.assume_role_refused
        caller = caller_of(self)
        if refused:
            raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on "
                                f"resource: {self._get_param('RoleArn')}")
        if caller.is_root and caller.root_session is not None:
            raise access_denied(f"User: {caller.arn} is not authorized to perform: sts:AssumeRole because "
                                "no session policy allows the sts:AssumeRole action")
        result = original_assume_role(self)
        # A source identity, once set, stays with the session and every session made from it.
        with REGISTRY.lock:
            source_identity = (self._get_param("SourceIdentity")
                               or REGISTRY.source_identities.get(caller.access_key_id))
        if source_identity and isinstance(result, ActionResult) and isinstance(result.result, dict):
            with REGISTRY.lock:
                REGISTRY.source_identities[result.result["Credentials"].access_key_id] = str(source_identity)
            result.result["SourceIdentity"] = str(source_identity)
        return result

    def get_caller_identity(self: Any) -> Any:
        caller = caller_of(self)
        if caller.is_root:
            return ActionResult({"UserId": caller.account_id, "Account": caller.account_id,
                                 "Arn": caller.arn})
        return original_identity(self)

    cls.assume_role = assume_role
    cls.get_caller_identity = get_caller_identity
    _installed = True


__all__ = ["SimError", "install"]
