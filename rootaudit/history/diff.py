"""What changed between two packs of one organization: a pure function of their records and the newer
pack's ledger.

Only what changed is listed: accounts added, removed, or whose state, OU or root-credential state
changed; root credentials that appeared, were removed or changed status, per account and kind, with the
AssumeRoot session (or root sign-in) the newer pack's ledger shows doing it; the organization's features
switched; controls whose status changed; risk acceptances that started, expired or were withdrawn.

Fail closed: credentials are compared only for an account assessed in both packs. An account not assessed
in one of them shows as a change of its root state (e.g. clean -> not_assessed), never as credentials
removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rootaudit.history.record import AccountState, ControlState, ExceptionState, Ledger, PackRecord

# The IAM calls that make or remove each kind of root credential (CloudTrail event names).
CREDENTIAL_EVENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "password": {
        "appeared": ("CreateLoginProfile",),
        "removed": ("DeleteLoginProfile",),
        "status": ("UpdateLoginProfile",),
    },
    "access_key": {
        "appeared": ("CreateAccessKey",),
        "removed": ("DeleteAccessKey",),
        "status": ("UpdateAccessKey",),
    },
    "signing_certificate": {
        "appeared": ("UploadSigningCertificate",),
        "removed": ("DeleteSigningCertificate",),
        "status": ("UpdateSigningCertificate",),
    },
    "mfa_device": {
        "appeared": ("EnableMFADevice", "CreateVirtualMFADevice"),
        "removed": ("DeactivateMFADevice", "DeleteVirtualMFADevice"),
        "status": (),
    },
}
ACCOUNT_FIELDS = ("name", "state", "ou_path", "root", "method")
IN_FORCE = ("active", "unused")  # exception statuses of an acceptance in force (unused: nothing to accept)
FEATURE_NAMES = {
    "feature_set": "organization feature set",
    "iam_trusted_access": "IAM trusted access",
    "root_credentials_management": "RootCredentialsManagement",
    "root_sessions": "RootSessions",
    "delegated_admins": "IAM delegated administrators",
    "features_status": "features assessment",
}


class DiffError(ValueError):
    """The two packs cannot be compared (e.g. they are of different organizations)."""


@dataclass(frozen=True)
class Actor:
    """What the ledger shows making a change: an AssumeRoot session, or a root sign-in's session."""

    kind: str  # assume_root | root_sign_in | root (a root call the ledger ties to no session)
    event_id: str
    event_time: str
    caller_arn: str = ""
    task_policy: str = ""
    action: str = ""  # the member-account call, e.g. CreateLoginProfile
    action_time: str = ""

    def text(self) -> str:
        if self.kind == "assume_root":
            return (
                f"{self.action} in AssumeRoot session {self.event_id} ({self.task_policy}, "
                f"{self.event_time}, by {self.caller_arn or 'unknown caller'})"
            )
        if self.kind == "root_sign_in":
            return (
                f"{self.action} at {self.action_time} after root sign-in {self.event_id} ({self.event_time})"
            )
        return f"{self.action} by root at {self.action_time} (event {self.event_id})"


@dataclass(frozen=True)
class CredentialChange:
    account_id: str
    account_name: str
    kind: str
    credential_id: str
    change: str  # appeared | removed | status
    old_status: str
    new_status: str
    by: tuple[Actor, ...] = ()


@dataclass(frozen=True)
class AccountChange:
    account_id: str
    name: str
    change: str  # added | removed | changed
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (old, new)
    detail: str = ""  # added/removed: its state, OU and root credentials
    credentials: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class FeatureChange:
    feature: str
    old: str
    new: str

    @property
    def label(self) -> str:
        return FEATURE_NAMES.get(self.feature, self.feature)

    def text(self) -> str:
        if {self.old, self.new} <= {"true", "false"}:
            return f"{self.label} switched {'on' if self.new == 'true' else 'off'}"
        return f"{self.label}: {self.old or '(none)'} -> {self.new or '(none)'}"


@dataclass(frozen=True)
class ControlChange:
    framework: str
    version: str
    control_id: str
    title: str
    account_id: str  # "" for the organization-level result
    old: str  # "" when the control was not evaluated in the older pack
    new: str
    mapping_changed: bool = False  # the control's rule differs between the packs (a RuleChange)


@dataclass(frozen=True)
class RuleChange:
    """A control evaluated in both packs whose mapping differs: its signals, scope or exemptions."""

    framework: str
    version: str
    control_id: str
    title: str
    old: str  # the rule line (history.rules)
    new: str
    results_changed: int  # this control's results whose status changed between the packs


@dataclass(frozen=True)
class ExceptionChange:
    exception_id: str
    account_id: str
    control: str
    change: str  # started | expired | withdrawn | changed
    old_status: str
    new_status: str
    expires: str
    ticket: str


@dataclass(frozen=True)
class PackSide:
    period: str
    collected_at: str
    digest: str
    headline: dict[str, Any]
    tool_version: str = ""  # the rootaudit that evaluated the pack


@dataclass(frozen=True)
class PackDiff:
    organization_id: str
    old: PackSide
    new: PackSide
    accounts: tuple[AccountChange, ...]
    credentials: tuple[CredentialChange, ...]
    features: tuple[FeatureChange, ...]
    controls: tuple[ControlChange, ...]
    exceptions: tuple[ExceptionChange, ...]
    names: dict[str, str] = field(default_factory=dict)  # account id -> name, of every account named here
    rules: tuple[RuleChange, ...] = ()

    def version_note(self) -> str:
        """When the packs were evaluated by different rootaudit versions: that a control's status can
        change with the version (its signals) as well as with the organization. "" otherwise."""
        old, new = self.old.tool_version, self.new.tool_version
        if old == new:
            return ""
        return (f"evaluated by rootaudit {old or '(unknown)'}, then {new or '(unknown)'}: a control's "
                "status can change with the version's signals as well as with the organization")

    @property
    def changed(self) -> bool:
        return bool(self.accounts or self.credentials or self.features or self.controls or self.exceptions
                    or self.rules)

    def counts(self) -> dict[str, int]:
        return {
            "accounts_added": sum(a.change == "added" for a in self.accounts),
            "accounts_removed": sum(a.change == "removed" for a in self.accounts),
            "accounts_changed": sum(a.change == "changed" for a in self.accounts),
            "credentials_appeared": sum(c.change == "appeared" for c in self.credentials),
            "credentials_removed": sum(c.change == "removed" for c in self.credentials),
            "credentials_status_changed": sum(c.change == "status" for c in self.credentials),
            "features_switched": len(self.features),
            "controls_changed": len(self.controls),
            "organization_controls_changed": sum(not c.account_id for c in self.controls),
            "exceptions_changed": len(self.exceptions),
            "control_mappings_changed": len(self.rules),
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts()
        data["changed"] = self.changed
        return data


def _side(record: PackRecord) -> PackSide:
    return PackSide(
        period=record.period,
        collected_at=record.collected_at,
        digest=record.digest,
        headline={k: v for k, v in record.headline.items() if k != "claim"},
        tool_version=record.tool_version,
    )


def diff_packs(old: PackRecord, new: PackRecord, ledger: Ledger | None = None) -> PackDiff:
    """What changed from `old` to `new`; `ledger` is the newer pack's (it names who made the changes)."""
    if old.organization_id != new.organization_id:
        raise DiffError(
            f"the packs are of different organizations ({old.organization_id or 'unknown'} and "
            f"{new.organization_id or 'unknown'}): compare two packs of one organization"
        )
    ledger = ledger or Ledger()
    old_accounts = {a.account_id: a for a in old.accounts}
    new_accounts = {a.account_id: a for a in new.accounts}
    both = sorted(set(old_accounts) & set(new_accounts))
    arrived_or_left = set(old_accounts) ^ set(new_accounts)
    diff = PackDiff(
        organization_id=new.organization_id,
        old=_side(old),
        new=_side(new),
        accounts=tuple(_account_changes(old_accounts, new_accounts)),
        credentials=tuple(
            c for aid in both for c in _credential_changes(old_accounts[aid], new_accounts[aid], ledger)
        ),
        features=tuple(
            FeatureChange(k, old.features.get(k, ""), new.features.get(k, ""))
            for k in sorted(set(old.features) | set(new.features))
            if old.features.get(k, "") != new.features.get(k, "")
        ),
        controls=tuple(_control_changes(old.controls, new.controls, arrived_or_left)),
        exceptions=tuple(_exception_changes(old.exceptions, new.exceptions)),
    )
    rules = _rule_changes(old, new, diff.controls)
    moved = {(r.framework, r.version, r.control_id) for r in rules}
    controls = tuple(replace(c, mapping_changed=(c.framework, c.version, c.control_id) in moved)
                     for c in diff.controls)
    named = {c.account_id for part in (diff.accounts, diff.credentials, diff.controls, diff.exceptions)
             for c in part if c.account_id}
    everyone = {a.account_id: a.name for a in (*old.accounts, *new.accounts)}
    return replace(diff, controls=controls, rules=rules,
                   names={aid: everyone.get(aid, "") for aid in sorted(named)})


def _rule_changes(old: PackRecord, new: PackRecord,
                  changes: tuple[ControlChange, ...]) -> tuple[RuleChange, ...]:
    """The controls both packs evaluated and map otherwise. A pack recorded without its rules (before
    the history kept them) gives none: nothing is said rather than a guess."""
    titles = {(c.framework, c.version, c.control_id): c.title for c in (*old.controls, *new.controls)}
    changed: dict[tuple[str, str, str], int] = {}
    for c in changes:
        key = (c.framework, c.version, c.control_id)
        changed[key] = changed.get(key, 0) + 1
    return tuple(
        RuleChange(*key, titles.get(key, ""), old.rules[key], new.rules[key], changed.get(key, 0))
        for key in sorted(set(old.rules) & set(new.rules)) if old.rules[key] != new.rules[key])


def _describe(a: AccountState) -> str:
    creds = ", ".join(f"{kind} {cid} ({status})" for kind, cid, status in a.credentials)
    root = a.root + (f": {a.detail}" if a.detail else "")
    return f"{a.state}, {a.joined_method}, {a.ou_path}; root {root}" + (f"; holds {creds}" if creds else "")


def _account_changes(old: dict[str, AccountState], new: dict[str, AccountState]) -> list[AccountChange]:
    # an account on one side only is described as that side shows it
    out = [AccountChange(aid, only.name, change, detail=_describe(only), credentials=only.credentials)
           for change, side, other in (("added", new, old), ("removed", old, new))
           for aid, only in side.items() if aid not in other]
    for aid in set(old) & set(new):
        before, after = old[aid], new[aid]
        fields = {
            f: (getattr(before, f), getattr(after, f))
            for f in ACCOUNT_FIELDS
            if getattr(before, f) != getattr(after, f)
            and not (f == "method" and "" in (before.method, after.method))  # not recorded then
        }
        if fields:
            out.append(AccountChange(aid, after.name, "changed", fields=fields,
                                     detail=after.detail if "root" in fields else ""))
    return sorted(out, key=lambda change: change.account_id)


def _credential_changes(old: AccountState, new: AccountState, ledger: Ledger) -> list[CredentialChange]:
    if "not_assessed" in (old.root, new.root):
        return []  # nothing is known of the credentials on one side: the root state change says so
    if old.method and new.method and old.method != new.method:
        return []  # read differently (the credential report names no key ids): the method change says so
    before = {(k, i): s for k, i, s in old.credentials}
    after = {(k, i): s for k, i, s in new.credentials}
    if "unknown" in (old.root, new.root):  # password presence not visible on one side: not compared
        before = {k: s for k, s in before.items() if k[0] != "password"}
        after = {k: s for k, s in after.items() if k[0] != "password"}
    out = []
    for kind, cid in sorted(set(before) | set(after)):
        was, now = before.get((kind, cid), ""), after.get((kind, cid), "")
        if was == now:
            continue
        change = "appeared" if not was else "removed" if not now else "status"
        by = _actors(new.account_id, CREDENTIAL_EVENTS.get(kind, {}).get(change, ()), ledger)
        out.append(CredentialChange(new.account_id, new.name, kind, cid, change, was, now, by))
    return out


def _actors(account_id: str, event_names: tuple[str, ...], ledger: Ledger) -> tuple[Actor, ...]:
    """The ledger's successful calls of `event_names` in the account, with the session each was made in."""
    if not event_names:
        return ()
    sessions = {s["event_id"]: s for s in ledger.sessions}
    sign_ins = sorted(
        (
            a
            for a in ledger.activity
            if a["account_id"] == account_id and a["kind"] == "console_login" and a["success"] == "true"
        ),
        key=lambda a: a["event_time"],
    )
    found = []
    for call in sorted(ledger.activity, key=lambda a: (a["event_time"], a["event_id"])):
        if (
            call["account_id"] != account_id
            or call["event_name"] not in event_names
            or call["success"] == "false"
            or call["error_code"]
        ):
            continue
        session = sessions.get(call["session_event_id"]) if call["session_event_id"] else None
        if session is not None:
            found.append(
                Actor(
                    "assume_root",
                    session["event_id"],
                    session["event_time"],
                    session["caller_arn"],
                    session["task_policy"],
                    call["event_name"],
                    call["event_time"],
                )
            )
            continue
        sign_in = next((s for s in reversed(sign_ins) if s["event_time"] <= call["event_time"]), None)
        if sign_in is not None and call["kind"] != "long_term_key":
            found.append(
                Actor(
                    "root_sign_in",
                    sign_in["event_id"],
                    sign_in["event_time"],
                    action=call["event_name"],
                    action_time=call["event_time"],
                )
            )
        else:
            found.append(
                Actor(
                    "root",
                    call["event_id"],
                    call["event_time"],
                    action=call["event_name"],
                    action_time=call["event_time"],
                )
            )
    return tuple(found)


def _control_changes(
    old: tuple[ControlState, ...], new: tuple[ControlState, ...], arrived_or_left: set[str]
) -> list[ControlChange]:
    """Controls whose status (or acceptance) changed; the account-level results of an account that joined
    or left are its account change, not listed again."""
    before = {c.key: c for c in old}
    after = {c.key: c for c in new}
    out = []
    for key in sorted(set(before) | set(after)):
        if key[3] in arrived_or_left:
            continue
        was, now = before.get(key), after.get(key)
        old_status = was.shown_status if was else ""
        new_status = now.shown_status if now else ""
        if old_status != new_status:
            c = now or was
            assert c is not None
            out.append(
                ControlChange(
                    c.framework, c.version, c.control_id, c.title, c.account_id, old_status, new_status
                )
            )
    return out


def _exception_changes(
    old: tuple[ExceptionState, ...], new: tuple[ExceptionState, ...]
) -> list[ExceptionChange]:
    before = {e.exception_id: e for e in old}
    after = {e.exception_id: e for e in new}
    out = []
    for eid in sorted(set(before) | set(after)):
        was, now = before.get(eid), after.get(eid)
        old_status, new_status = (was.status if was else ""), (now.status if now else "")
        if (
            was is not None
            and now is not None
            and (old_status, was.expires, was.account_id, was.control)
            == (new_status, now.expires, now.account_id, now.control)
        ):
            continue
        if now is None:
            change = "withdrawn"
        elif new_status in IN_FORCE and old_status not in IN_FORCE:
            change = "started"
        elif new_status == "expired" and old_status in IN_FORCE:
            change = "expired"
        else:
            change = "changed"
        e = now or was
        assert e is not None
        out.append(
            ExceptionChange(eid, e.account_id, e.control, change, old_status, new_status, e.expires, e.ticket)
        )
    return out
