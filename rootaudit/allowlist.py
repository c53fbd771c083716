"""Allowlists of AWS operations, enforced inside every client before anything is signed or sent.

An `Allowlist` names the operations a command may call and, for each, checks on its parameters (for
instance: AssumeRoot only with one task policy, an IAM delete only without UserName). `rootaudit.aws`
attaches one to every client it makes: an operation outside the list, or parameters a check refuses,
raise the allowlist's error, are logged as `refused`, and never reach the wire.

Two allowlists use this mechanism: the read-only one for collection (`rootaudit/readonly.py`) and the
remediation ones, which name the only mutating calls rootaudit makes (`rootaudit/remediate/allowlist.py`).
"""

from __future__ import annotations

import re
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


_SQL_SKIPPED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)


def select_refusal(sql: Any) -> str | None:
    """Why `sql` is not one read-only query (a single SELECT, or WITH … SELECT), or None when it is.

    Quoted text, quoted names and comments are set aside first, so that a `;` or a keyword inside them
    neither hides a second statement nor refuses a harmless one."""
    if not isinstance(sql, str) or not sql.strip():
        return "the query is empty"
    bare = _SQL_SKIPPED.sub(" ", sql).strip().rstrip(";").strip()
    if ";" in bare:
        return "the query holds more than one statement"
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first not in ("SELECT", "WITH", "("):
        return f"only a SELECT may be sent, not {first or 'nothing'}"
    if re.search(r"\b(INSERT|UNLOAD|CREATE|DELETE|UPDATE|MERGE|DROP|ALTER)\b", bare, re.IGNORECASE):
        return "the query names a statement that writes"
    return None


def single_select(name: str) -> ParamCheck:
    """The parameter must be one read-only query (see `select_refusal`)."""

    def check(params: Mapping[str, Any]) -> str | None:
        why = select_refusal(params.get(name))
        return f"{name}: {why}" if why else None

    return check
