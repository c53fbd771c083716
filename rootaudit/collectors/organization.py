"""The organization: its accounts (with OU paths and security contacts) and its root-access settings.

Fetch (thin calls to Organizations, IAM, STS and Account) then transform (pure functions from the raw
responses to `accounts` and `organization` rows). The account population is all or nothing: if any page of
ListAccounts fails, collection stops with `CollectionAborted` rather than presenting part of the
organization as the whole of it. An account that one listing names and another omits without an error
(ListAccounts, the OU walk, the IAM delegated administrators, DescribeOrganization's management account)
is kept, with the disagreement in its `population_reason` (`rootaudit.population`). Everything else that
cannot be read is kept as NA with its reason.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from rootaudit import population
from rootaudit.aws import (
    READ_FAILURES,
    AwsContext,
    code_matches,
    error_matches,
    error_raw,
    error_text,
    paginate,
    redact,
)
from rootaudit.collectors import Collected
from rootaudit.snapshot import make_frame, utc_iso

IAM_PRINCIPAL = "iam.amazonaws.com"
ROOT_CREDENTIALS_MANAGEMENT = "RootCredentialsManagement"
ROOT_SESSIONS = "RootSessions"
DEFAULT_WORKERS = 18  # concurrent calls (OU walk, GetAlternateContact); CollectSettings.workers' default
ROOT_NAME = "Root"  # the name AWS gives every organization root (ListRoots returns it when it can be read)
URGENT, ROUTINE = 0, 1  # the OU walk's sequential pages go before the thousand contact calls


class CollectionAborted(RuntimeError):
    """Collection cannot go on without presenting incomplete evidence as complete (e.g. the account list)."""




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


def names_path(parent_id: str, ous: Mapping[str, tuple[str, str | None]]) -> str | None:
    """The OU path an auditor reads, root first (`Root/Workloads/Prod`), of whatever sits in `parent_id`.

    `ous` maps every known OU and root id to (its name, its parent's id; None for a root). None when the
    chain up to a root is not known (an OU missing from `ous`) or loops.
    """
    names: list[str] = []
    seen: set[str] = set()
    current: str | None = parent_id
    while current is not None:
        if current in seen or current not in ous:
            return None
        seen.add(current)
        name, current = ous[current]
        names.append(name)
    return "/".join(reversed(names))


def account_state(entry: Mapping[str, Any]) -> str:
    """State replaces the retiring Status (same values for the old ones). A listing without either is
    UNKNOWN, which later stages treat as not assessed, never as ACTIVE."""
    return str(entry.get("State") or entry.get("Status") or population.UNKNOWN_STATE)


def account_rows(accounts: Iterable[Mapping[str, Any]], management_id: str,
                 delegated_admin_ids: set[str] | None, ou_paths: Mapping[str, str | None],
                 contacts: Mapping[str, tuple[str, str]],
                 named: Mapping[str, Iterable[str]] | None = None,
                 ou_tree_unread: Iterable[str] = ()) -> list[dict[str, Any]]:
    """`accounts` rows from account entries (ListAccounts', else the OU walk's or ListDelegatedAdministrators'
    entry for an account ListAccounts left out) and what was learnt about each account; `named` (listing ->
    account ids, see `rootaudit.population`) fills `listed_by` and `population_reason` (`ou_tree_unread`:
    accounts the OU tree could not be read for, so that its silence about them is no disagreement).

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
            "state": account_state(acct),
            "joined_method": acct.get("JoinedMethod"),
            "joined_at": utc_iso(acct.get("JoinedTimestamp")),
            "ou_path": ou_paths.get(account_id),
            "is_management": account_id == management_id,
            "is_delegated_admin": None if delegated_admin_ids is None else account_id in delegated_admin_ids,
            "security_contact": contact,
            "security_contact_reason": contact_reason or None,
        })
    return population.reconcile(rows, named or {}, management_id, ou_tree_unread)


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


def contact_from_error(error: Mapping[str, Any]) -> tuple[str, str]:
    """From an error as kept (`error_raw`)."""
    code, text = str(error.get("Code") or ""), str(error.get("Message") or error.get("Code") or "")
    if code_matches(code, "ResourceNotFoundException"):
        return "none", ""
    if code_matches(code, "AccessDenied", "AccessDeniedException"):
        return "not_assessed", (f"account:GetAlternateContact refused ({text}); allow it for the "
                                "caller and enable trusted access for account.amazonaws.com")
    return "not_assessed", f"account:GetAlternateContact failed ({text})"


def contact_of(kept: Any, account_id: str, management_id: str, caller_account: str) -> tuple[str, str]:
    """An account's security contact from GetAlternateContact's answer as kept (None: not read)."""
    if account_id == management_id and account_id != caller_account:
        return ("not_assessed", "the management account's security contact can only be read with the "
                "management account's own credentials; the caller is in account " + caller_account)
    if kept is None:
        return "not_assessed", "not read"
    if isinstance(kept, Mapping) and isinstance(kept.get("Error"), Mapping):
        return contact_from_error(kept["Error"])
    return contact_from_response(kept)


def contact_key(account_id: str) -> str:
    return f"account/{account_id}/security_contact"


def listed(response: Any, key: str) -> list[Mapping[str, Any]] | None:
    """The items of a paginated response as kept raw; None where the call failed (an Error kept) or its
    answer is not kept."""
    if response is None or (isinstance(response, Mapping) and "Error" in response):
        return None
    return [item for page in response for item in (page.get(key) or [])]


def walk_from_raw(raw: Mapping[str, Any]) -> tuple[dict[str, tuple[str, str | None]], dict[str, str],
                                                    dict[str, Mapping[str, Any]], bool]:
    """The OU tree walk's findings from its kept listings: every root and OU (id -> (name, parent)), each
    account's parent and entry, and whether any listing failed (or is not kept)."""
    ous: dict[str, tuple[str, str | None]] = {}
    parent_of: dict[str, str] = {}
    entries: dict[str, Mapping[str, Any]] = {}
    failed = False
    roots = listed(raw.get("organizations/list_roots"), "Roots")
    if roots is None:
        return ous, parent_of, entries, True
    todo: list[str] = []
    for root in roots:
        ous[str(root["Id"])] = (str(root.get("Name") or ROOT_NAME), None)
        todo.append(str(root["Id"]))
    while todo:
        parent = todo.pop(0)
        children = listed(raw.get(f"organizations/list_organizational_units_for_parent/{parent}"),
                          "OrganizationalUnits")
        accounts = listed(raw.get(f"organizations/list_accounts_for_parent/{parent}"), "Accounts")
        failed = failed or children is None or accounts is None
        for ou in children or []:
            ou_id = str(ou["Id"])
            if ou_id not in ous:
                ous[ou_id] = (str(ou.get("Name") or ou_id), parent)
                todo.append(ou_id)
        for account in accounts or []:
            parent_of[str(account["Id"])] = parent
            entries[str(account["Id"])] = account
    return ous, parent_of, entries, failed


def path_from_raw(raw: Mapping[str, Any], child: str, ous: Mapping[str, tuple[str, str | None]],
                  seen: frozenset[str] = frozenset()) -> str | None:
    """The OU path of `child` (an account or OU) by its kept ListParents answers up to a known OU or a
    root, an OU the walk did not see named by its kept DescribeOrganizationalUnit; None when one of
    them is not kept, failed, or loops."""
    parents = listed(raw.get(f"organizations/list_parents/{child}"), "Parents")
    if parents is None or len(parents) != 1 or child in seen:
        return None
    parent_id = str(parents[0]["Id"])
    known = names_path(parent_id, ous)
    if known is not None:
        return known
    if parents[0].get("Type") == "ROOT":  # ListRoots could not be read; every root is named Root
        return ROOT_NAME
    above = path_from_raw(raw, parent_id, ous, seen | {child})
    described = raw.get(f"organizations/describe_organizational_unit/{parent_id}")
    if above is None or not isinstance(described, Mapping) or "Error" in described:
        return None
    return f"{above}/{(described.get('OrganizationalUnit') or {}).get('Name') or parent_id}"


ACCOUNTS_RAW = ("sts/get_caller_identity", "organizations/describe_organization",
                "organizations/list_accounts", "organizations/list_delegated_administrators")


def accounts_from_raw(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The `accounts` rows from the kept responses (ListAccounts, the OU walk's listings, ListParents,
    DescribeOrganizationalUnit, ListDelegatedAdministrators, GetAlternateContact): the population, OU
    paths and security contacts, as `collect_organization` makes them (before the population is
    reconciled with what the other frames name). A KeyError naming a response in ACCOUNTS_RAW not kept."""
    for key in ACCOUNTS_RAW:
        if key not in raw:
            raise KeyError(key)
    caller = raw["sts/get_caller_identity"] or {}
    org = (raw["organizations/describe_organization"] or {}).get("Organization") or {}
    management_id = str(org.get("MasterAccountId") or "")
    accounts = listed(raw["organizations/list_accounts"], "Accounts") or []
    ous, parent_of, walked, walk_failed = walk_from_raw(raw)
    admins = listed(raw["organizations/list_delegated_administrators"], "DelegatedAdministrators")
    delegated_ids = None if admins is None else {str(a["Id"]) for a in admins}
    entries = _entries(accounts, walked, admins or [])
    ids = [str(a["Id"]) for a in accounts]
    paths: dict[str, str | None] = {}
    unread: set[str] = set()
    for account_id in ids:
        parent = parent_of.get(account_id)
        path = names_path(parent, ous) if parent is not None else None
        if path is None:
            path = path_from_raw(raw, account_id, ous)
            if path is None and walk_failed:
                unread.add(account_id)
        paths[account_id] = path
    caller_account = str(caller.get("Account") or "")
    contacts = {str(e["Id"]): contact_of(raw.get(contact_key(str(e["Id"]))), str(e["Id"]), management_id,
                                         caller_account) for e in entries}
    named = {
        population.LIST_ACCOUNTS: ids,
        population.OU_WALK: parent_of,
        population.LIST_PARENTS: [a for a in ids if a not in parent_of and paths.get(a)],
        population.DELEGATED_ADMINISTRATORS: delegated_ids or (),
        population.MANAGEMENT_ACCOUNT: [management_id],
    }
    return account_rows(entries, management_id, delegated_ids, paths, contacts, named, unread)


# --------------------------------------------------------------------------------------------------- fetch

class _UrgentFirstPool:
    """`workers` threads that take the most urgent task first, in submission order within an urgency.

    The OU walk is a few dozen calls, some of them sequential pages; behind a thousand queued contact
    calls (a plain FIFO pool) each of its steps would wait seconds, and its last pages would run alone at
    the end. Taking it first keeps every worker busy and the walk off the critical path.
    """

    def __init__(self, workers: int, name: str) -> None:
        self._tasks: queue.PriorityQueue[tuple[int, int, Future[Any] | None, Callable[[], Any] | None]] = (
            queue.PriorityQueue())
        self._order = itertools.count()
        self._closing = False
        self._closing_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
                         for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, urgency: int, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._closing_lock:
            if self._closing:  # e.g. a walk listing that ends after collection was aborted
                future.cancel()
            else:
                self._tasks.put((urgency, next(self._order), future, partial(fn, *args)))
        return future

    def _work(self) -> None:
        while True:
            _, _, future, task = self._tasks.get()
            if future is None or task is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(task())
            except BaseException as exc:  # the submitter sees it through the future
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Cancel what has not started, let what has finish, and stop the threads."""
        with self._closing_lock:
            self._closing = True
        while True:
            try:
                _, _, future, _ = self._tasks.get_nowait()
            except queue.Empty:
                break
            if future is not None:
                future.cancel()
        for _ in self._threads:
            self._tasks.put((ROUTINE + 1, next(self._order), None, None))
        for thread in self._threads:
            thread.join()


class _OuTreeWalk:
    """The OU tree, top-down: ListRoots, then for each root and OU its child OUs (with their names) and its
    accounts, every listing paginated, each listing a task in the pool.

    `ous` ends as id -> (name, parent id) of every root and OU seen, `account_parent` as account id ->
    its parent's id. A listing that fails is noted in `failures` and the walk goes on: the accounts it
    would have found are resolved one by one afterwards (ListParents)."""

    def __init__(self, client: Any, pool: _UrgentFirstPool, raw: dict[str, Any], lock: threading.Lock,
                 on_account: Callable[[str], None]) -> None:
        self._client = client
        self._pool = pool
        self._on_account = on_account  # told of each account found, to start reading its contact early
        self._raw = raw
        self._lock = lock  # guards raw, ous, account_parent, failures and the task list
        self.ous: dict[str, tuple[str, str | None]] = {}
        self.account_parent: dict[str, str] = {}
        self.account_entries: dict[str, Mapping[str, Any]] = {}  # what the walk's listings said of each
        self.failures: list[str] = []
        self._tasks: list[Future[Any]] = []

    def start(self) -> None:
        self._submit(self._roots)

    def wait(self) -> None:
        """Until every listing of the walk is done (a task's children are queued before it ends)."""
        n = 0
        while True:
            with self._lock:
                if n >= len(self._tasks):
                    return
                task = self._tasks[n]
            task.result()
            n += 1

    def _submit(self, fn: Callable[..., Any], *args: Any) -> None:
        future = self._pool.submit(URGENT, self._guarded, fn, *args)
        with self._lock:
            self._tasks.append(future)

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except READ_FAILURES as exc:
            what = f"organizations:{getattr(exc, 'operation_name', '') or fn.__name__.strip('_')}"
            where = f" under {args[0]}" if args else ""
            with self._lock:
                self.failures.append(f"{what}{where}: {error_text(exc)}")

    def _listing(self, operation: str, key: str, raw_key: str, **params: Any) -> list[Any]:
        try:
            items, pages = paginate(self._client, operation, key, **params)
        except READ_FAILURES as exc:  # kept: the tree is then known not to be whole
            with self._lock:
                self._raw[raw_key] = error_raw(exc)
            raise
        with self._lock:
            self._raw[raw_key] = pages
        return items

    def _roots(self) -> None:
        for root in self._listing("list_roots", "Roots", "organizations/list_roots"):
            root_id = str(root["Id"])
            with self._lock:
                self.ous[root_id] = (str(root.get("Name") or ROOT_NAME), None)
            self._submit(self._child_ous, root_id)
            self._submit(self._accounts_in, root_id)

    def _child_ous(self, parent_id: str) -> None:
        for ou in self._listing("list_organizational_units_for_parent", "OrganizationalUnits",
                                f"organizations/list_organizational_units_for_parent/{parent_id}",
                                ParentId=parent_id):
            ou_id = str(ou["Id"])
            with self._lock:
                self.ous[ou_id] = (str(ou.get("Name") or ou_id), parent_id)
            self._submit(self._child_ous, ou_id)
            self._submit(self._accounts_in, ou_id)

    def _accounts_in(self, parent_id: str) -> None:
        accounts = self._listing("list_accounts_for_parent", "Accounts",
                                 f"organizations/list_accounts_for_parent/{parent_id}", ParentId=parent_id)
        with self._lock:
            for account in accounts:
                self.account_parent[str(account["Id"])] = parent_id
                self.account_entries[str(account["Id"])] = account
        for account in accounts:
            self._on_account(str(account["Id"]))


class _ParentsResolver:
    """An account's OU path by ListParents up to the root, for an account the walk did not find (moved
    during the walk, or under a listing that failed). An OU the walk did not see is named by
    DescribeOrganizationalUnit; each is looked up once however many threads ask for it."""

    def __init__(self, client: Any, known: Mapping[str, tuple[str, str | None]], raw: dict[str, Any],
                 raw_lock: threading.Lock) -> None:
        self._client = client
        self._known = known  # the walk's OUs; the walk is over, so they no longer change
        self._raw = raw
        self._raw_lock = raw_lock  # `raw` is shared with other threads' writers
        self._lock = threading.Lock()
        self._paths: dict[str, Future[str]] = {}

    def _parent(self, child_id: str) -> Mapping[str, Any]:
        key = f"organizations/list_parents/{child_id}"
        try:
            parents, pages = paginate(self._client, "list_parents", "Parents", ChildId=child_id)
        except READ_FAILURES as exc:
            with self._raw_lock:
                self._raw[key] = error_raw(exc)
            raise
        with self._raw_lock:
            self._raw[key] = pages
        if len(parents) != 1:
            raise CollectionAborted(f"ListParents({child_id}) returned {len(parents)} parents, not one")
        return parents[0]

    def _describe(self, ou_id: str) -> None:
        key = f"organizations/describe_organizational_unit/{ou_id}"
        try:
            resp = dict(self._client.describe_organizational_unit(OrganizationalUnitId=ou_id))
        except READ_FAILURES as exc:
            with self._raw_lock:
                self._raw[key] = error_raw(exc)
            raise
        resp.pop("ResponseMetadata", None)
        with self._raw_lock:
            self._raw[key] = redact(resp)

    def _read_up_from(self, parent: Mapping[str, Any]) -> None:
        """ListParents from `parent` up to an OU the walk saw or a root, and DescribeOrganizationalUnit
        for each OU on the way; each OU once however many threads ask for it."""
        parent_id = str(parent["Id"])
        if names_path(parent_id, self._known) is not None or parent.get("Type") == "ROOT":
            return
        with self._lock:
            future = self._paths.get(parent_id)
            owner = future is None
            if owner:
                future = self._paths[parent_id] = Future()
        assert future is not None
        if owner:
            try:
                self._read_up_from(self._parent(parent_id))
                self._describe(parent_id)
                future.set_result("")
            except BaseException as exc:
                future.set_exception(exc)
        future.result()

    def account_path(self, account_id: str) -> str:
        """The path, from the answers read and kept (`path_from_raw`, as verify reads them)."""
        self._read_up_from(self._parent(account_id))
        with self._raw_lock:
            path = path_from_raw(self._raw, account_id, self._known)
        if path is None:
            raise CollectionAborted(f"the OU path of {account_id} does not follow from its ListParents "
                                    "answers")
        return path


def _required(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except READ_FAILURES as exc:
        if error_matches(exc, "AWSOrganizationsNotInUseException"):
            raise CollectionAborted(f"{what}: the caller's account is not in an AWS Organization") from exc
        raise CollectionAborted(
            f"{what} failed ({error_text(exc)}); the organization cannot be listed completely, so "
            "collection stopped. Run rootaudit with management-account credentials allowed "
            "organizations:Describe*/List*") from exc


def collect_organization(ctx: AwsContext, workers: int = DEFAULT_WORKERS) -> Collected:
    """Frames `accounts` and `organization`, raw responses, and warnings in `meta["warnings"]`.

    The population is every account ListAccounts, the OU walk, the IAM delegated administrators or
    DescribeOrganization names; one that some of them omit is kept with the disagreement in its
    `population_reason` (`rootaudit.population`). OU paths come from one top-down walk of the OU tree
    (names, root first: `Root/Workloads/Prod`; the ids are in the raw listings), and ListParents for any
    ListAccounts account the walk did not find. Each security contact is read as soon as ListAccounts or
    the walk names its account, the walk's own calls first and at most `workers` calls at once; the
    organization's settings are read meanwhile. If any page of ListAccounts fails, nothing is returned
    (`CollectionAborted`).
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

    lock = threading.Lock()  # guards raw and warnings across the pool's threads
    accounts: list[Mapping[str, Any]] = []
    pages: list[dict[str, Any]] = []
    pool = _UrgentFirstPool(workers, "rootaudit-org")
    try:
        contacts = _Contacts(ctx.client("account"), pool, management_id, caller.get("Account", ""), raw, lock)
        walk = _OuTreeWalk(orgs, pool, raw, lock, contacts.request)
        walk.start()
        try:
            for page in orgs.get_paginator("list_accounts").paginate():
                page = dict(page)
                page.pop("ResponseMetadata", None)
                pages.append(redact(page))
                for account in page.get("Accounts", []):
                    accounts.append(account)
                    contacts.request(str(account["Id"]))
        except READ_FAILURES as exc:
            raise CollectionAborted(
                f"organizations:ListAccounts failed on page {len(pages) + 1} ({error_text(exc)}); the "
                "organization cannot be listed completely, so collection stopped. Re-run, or check that the "
                "caller may call organizations:ListAccounts") from exc
        raw["organizations/list_accounts"] = pages
        settings = read_settings(ctx, orgs, caller, raw)  # while the pool works through the accounts
        walk.wait()
        _read_ou_paths(orgs, pool, walk, [str(a["Id"]) for a in accounts], raw, lock, warnings)
        entries = _entries(accounts, walk.account_entries, settings.delegated_entries)
        contacts.wait(str(e["Id"]) for e in entries)
    finally:
        pool.shutdown()

    delegated_ids = settings.delegated_ids
    rows = accounts_from_raw(raw)  # what was read, as kept: verify derives the same rows from it
    for row in rows:
        if row["population_reason"]:
            warnings.append(f"account {row['account_id']}: {row['population_reason']}")
    frames = {
        "accounts": make_frame("accounts", rows),
        "organization": make_frame("organization", [organization_row(
            org, caller, settings.service_principals, delegated_ids, settings.features, settings.reasons)]),
    }
    return Collected(frames=frames, raw=raw, meta={"warnings": warnings, "caller": dict(caller)})


def _entries(listed: list[Mapping[str, Any]], walked: Mapping[str, Mapping[str, Any]],
             delegated: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One entry per account any listing named: ListAccounts' own, else the OU walk's, else
    ListDelegatedAdministrators' (each carries the account's name, email and state)."""
    entries = {str(a["Id"]): a for a in listed}
    for source in (walked.values(), delegated):
        for entry in source:
            entries.setdefault(str(entry["Id"]), entry)
    return [entries[a] for a in sorted(entries)]


def _read_ou_paths(orgs: Any, pool: _UrgentFirstPool, walk: _OuTreeWalk, account_ids: list[str],
                   raw: dict[str, Any], lock: threading.Lock, warnings: list[str]) -> None:
    """ListParents (kept raw) for each listed account whose OU path the walk does not give, with a warning
    for each that cannot be read; the paths themselves are made from what is kept (`accounts_from_raw`)."""
    missing = [a for a in account_ids if names_path(walk.account_parent.get(a, ""), walk.ous) is None]
    if walk.failures:
        warnings.append(f"the OU tree could not be walked completely ({'; '.join(sorted(walk.failures))}); "
                        f"the OU paths of {len(missing)} accounts were read one by one with ListParents")
    resolver = _ParentsResolver(orgs, walk.ous, raw, lock)
    resolving = {a: pool.submit(URGENT, resolver.account_path, a) for a in missing}
    for account_id, future in resolving.items():
        try:
            future.result()
        except (*READ_FAILURES, CollectionAborted) as exc:
            warnings.append(f"OU path of {account_id} could not be read ({error_text(exc)})")


@dataclass
class OrganizationSettings:
    """IAM trusted access, IAM delegated administrators, IAM organization features; None where unread,
    with `reasons` saying why."""

    service_principals: list[str] | None
    delegated_entries: list[Mapping[str, Any]]
    delegated_ids: set[str] | None
    features: dict[str, Any] | None
    reasons: list[str]


def read_settings(ctx: AwsContext, orgs: Any, caller: Mapping[str, str],
                  raw: dict[str, Any]) -> OrganizationSettings:
    reasons: list[str] = []
    service_principals: list[str] | None = None
    try:
        enabled, pages = paginate(orgs, "list_aws_service_access_for_organization",
                                  "EnabledServicePrincipals")
        raw["organizations/list_aws_service_access_for_organization"] = pages
        service_principals = [str(p.get("ServicePrincipal")) for p in enabled]
    except READ_FAILURES as exc:
        raw["organizations/list_aws_service_access_for_organization"] = error_raw(exc)
        reasons.append("IAM trusted access could not be read "
                       f"(organizations:ListAWSServiceAccessForOrganization: {error_text(exc)})")

    delegated_ids: set[str] | None = None
    admins: list[Mapping[str, Any]] = []
    try:
        admins, pages = paginate(orgs, "list_delegated_administrators", "DelegatedAdministrators",
                                 ServicePrincipal=IAM_PRINCIPAL)
        raw["organizations/list_delegated_administrators"] = pages
        delegated_ids = {str(a["Id"]) for a in admins}
    except READ_FAILURES as exc:
        raw["organizations/list_delegated_administrators"] = error_raw(exc)
        reasons.append(f"IAM delegated administrators could not be read "
                       f"(organizations:ListDelegatedAdministrators: {error_text(exc)})")

    features: dict[str, Any] | None = None
    try:
        resp = dict(ctx.client("iam").list_organizations_features())
        resp.pop("ResponseMetadata", None)
        features = redact(resp)
        raw["iam/list_organizations_features"] = features
    except READ_FAILURES as exc:
        raw["iam/list_organizations_features"] = error_raw(exc)
        reasons.append(features_reason(exc, caller.get("Arn", "")))
    return OrganizationSettings(service_principals, admins, delegated_ids, features, reasons)


class _Contacts:
    """Each account's SECURITY alternate contact, from any number of threads."""

    def __init__(self, client: Any, pool: _UrgentFirstPool, management_id: str, caller_account: str,
                 raw: dict[str, Any], lock: threading.Lock) -> None:
        self.client = client
        self.pool = pool
        self.management_id = management_id
        self.caller_account = caller_account
        self.raw = raw
        self.lock = lock
        self._requested: dict[str, Future[Any]] = {}

    def request(self, account_id: str) -> None:
        """Read the account's contact in the pool, once, whether ListAccounts or the OU walk names it
        first (the walk's listings run side by side and reach most accounts before ListAccounts' one
        sequence of pages does)."""
        with self.lock:
            if account_id not in self._requested:
                self._requested[account_id] = self.pool.submit(ROUTINE, self.read, account_id)

    def wait(self, account_ids: Iterable[str]) -> None:
        for account_id in account_ids:
            with self.lock:
                future = self._requested.get(account_id)
            if future is not None:
                future.result()

    def read(self, account_id: str) -> None:
        _security_contact(self.client, account_id, self.management_id, self.caller_account, self.raw,
                          self.lock)


def _security_contact(client: Any, account_id: str, management_id: str, caller_account: str,
                      raw: dict[str, Any], lock: threading.Lock) -> tuple[str, str]:
    """GetAlternateContact's answer (or error), kept raw, and the contact `contact_of` reads from it."""
    if account_id == management_id and account_id != caller_account:
        return contact_of(None, account_id, management_id, caller_account)  # not to be read: says why
    params: dict[str, str] = {"AlternateContactType": "SECURITY"}
    if account_id != caller_account:  # an account's own contact is read without AccountId
        params["AccountId"] = account_id
    try:
        resp = dict(client.get_alternate_contact(**params))
        resp.pop("ResponseMetadata", None)
        kept: dict[str, Any] = redact(resp)
    except READ_FAILURES as exc:
        kept = error_raw(exc)
    with lock:
        raw[contact_key(account_id)] = kept
    return contact_of(kept, account_id, management_id, caller_account)
