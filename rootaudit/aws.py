"""boto3 sessions and clients: retries, regional STS, root and role sessions, and the call log.

Every client made here records each call it makes into the call log (the `api_calls` frame):
time, account, region, service, operation, parameters with secrets removed, request id, outcome
(ok | error | refused). Every client enforces the context's allowlist before sending: by default the
read-only one (`rootaudit.readonly.READ_ONLY`); remediation makes its contexts with its own
(`rootaudit.remediate.allowlist`). An operation, or parameters, outside it are refused and never sent.
Credentials obtained here live only in memory, inside the clients that use them.

Two kinds of clients: `client()` (the caller's, or a dedicated one for given credentials), and
`session_client()` inside `session_scope()`: one client per thread and service whose credentials are
the thread's current scope's, so a pool reading a thousand accounts does not make a client per account.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.credentials
import botocore.session
import jmespath  # botocore's own dependency, for the paginators' expressions
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from rootaudit.allowlist import Allowlist, ParamCheck

# AUDIT_TASK_POLICY is defined beside the allowlist that limits AssumeRoot to it, and used from here.
from rootaudit.readonly import AUDIT_TASK_POLICY, READ_ONLY, select_problem

_calls_log = logging.getLogger("rootaudit.aws.calls")

# Keys whose values never leave memory: not in the call log, not in raw responses, not in logs.
SECRET_KEYS = frozenset({
    "SecretAccessKey", "SessionToken", "Password", "NewPassword", "OldPassword", "SAMLAssertion",
    "WebIdentityToken", "Token", "PrivateKey", "aws_secret_access_key", "aws_session_token",
    # CloudTrail's spelling in records: AssumeRoot's responseElements.credentials.sessionToken, a password
    # in requestParameters
    "sessionToken", "secretAccessKey", "password",
    # a virtual MFA device's seed and QR code are the second factor itself
    "Base32StringSeed", "QRCodePNG",
})
REDACTED = "<redacted>"


def redact(obj: Any) -> Any:
    """A deep copy of `obj` with every secret value replaced, for logs and raw responses."""
    kind = type(obj)
    if kind is str or kind is int or kind is bool or obj is None:  # most leaves: skip the ABC checks
        return obj
    if kind is dict or isinstance(obj, Mapping):
        return {k: (REDACTED if k in SECRET_KEYS else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact(v) for v in obj]
    return obj


def error_code(exc: BaseException) -> str:
    """The AWS error code of an exception, or its class name for a transport failure."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def error_text(exc: BaseException) -> str:
    """`Code: message` of an AWS error, for reasons a person reads."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message") or ""
        return f"{error_code(exc)}: {message}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def error_raw(exc: BaseException) -> dict[str, Any]:
    """An error as it is kept among the raw responses, in place of the response it replaced."""
    return {"Error": {"Code": error_code(exc), "Message": error_text(exc)}}


def error_matches(exc: BaseException, *codes: str) -> bool:
    """True when the error code is one of `codes`, spelled with or without the `Exception` suffix
    (the IAM API reference spells some codes both ways)."""
    return code_matches(error_code(exc), *codes)


def code_matches(code: str, *codes: str) -> bool:
    """`error_matches` for a code as kept among the raw responses (`error_raw`)."""
    bare = code.removesuffix("Exception")
    return any(bare == c.removesuffix("Exception") for c in codes)


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials; repr never shows the secret parts."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime | None = None


class CallLog:
    """A thread-safe list of the AWS calls made, one dict per call, shaped like `api_calls` rows."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)
        if _calls_log.isEnabledFor(logging.INFO):  # -v: each AWS call, parameters already redacted
            _calls_log.info("%s %s:%s account=%s region=%s %s%s", row["outcome"], row["service"],
                            row["operation"], row["account_id"] or "-", row["region"], row["parameters"],
                            f" error={row['error_code']}" if row["error_code"] else "")

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._rows)

    def operations(self) -> set[tuple[str, str]]:
        """(service, operation) of every call made, for the read-only guard."""
        return {(r["service"], r["operation"]) for r in self.rows()}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Named:
    name: str


# Called with (service, operation, parsed answer) after each successful call.
AnswerHook = Callable[[str, str, Mapping[str, Any]], None]


def _attach_call_log(client: Any, log: CallLog, account_id: str | Callable[[], str], region: str,
                     allowlist: Allowlist | None, on_answer: AnswerHook | None = None) -> None:
    service = client.meta.service_model.service_name
    events = client.meta.events

    def row(model: Any, context: Mapping[str, Any], **values: str) -> dict[str, Any]:
        return {
            "time": context.get("rootaudit_started") or _now_iso(),
            "account_id": account_id() if callable(account_id) else account_id,
            "region": region,
            "service": service,
            "operation": model.name,
            "parameters": context.get("rootaudit_params", "{}"),
            "request_id": "",
            "outcome": "ok",
            "error_code": "",
            **values,
        }

    def remember_params(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        # Most calls of a root session take no parameters; those skip the redaction and JSON.
        context["rootaudit_params"] = (json.dumps(redact(params), sort_keys=True, default=str) if params
                                       else "{}")
        context["rootaudit_started"] = _now_iso()
        context["rootaudit_api_params"] = params  # for the allowlist's parameter checks, never logged

    def guard(model: Any, context: dict[str, Any], **_: Any) -> None:
        # Refuse before anything is signed or sent; the refusal is logged so that it is visible.
        if allowlist is None:
            return
        why = allowlist.refusal(service, model.name, context.get("rootaudit_api_params") or {})
        if why:
            log.add(row(model, context, outcome="refused", error_code=allowlist.error.__name__))
            raise allowlist.error(f"{why}; nothing was sent")

    def after_call(http_response: Any, parsed: Mapping[str, Any], model: Any, context: dict[str, Any],
                   **_: Any) -> None:
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, Mapping) else {}
        err = parsed.get("Error", {}) if isinstance(parsed, Mapping) else {}
        # Checked here, for every call of every client, so that no caller needs its own copy of the check
        missing = [] if err or not isinstance(parsed, Mapping) else _missing_members(model, parsed)
        code = str(err.get("Code", "")) if err else (IncompleteAnswer.__name__ if missing else "")
        log.add(row(model, context, request_id=str(meta.get("RequestId", "") or ""),
                    outcome="error" if err or missing else "ok", error_code=code))
        if missing:  # raised out of the call itself: the answer never reaches the caller
            raise IncompleteAnswer(model.name, _missing_text(missing))
        if on_answer is not None and not err and isinstance(parsed, Mapping):
            on_answer(service, model.name, parsed)

    def after_call_error(exception: BaseException, context: dict[str, Any], event_name: str = "",
                         **_: Any) -> None:
        # botocore passes no model here; the operation is the event name's last part
        operation = event_name.rsplit(".", 1)[-1] if event_name else "unknown"
        log.add(row(_Named(operation), context, outcome="error", error_code=type(exception).__name__))

    events.register("before-parameter-build", remember_params)
    events.register("before-call", guard)
    events.register("after-call", after_call)
    events.register("after-call-error", after_call_error)


@dataclass(frozen=True)
class _Scope:
    credentials: Credentials
    account_id: str


class _ScopedCredentials(botocore.credentials.Credentials):
    """The credentials of the session scope the calling thread is in (see `AwsContext.session_scope`).

    botocore asks for frozen credentials when it signs each request, in the thread making the call, so
    one client per thread can serve every account that thread works on, one after the other.
    """

    def __init__(self, local: threading.local) -> None:  # no secrets stored here
        self._local = local
        self.method = "rootaudit-session-scope"
        self.account_id = None

    def _current(self) -> Credentials:
        scope: _Scope | None = getattr(self._local, "scope", None)
        if scope is None:
            raise RuntimeError("a session client was used outside AwsContext.session_scope")
        return scope.credentials

    @property  # type: ignore[override]
    def access_key(self) -> str:
        return self._current().access_key_id

    @property  # type: ignore[override]
    def secret_key(self) -> str:
        return self._current().secret_access_key

    @property  # type: ignore[override]
    def token(self) -> str:
        return self._current().session_token

    def get_frozen_credentials(self) -> botocore.credentials.ReadOnlyCredentials:
        creds = self._current()
        return botocore.credentials.ReadOnlyCredentials(creds.access_key_id, creds.secret_access_key,
                                                        creds.session_token)


class _ScopedProvider(botocore.credentials.CredentialProvider):
    METHOD = "rootaudit-session-scope"

    def __init__(self, credentials: _ScopedCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> _ScopedCredentials:
        return self._credentials


@dataclass
class AwsSettings:
    profile: str | None = None
    region: str = "us-east-1"
    max_attempts: int = 8  # adaptive retry attempts per call, the first included
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_pool_connections: int = 32


class AwsContext:
    """Makes clients for the caller and for sessions derived from it, all logging their calls."""

    def __init__(self, settings: AwsSettings | None = None, call_log: CallLog | None = None,
                 session: boto3.Session | None = None, readonly: bool = True,
                 allowlist: Allowlist | None = None) -> None:
        self.settings = settings or AwsSettings()
        # The Athena statements this context may start (`allow_query`) and the queries it started.
        self._queries: set[str] = set()
        self._started_queries: set[str] = set()
        self._queries_lock = threading.Lock()
        # Every client refuses what this allowlist does not allow, with this context's own checks on
        # top; readonly=False with no allowlist leaves clients unguarded (tests only).
        base = allowlist if allowlist is not None else (READ_ONLY if readonly else None)
        self.allowlist = base.extended(self._own_checks()) if base is not None else None
        self._clients: dict[tuple[str, str, str, str, str], Any] = {}
        self.call_log = call_log or CallLog()
        self._lock = threading.Lock()
        self._session = session or boto3.Session(profile_name=self.settings.profile,
                                                 region_name=self.settings.region)
        self._caller: dict[str, str] | None = None
        # Session scopes: per-thread clients whose credentials are the thread's current scope's.
        self._local = threading.local()
        self._scoped_session: botocore.session.Session | None = None
        self.config = Config(
            retries={"mode": "adaptive", "max_attempts": self.settings.max_attempts},
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.read_timeout,
            max_pool_connections=self.settings.max_pool_connections,
        )

    @property
    def region(self) -> str:
        return self.settings.region

    def allow_query(self, sql: str) -> None:
        """Register an Athena statement this context's clients may then start, byte for byte.

        athena:StartQueryExecution is refused (nothing sent) unless its QueryString is a statement
        registered here, and registering refuses (ReadOnlyViolation, through the allowlist's error)
        anything but exactly one SELECT statement (rootaudit.readonly.select_problem). A collector
        builds its query, registers it, then starts it:

            ctx.allow_query(sql)
            athena.start_query_execution(QueryString=sql, WorkGroup=workgroup, ...)

        athena:StopQueryExecution is allowed only for a QueryExecutionId this context's clients started.
        """
        why = select_problem(sql)
        if why:
            error = self.allowlist.error if self.allowlist is not None else ValueError
            raise error(f"athena query not registered: {why}")
        with self._queries_lock:
            self._queries.add(sql)

    def _own_checks(self) -> dict[tuple[str, str], tuple[ParamCheck, ...]]:
        def registered(params: Mapping[str, Any]) -> str | None:
            with self._queries_lock:
                known = params.get("QueryString") in self._queries
            return None if known else ("QueryString is not a statement this collection registered "
                                       "(AwsContext.allow_query)")

        def started_here(params: Mapping[str, Any]) -> str | None:
            query_id = params.get("QueryExecutionId")
            with self._queries_lock:
                known = query_id in self._started_queries
            return None if known else f"query {query_id!r} was not started by this collection"

        return {("athena", "StartQueryExecution"): (registered,),
                ("athena", "StopQueryExecution"): (started_here,)}

    def _note_answer(self, service: str, operation: str, parsed: Mapping[str, Any]) -> None:
        if (service, operation) == ("athena", "StartQueryExecution") and parsed.get("QueryExecutionId"):
            with self._queries_lock:
                self._started_queries.add(str(parsed["QueryExecutionId"]))

    def caller(self) -> dict[str, str]:
        """sts:GetCallerIdentity of the configured credentials (Account, Arn, UserId)."""
        if self._caller is None:
            ident = self.client("sts", account_id="").get_caller_identity()
            self._caller = {"Account": ident["Account"], "Arn": ident["Arn"], "UserId": ident["UserId"]}
        return self._caller

    def client(self, service: str, region: str | None = None, credentials: Credentials | None = None,
               account_id: str | None = None, config: Config | None = None) -> Any:
        """A client for the caller, or for `credentials` (a root or role session in `account_id`).

        Clients are thread-safe and costly to make, so one is kept per service, region, account and
        credentials (and extra config); a session's clients go when `forget` is called for it.
        """
        region = region or self.settings.region
        if account_id is None:
            account_id = self.caller()["Account"] if credentials is None and service != "sts" else ""
        key = (service, region, account_id, credentials.access_key_id if credentials else "",
               _config_key(config))
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        kwargs: dict[str, Any] = {"region_name": region, "config": self.config.merge(config) if config
                                  else self.config}
        if service == "sts":
            endpoint = sts_endpoint(region, self.settings.profile)
            if endpoint:
                kwargs["endpoint_url"] = endpoint
        if credentials is not None:
            kwargs.update(aws_access_key_id=credentials.access_key_id,
                          aws_secret_access_key=credentials.secret_access_key,
                          aws_session_token=credentials.session_token)
        with self._lock:  # boto3 sessions are not thread-safe; the clients they make are
            client = self._clients.get(key)
            if client is not None:
                return client
            client = self._session.client(service, **kwargs)
            _attach_call_log(client, self.call_log, account_id, region, self.allowlist, self._note_answer)
            self._clients[key] = client
        return client

    @contextmanager
    def session_scope(self, credentials: Credentials, account_id: str) -> Iterator[None]:
        """Within this block, this thread's `session_client`s act with `credentials` in `account_id`.

        Making a botocore client costs milliseconds of CPU; a pool working through a thousand accounts
        would spend much of its time making them. Scoped clients are made once per thread and service.
        """
        previous = getattr(self._local, "scope", None)
        self._local.scope = _Scope(credentials, account_id)
        try:
            yield
        finally:
            self._local.scope = previous

    def session_client(self, service: str, region: str | None = None) -> Any:
        """This thread's client for `service`, acting with the current `session_scope`'s credentials."""
        region = region or self.settings.region
        clients: dict[tuple[str, str], Any] = self._local.__dict__.setdefault("clients", {})
        client = clients.get((service, region))
        if client is None:
            kwargs: dict[str, Any] = {"region_name": region, "config": self.config}
            if service == "sts":
                endpoint = sts_endpoint(region, self.settings.profile)
                if endpoint:
                    kwargs["endpoint_url"] = endpoint
            with self._lock:
                client = self._scoped_botocore_session().create_client(service, **kwargs)
            _attach_call_log(client, self.call_log, self._scope_account, region, self.allowlist,
                             self._note_answer)
            clients[(service, region)] = client
        return client

    def _scope_account(self) -> str:
        scope: _Scope | None = getattr(self._local, "scope", None)
        return scope.account_id if scope else ""

    def _scoped_botocore_session(self) -> botocore.session.Session:
        if self._scoped_session is None:
            session = botocore.session.Session()
            profile = self.settings.profile
            if profile:
                session.set_config_variable("profile", profile)
            resolver = botocore.credentials.CredentialResolver(
                providers=[_ScopedProvider(_ScopedCredentials(self._local))])
            session.register_component("credential_provider", resolver)
            self._scoped_session = session
        return self._scoped_session

    def forget(self, credentials: Credentials) -> None:
        """Drop the cached clients of a session (its credentials expire; memory stays bounded)."""
        with self._lock:
            for key in [k for k in self._clients if k[3] == credentials.access_key_id]:
                del self._clients[key]

    def assume_root(self, target_account: str, task_policy_arn: str = AUDIT_TASK_POLICY,
                    duration_seconds: int = 900, region: str | None = None) -> Credentials:
        """sts:AssumeRoot on the regional endpoint; raises ClientError as AWS refuses it."""
        sts = self.client("sts", region=region, account_id=self.caller()["Account"])
        resp = sts.assume_root(TargetPrincipal=target_account, TaskPolicyArn={"arn": task_policy_arn},
                               DurationSeconds=duration_seconds)
        return _credentials(resp["Credentials"])

    def assume_role(self, account_id: str, role_name: str, session_name: str = "rootaudit",
                    region: str | None = None, partition: str = "aws") -> Credentials:
        sts = self.client("sts", region=region, account_id=self.caller()["Account"])
        resp = sts.assume_role(RoleArn=f"arn:{partition}:iam::{account_id}:role/{role_name}",
                               RoleSessionName=session_name, DurationSeconds=3600)
        return _credentials(resp["Credentials"])


def _config_key(config: Config | None) -> str:
    if config is None:
        return ""
    return json.dumps({k: getattr(config, k, None) for k in sorted(vars(config)) if not k.startswith("_")},
                      sort_keys=True, default=str)


def _credentials(raw: Mapping[str, Any]) -> Credentials:
    return Credentials(access_key_id=raw["AccessKeyId"], secret_access_key=raw["SecretAccessKey"],
                       session_token=raw["SessionToken"], expiration=raw.get("Expiration"))


def sts_endpoint(region: str, profile: str | None = None) -> str | None:
    """The regional STS endpoint to pass explicitly, or None when an endpoint is configured for STS:
    AWS_ENDPOINT_URL(_STS), or `endpoint_url` (global, or in the profile's `services` section) in the
    profile used (`profile`, else AWS_PROFILE or the default one).

    AssumeRoot is refused on the global endpoint, so the regional one is never left to defaults.
    """
    if os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL"):
        return None
    if (os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true"
            and _profile_endpoint(profile)):
        return None
    return f"https://sts.{region}.amazonaws.com"


def _profile_endpoint(profile: str | None = None) -> bool:
    try:
        session = botocore.session.Session(profile=profile)
        scoped = session.get_scoped_config()  # endpoint_url is no session variable: read the profile
        if scoped.get("endpoint_url"):
            return True
        services = scoped.get("services")
        section = session.full_config.get("services", {}).get(services, {}) if services else {}
        return bool((section.get("sts") or {}).get("endpoint_url"))
    except Exception:  # a broken profile is reported by the first real call, not here
        return False


_paginators: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_paginators_lock = threading.Lock()


def _paginator(client: Any, operation: str) -> Any:
    """The client's paginator for `operation`, made once: botocore builds a new paginator class on each
    `get_paginator` call (about 0.4 ms of CPU, three times per account). A paginator keeps no state
    between `paginate` calls, so threads may share it."""
    with _paginators_lock:
        made = _paginators.setdefault(client, {})
        paginator = made.get(operation)
        if paginator is None:
            paginator = made[operation] = client.get_paginator(operation)
    return paginator


class IncompleteAnswer(Exception):
    """A successful answer that is not whole: a member the operation's output shape requires is missing,
    or a page says the listing goes on (IsTruncated) and gives no marker to go on from.

    botocore accepts both without a word (a paginator simply stops), so the listing would read as
    complete, or an absent LoginProfile as "no password". What it was to tell is unknown: callers treat
    it as a read that failed, never as "none". Every client an `AwsContext` makes raises it out of the
    call that answered without a required member; `paginate` raises it for a truncated page."""

    def __init__(self, operation: str, what: str) -> None:
        super().__init__(f"{operation} answered without {what}: the answer is incomplete")
        self.operation_name = operation  # as botocore's errors carry it, for reasons
        self.what = what


# What a read through an AwsContext's client can fail with: AWS's refusal, botocore's own failure (a
# transport error, a timeout), or an answer that is not whole.
READ_FAILURES = (ClientError, BotoCoreError, IncompleteAnswer)


def _missing_members(operation_model: Any, answer: Mapping[str, Any]) -> list[str]:
    # Only the answer's own members, not those of the structures inside it: AWS's answers about the
    # root user leave some of those out (GetUser's and ListVirtualMFADevices' User without UserName and
    # Path), so botocore's nested `required` lists are no rule AWS keeps.
    shape = operation_model.output_shape
    return [] if shape is None else [name for name in shape.required_members if name not in answer]


def _missing_text(missing: list[str]) -> str:
    return f"{', '.join(missing)} (required by its output shape)"


def required_members_missing(client: Any, operation: str, answer: Mapping[str, Any]) -> list[str]:
    """The members the output shape of `operation` (its API name, e.g. "GetLoginProfile") requires and
    `answer` lacks (the answer's own members only, as every AwsContext client checks them)."""
    return _missing_members(client.meta.service_model.operation_model(operation), answer)


@functools.cache
def _model_session() -> botocore.session.Session:
    # botocore's models only: a new session per lookup would scan botocore's data folder each time
    return botocore.session.get_session()


@functools.lru_cache(maxsize=64)
def _pagination_config(service: str, api_version: str, operation: str) -> Mapping[str, Any]:
    model = _model_session().get_paginator_model(service, api_version)
    try:
        return dict(model.get_paginator(operation))
    except ValueError:
        return {}


def truncated_without_marker(client: Any, operation: str, page: Mapping[str, Any]) -> bool:
    """Whether a page says more results follow (its `more_results` member, e.g. IsTruncated) yet gives
    none of its output tokens (e.g. Marker) to ask for them with."""
    meta = client.meta.service_model
    config = _pagination_config(meta.service_name, meta.api_version, operation)
    more = config.get("more_results")
    if not more or jmespath.search(more, page) is not True:
        return False
    tokens = config.get("output_token")
    tokens = tokens if isinstance(tokens, list) else [tokens] if tokens else []
    return not any(jmespath.search(token, page) not in (None, "") for token in tokens)


def whole_pages(client: Any, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Each page of a listing (`operation` as the client's method name), without its ResponseMetadata; any
    page error propagates. A page that says it is truncated and gives no marker raises IncompleteAnswer
    (botocore would stop there as if at the end); a page without a member its output shape requires
    already raised it, in an AwsContext's client."""
    api_name = client.meta.method_to_api_mapping.get(operation, operation)
    for number, page in enumerate(_paginator(client, operation).paginate(**params), start=1):
        page = dict(page)
        page.pop("ResponseMetadata", None)
        if truncated_without_marker(client, api_name, page):
            raise IncompleteAnswer(api_name, "a marker, though it says the listing is truncated "
                                   f"(page {number})")
        yield page


def paginate(client: Any, operation: str, key: str, **params: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """Every item under `key` across all pages (`whole_pages`), and the raw pages, so that a caller never
    mistakes a partial listing for the whole population."""
    items: list[Any] = []
    pages: list[dict[str, Any]] = []
    for page in whole_pages(client, operation, **params):
        pages.append(redact(page))
        items.extend(page.get(key, []))
    return items, pages


def with_deadline(fn: Callable[[], Any], seconds: float, poll: float = 2.0,
                  until: Callable[[Any], bool] = bool) -> Any:
    """Call `fn` until `until(result)` holds or `seconds` pass; returns the last result."""
    deadline = time.monotonic() + seconds
    while True:
        result = fn()
        if until(result) or time.monotonic() >= deadline:
            return result
        time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
