"""A fault plan for the simulated organization: AWS misbehaving on purpose, deterministically.

Most faults act in front of moto, as a WSGI middleware (server mode): refusals, throttling (transient
or never-ending), delays beyond a client's read timeout, a failing page of a listing, and answers
rewritten on the wire (a 200 that leaves something out or says something else: `rewrite`, with the
edits of `rootaudit.simulate.rewrites`). Two act inside
the extensions and so work in both modes: AssumeRoot / AssumeRole refused for an account, and a
credential report stuck in progress. Rules match by service, operation, the calling account (the
account whose credentials sign the request) and the target account (AssumeRoot's TargetPrincipal,
AssumeRole's role account, or an account named in the request).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from rootaudit.simulate.registry import REGISTRY

_SCOPE = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_ACCOUNT_IN = re.compile(r"(?<![0-9])(\d{12})(?![0-9])")
JSON_SERVICES = {"organizations", "account", "cloudtrail", "logs", "events"}


@dataclass(frozen=True)
class Request:
    """What a rule can match on, read from one HTTP request."""

    service: str
    operation: str
    region: str
    access_key: str
    caller_account: str
    target_account: str
    params: dict[str, Any]
    json_protocol: bool = False  # JSON (X-Amz-Target) or REST-JSON: errors are answered in JSON

    @property
    def identity(self) -> str:
        """The same call made again (a retry) has the same identity."""
        blob = json.dumps([self.service, self.operation, self.access_key, self.params], sort_keys=True,
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Rule:
    """One fault. `kind`: error | throttle | delay | page_error | rewrite. None in a matcher matches
    anything."""

    kind: str
    service: str | None = None
    operation: str | None = None
    caller_account: str | None = None
    target_account: str | None = None
    code: str = ""
    status: int = 400
    message: str = ""
    share: float = 1.0  # throttle: the share of matching calls affected, chosen by the call's identity
    failures: int | None = None  # throttle/error: per call, fail this many times then pass; None = always
    seconds: float = 0.0  # delay
    page: int = 0  # page_error: the 1-based page that fails
    edit: Callable[[bytes], bytes] | None = None  # rewrite: a successful answer's body -> the body sent
    hits: int = 0  # how many requests this rule affected
    _seen: dict[str, int] = field(default_factory=dict, repr=False)
    _tokens: dict[str, int] = field(default_factory=dict, repr=False)

    def matches(self, req: Request) -> bool:
        return all(want is None or want == got for want, got in (
            (self.service, req.service), (self.operation, req.operation),
            (self.caller_account, req.caller_account), (self.target_account, req.target_account)))

    def selected(self, req: Request) -> bool:
        if self.share >= 1.0:
            return True
        return int(req.identity[:8], 16) / 0xFFFFFFFF < self.share

    def still_failing(self, req: Request) -> bool:
        """Counts this call's attempts; transient faults let the call through after `failures`."""
        if self.failures is None:
            return True
        n = self._seen.get(req.identity, 0)
        self._seen[req.identity] = n + 1
        return n < self.failures


class FaultPlan:
    """The faults in force. Add rules with the helpers; `clear()` removes them all."""

    def __init__(self, http: bool = True) -> None:
        # http=False (in-process mode): no middleware sees the requests, so rules acting on HTTP are
        # refused rather than silently ignored; the refusals and the stuck report still work.
        self.http = http
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    # --- what tests ask for -----------------------------------------------------------------------

    def deny_assume_root(self, account_id: str) -> None:
        """AccessDenied (403) on every AssumeRoot into `account_id` (works in both modes)."""
        with REGISTRY.lock:
            REGISTRY.assume_root_refused.add(account_id)

    def deny_assume_role(self, account_id: str) -> None:
        """AccessDenied (403) on every AssumeRole into a role of `account_id` (works in both modes)."""
        with REGISTRY.lock:
            REGISTRY.assume_role_refused.add(account_id)

    def stuck_credential_report(self, account_id: str) -> None:
        """The account's credential report never completes: INPROGRESS, then ReportInProgress (404)."""
        with REGISTRY.lock:
            REGISTRY.report_stuck.add(account_id)

    def throttle(self, service: str | None = None, operation: str | None = None, share: float = 1.0,
                 failures: int | None = 2, caller_account: str | None = None,
                 target_account: str | None = None, code: str | None = None) -> Rule:
        """Throttle a deterministic `share` of matching calls; each affected call fails `failures` times
        and then succeeds (None: never succeeds). The code is the service's own throttling error."""
        return self.add(Rule("throttle", service, operation, caller_account, target_account,
                             code=code or _throttle_code(service), status=400,
                             message="Rate exceeded", share=share, failures=failures))

    def error(self, code: str, status: int, service: str | None = None, operation: str | None = None,
              caller_account: str | None = None, target_account: str | None = None, message: str = "",
              failures: int | None = None) -> Rule:
        return self.add(Rule("error", service, operation, caller_account, target_account, code=code,
                             status=status, message=message or code, failures=failures))

    def delay(self, seconds: float, service: str | None = None, operation: str | None = None,
              caller_account: str | None = None, target_account: str | None = None) -> Rule:
        """Hold matching responses back for `seconds` (longer than a client's read timeout)."""
        return self.add(Rule("delay", service, operation, caller_account, target_account, seconds=seconds))

    def fail_page(self, page: int, service: str = "organizations", operation: str = "ListAccounts",
                  code: str = "ServiceException", status: int = 500) -> Rule:
        """Fail the `page`-th page (1-based) of a paginated listing, every time it is asked for."""
        return self.add(Rule("page_error", service, operation, code=code, status=status,
                             message="An internal error occurred", page=page))

    def rewrite(self, edit: Callable[[bytes], bytes], service: str | None = None,
                operation: str | None = None, caller_account: str | None = None,
                target_account: str | None = None) -> Rule:
        """Rewrite the body of every successful (2xx) answer to matching calls with `edit` (see
        `rootaudit.simulate.rewrites`); `hits` counts the answers the edit changed."""
        return self.add(Rule("rewrite", service, operation, caller_account, target_account, edit=edit))

    def refuse_organizations_features(
            self, code: str = "AccountNotManagementOrDelegatedAdministratorException") -> Rule:
        """ListOrganizationsFeatures refused (400)."""
        return self.error(code, 400, service="iam", operation="ListOrganizationsFeatures",
                          message="The request was rejected because the account making the request is not "
                                  "the management account or delegated administrator account.")

    def add(self, rule: Rule) -> Rule:
        if not self.http:
            raise NotImplementedError(f"a {rule.kind} fault needs the simulation in server mode "
                                      "(SimulatedOrganization(..., mode='server'))")
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
        with REGISTRY.lock:
            REGISTRY.assume_root_refused.clear()
            REGISTRY.assume_role_refused.clear()
            REGISTRY.report_stuck.clear()

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    # --- the middleware ---------------------------------------------------------------------------

    def middleware(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        plan = self

        def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            if not plan._rules:
                return app(environ, start_response)
            body = _read_body(environ)
            req = _describe(environ, body)
            if req is None:
                return app(environ, start_response)
            page_rule: Rule | None = None
            rewrites: list[Rule] = []
            with plan._lock:
                rules = [r for r in plan._rules if r.matches(req)]
            for rule in rules:
                if rule.kind == "delay":
                    rule.hits += 1
                    time.sleep(rule.seconds)
                elif rule.kind in ("error", "throttle"):
                    with plan._lock:
                        fire = rule.selected(req) and rule.still_failing(req)
                        rule.hits += fire
                    if fire:
                        return _error(start_response, req, rule.code, rule.status, rule.message)
                elif rule.kind == "page_error":
                    token = str(req.params.get("NextToken") or "")
                    with plan._lock:
                        page = rule._tokens.get(token, 0) + 1 if token else 1
                    if page == rule.page:
                        with plan._lock:
                            rule.hits += 1
                        return _error(start_response, req, rule.code, rule.status, rule.message)
                    page_rule = rule
                elif rule.kind == "rewrite":
                    rewrites.append(rule)
            if page_rule is None and not rewrites:
                return app(environ, start_response)
            return _answer_edited(app, environ, start_response, req, page_rule, rewrites, plan._lock)

        return wsgi


def _throttle_code(service: str | None) -> str:
    if service in ("iam", "sts", "s3", "sqs", None):
        return "Throttling"
    if service == "organizations":
        return "TooManyRequestsException"
    return "ThrottlingException"


def _read_body(environ: dict[str, Any]) -> bytes:
    import io

    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _describe(environ: dict[str, Any], body: bytes) -> Request | None:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = _SCOPE.search(auth)
    if not scope:
        return None
    access_key, region, service = scope.group(1), scope.group(2), scope.group(3)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    params: dict[str, Any]
    if target:
        operation = target.rsplit(".", 1)[-1]
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
    else:
        form = parse_qs(body.decode("utf-8", "replace")) or parse_qs(environ.get("QUERY_STRING", ""))
        params = {k: v[0] for k, v in form.items()}
        operation = str(params.pop("Action", ""))
        params.pop("Version", None)
    json_protocol = bool(target) or "json" in environ.get("CONTENT_TYPE", "") or service in JSON_SERVICES
    return Request(service, operation, region, access_key, _account_of(access_key),
                   _target_of(operation, params), params, json_protocol)


def _account_of(access_key: str) -> str:
    with REGISTRY.lock:
        session = REGISTRY.root_sessions.get(access_key)
        if session is not None:
            return session.account_id
        if access_key in REGISTRY.root_keys:
            return REGISTRY.root_keys[access_key]
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


def _target_of(operation: str, params: dict[str, Any]) -> str:
    for name in ("TargetPrincipal", "RoleArn", "AccountId", "TaskPolicyArn.arn"):
        value = params.get(name)
        if value and (m := _ACCOUNT_IN.search(str(value))):
            return m.group(1)
    return ""


def _error(start_response: Callable[..., Any], req: Request, code: str, status: int,
           message: str) -> list[bytes]:
    request_id = str(uuid.uuid4())
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
              500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
    if req.json_protocol:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", request_id),
                   ("X-Amzn-ErrorType", code)]
    else:
        fault = "Receiver" if status >= 500 else "Sender"
        body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{status} {reason}", headers)
    return [body]


def _answer_edited(app: Callable[..., Iterable[bytes]], environ: dict[str, Any],
                   start_response: Callable[..., Any], req: Request, page_rule: Rule | None,
                   rewrites: list[Rule], lock: threading.Lock) -> Iterable[bytes]:
    """The app's answer, read whole: its NextToken noted for `page_rule` (so the next page can be
    numbered), then, when it succeeded, each rewrite applied to its body (Content-Length follows)."""
    answered: dict[str, Any] = {}

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        answered.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(app(environ, capture))
    if page_rule is not None:
        _remember_next_token(body, page_rule, req)
    if str(answered.get("status", "")).startswith("2"):
        for rule in rewrites:
            assert rule.edit is not None
            edited = rule.edit(body)
            if edited != body:
                with lock:
                    rule.hits += 1
                body = edited
    headers = [(k, v) for k, v in answered.get("headers", []) if k.lower() != "content-length"]
    start_response(answered.get("status", "500 Internal Server Error"),
                   [*headers, ("Content-Length", str(len(body)))])
    return [body]


def _remember_next_token(body: bytes, rule: Rule, req: Request) -> None:
    """Note the NextToken a page hands out, so the next page can be numbered."""
    try:
        next_token = json.loads(body or b"{}").get("NextToken")
    except ValueError:
        next_token = None
    if next_token:
        this_page = rule._tokens.get(str(req.params.get("NextToken") or ""), 0) + 1 \
            if req.params.get("NextToken") else 1
        rule._tokens[str(next_token)] = this_page
