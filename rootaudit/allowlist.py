"""Allowlists of AWS operations, enforced inside every client before anything is signed or sent.

An `Allowlist` names the operations a command may call and, for each, checks on its parameters (for
instance: AssumeRoot only with one task policy, an IAM delete only without UserName). `rootaudit.aws`
attaches one to every client it makes: an operation outside the list, or parameters a check refuses,
raise the allowlist's error, are logged as `refused`, and never reach the wire.

Two allowlists use this mechanism: the read-only one for collection (`rootaudit/readonly.py`) and the
remediation ones, which name the only mutating calls rootaudit makes (`rootaudit/remediate/allowlist.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# A check returns why the parameters are refused, or None when they are allowed.
ParamCheck = Callable[[Mapping[str, Any]], str | None]
Operation = tuple[str, str]  # (service name as botocore spells it, operation name), e.g. ("iam", "GetUser")


class OperationRefused(PermissionError):
    """An operation, or its parameters, outside the allowlist of the client; nothing was sent."""


@dataclass(frozen=True)
class Allowlist:
    name: str  # e.g. "read-only", shown in refusals
    defined_in: str  # the module that lists it, so a refusal says where to look
    rules: Mapping[Operation, tuple[ParamCheck, ...]]
    error: type[OperationRefused] = OperationRefused

    @property
    def operations(self) -> frozenset[Operation]:
        return frozenset(self.rules)

    def extended(self, extra: Mapping[Operation, tuple[ParamCheck, ...]]) -> Allowlist:
        """This allowlist with more checks on operations it already allows, never a new operation: how an
        AwsContext adds checks that depend on its own state (the queries it registered or started)."""
        rules = {op: (*checks, *extra.get(op, ())) for op, checks in self.rules.items()}
        return Allowlist(self.name, self.defined_in, rules, self.error)

    def refusal(self, service: str, operation: str, params: Mapping[str, Any]) -> str | None:
        """Why the call may not be made, or None when it may."""
        checks = self.rules.get((service, operation))
        if checks is None:
            return f"{service}:{operation} is not in the {self.name} allowlist ({self.defined_in})"
        for check in checks:
            why = check(params)
            if why:
                return (f"{service}:{operation} refused by the {self.name} allowlist "
                        f"({self.defined_in}): {why}")
        return None

    def check(self, service: str, operation: str, params: Mapping[str, Any]) -> None:
        why = self.refusal(service, operation, params)
        if why:
            raise self.error(f"{why}; nothing was sent")


# ---------------------------------------------------------------- parameter checks


def without(name: str) -> ParamCheck:
    """The parameter must not be given (e.g. UserName in a root session, which acts on root only)."""

    def check(params: Mapping[str, Any]) -> str | None:
        return f"{name} must not be given" if params.get(name) not in (None, "") else None

    return check


def equal_to(name: str, *allowed: str) -> ParamCheck:
    """The parameter must be present and one of `allowed`."""

    def check(params: Mapping[str, Any]) -> str | None:
        value = params.get(name)
        return None if value in allowed else f"{name} must be {' or '.join(allowed)}, not {value!r}"

    return check


def task_policy(*arns: str) -> ParamCheck:
    """AssumeRoot's TaskPolicyArn ({"arn": …}) must be one of `arns`."""

    def check(params: Mapping[str, Any]) -> str | None:
        given = params.get("TaskPolicyArn")
        arn = given.get("arn") if isinstance(given, Mapping) else given
        return None if arn in arns else f"TaskPolicyArn must be {' or '.join(arns)}, not {arn!r}"

    return check


def only(*names: str) -> ParamCheck:
    """No parameter other than `names` may be given."""

    def check(params: Mapping[str, Any]) -> str | None:
        extra = sorted(set(params) - set(names))
        return f"unexpected parameter(s) {', '.join(extra)}" if extra else None

    return check
