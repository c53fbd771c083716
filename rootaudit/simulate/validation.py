"""Request validation as AWS does it, driven by botocore's service models, for the operations we extend.

moto checks few constraints of the input shapes; AWS checks them all before it looks at anything else.
Each extended operation's request is checked against its botocore input shape: required members,
string and list length (`min`/`max`), number range, enum values and string patterns. A request that
breaks any is refused the way AWS refuses it, with every violation in one message:

    1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint:
    Member must have value greater than or equal to 1

The error code is the operation's own documented error for that member when the model lists one (for
CloudTrail LookupEvents, `MaxResults` → InvalidMaxResultsException), else the protocol's generic one:
`ValidationError` for the query services (IAM, STS), `ValidationException` for the JSON ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from rootaudit.simulate.errors import SimError

# The operations the simulation extends or re-implements, by botocore service name.
EXTENDED: dict[str, frozenset[str]] = {
    "sts": frozenset({"AssumeRoot", "AssumeRole", "GetCallerIdentity"}),
    "iam": frozenset({
        "ListOrganizationsFeatures", "EnableOrganizationsRootCredentialsManagement",
        "DisableOrganizationsRootCredentialsManagement", "EnableOrganizationsRootSessions",
        "DisableOrganizationsRootSessions", "GenerateCredentialReport", "GetCredentialReport",
        "GetAccountSummary", "ListVirtualMFADevices",
        # the root session's calls (task policies)
        "GetLoginProfile", "CreateLoginProfile", "DeleteLoginProfile", "ListAccessKeys", "DeleteAccessKey",
        "GetAccessKeyLastUsed", "ListMFADevices", "DeactivateMFADevice", "ListSigningCertificates",
        "DeleteSigningCertificate", "GetUser",
    }),
    "cloudtrail": frozenset({"LookupEvents", "ListPublicKeys"}),
}


@cache
def service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def _camel(name: str) -> str:
    """AWS names a member in its messages as the wire's member name with a lower-case first letter."""
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def _pattern_matches(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value, re.DOTALL) is not None
    except re.error:  # a Java-only construct: AWS's own check cannot be reproduced, so none is made
        return True


def violations(shape: Shape | None, value: Any, path: str) -> list[tuple[str, str, Any]]:
    """(path, constraint, value) for every constraint of `shape` that `value` breaks."""
    if shape is None or value is None:
        return []
    found: list[tuple[str, str, Any]] = []
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for name in shape.required_members:
            if value.get(name) is None:
                found.append((f"{path}.{_camel(name)}" if path else _camel(name), "Member must not be null",
                              None))
        for name, member in shape.members.items():
            if name in value:
                found += violations(member, value[name], f"{path}.{_camel(name)}" if path else _camel(name))
        return found
    if kind == "list" and isinstance(shape, ListShape) and isinstance(value, list):
        found += _length(meta, len(value), path, value)
        for n, item in enumerate(value, 1):
            found += violations(shape.member, item, f"{path}.{n}.member")
        return found
    if kind == "map" and isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            found += violations(shape.value, item, f"{path}.{key}")
        return found
    if kind == "string" and isinstance(value, str):
        found += _length(meta, len(value), path, value)
        if shape.enum and value not in shape.enum:
            found.append((path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]", value))
        if "pattern" in meta and not _pattern_matches(meta["pattern"], value):
            found.append((path, f"Member must satisfy regular expression pattern: {meta['pattern']}", value))
        return found
    if kind in ("integer", "long", "float", "double"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return [(path, f"Member must be a number ({kind})", value)]
        if "min" in meta and number < meta["min"]:
            found.append((path, f"Member must have value greater than or equal to {meta['min']}", value))
        if "max" in meta and number > meta["max"]:
            found.append((path, f"Member must have value less than or equal to {meta['max']}", value))
    return found


def _length(meta: Mapping[str, Any], size: int, path: str, value: Any) -> list[tuple[str, str, Any]]:
    out = []
    if "min" in meta and size < meta["min"]:
        out.append((path, f"Member must have length greater than or equal to {meta['min']}", value))
    if "max" in meta and size > meta["max"]:
        out.append((path, f"Member must have length less than or equal to {meta['max']}", value))
    return out


def refusal(service: str, operation: str, params: Mapping[str, Any]) -> SimError | None:
    """The error AWS answers `params` with, or None when they satisfy the operation's input shape."""
    model = operation_model(service, operation)
    found = violations(model.input_shape, dict(params), "")
    if not found:
        return None
    parts = [f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {constraint}"
             for path, constraint, value in found]
    count = len(found)
    message = f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(parts)
    return SimError(_error_code(model, [path for path, _, _ in found]), message, 400)


def _error_code(model: OperationModel, paths: Iterable[str]) -> str:
    """The operation's own error for the first member at fault (InvalidMaxResultsException for
    maxResults), else the protocol's generic validation error."""
    documented = {shape.name for shape in model.error_shapes}
    for path in paths:
        top = path.split(".", 1)[0]
        candidate = f"Invalid{top[:1].upper()}{top[1:]}Exception"
        if candidate in documented:
            return candidate
    protocol = model.metadata.get("protocol", "")
    return "ValidationError" if protocol == "query" else "ValidationException"


def request_params(response: Any, service: str) -> dict[str, Any]:
    """The request's parameters as moto parsed them (query services) or as sent (JSON services)."""
    if service_model(service).metadata.get("protocol") == "query":
        params = dict(getattr(response, "params", None) or {})
        params.pop("Action", None)
        params.pop("Version", None)
        return params
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def validating(service: str, call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a moto response class's call_action: an extended operation's request is checked first."""

    def checked(self: Any) -> Any:
        action = str(self._get_action() or "")
        if action in EXTENDED[service]:
            error = refusal(service, action, request_params(self, service))
            if error is not None:
                from moto.core.responses import ActionResult

                status, headers, body = self.serialized(ActionResult(error))
                headers, body = self._enrich_response(headers, body)
                return status, headers, body
        return call_action(self)

    return checked


_installed = False


def install() -> None:
    """Installed last, so that the check runs before every other extension's handling."""
    global _installed
    if _installed:
        return
    from moto.cloudtrail.responses import CloudTrailResponse
    from moto.iam.responses import IamResponse
    from moto.sts.responses import TokenResponse

    for service, cls in (("iam", IamResponse), ("sts", TokenResponse), ("cloudtrail", CloudTrailResponse)):
        target: Any = cls
        target.call_action = validating(service, target.call_action)
    _installed = True
