"""The rollout plan: from a snapshot, what is still missing and exactly which root credentials to remove.

    make_plan(snapshot, exceptions=(), credential_controls=None, signed_off={}) -> Plan   (pure)
    load_plan(path) -> Plan                                                              (checks its digest)

A plan holds, in this order:
1. the prerequisites, in the order AWS requires them (all features, IAM trusted access,
   RootCredentialsManagement, RootSessions, a delegated administrator), each done, missing or unknown
   from the snapshot, with its call;
2. phases, one per OU (its exact path: a child OU is its own phase), each listing its accounts and,
   for each, every root credential the snapshot's root session read (password, each access key, each
   signing certificate, each MFA device) and the calls that remove them;
3. the accounts left out, each with its reason, and the accounts already clean.
Every ACTIVE or not account of the snapshot is in exactly one of phases, left out, or already clean.

Left out: the management account (AssumeRoot cannot target it), accounts that are not ACTIVE, accounts
not assessed, accounts assessed without a root session (the credential report names no credential ids
and cannot say whether root has a password), accounts whose root password or key was used since the
period began (an owner signs off first: `signed_off`), and accounts under an active risk acceptance
that names them (for all their controls, or for a root-credential control).

The plan records the snapshot's digest and each account's credential state (with its digest), so that
`remediate` can refuse to act on an account whose state has changed since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rootaudit import __version__
from rootaudit.bounded import JSON_LIMIT, YAML_LIMIT, InputTooLarge, read_bounded
from rootaudit.controls.exceptions import RiskException
from rootaudit.controls.mappings import Framework
from rootaudit.controls.signals import (
    ACTIVE,
    CREDENTIAL_SIGNALS,
    group_by,
    population,
    records,
    text_of,
)
from rootaudit.remediate import calls
from rootaudit.remediate.state import Credential, credential_state, describe, state_digest
from rootaudit.snapshot import Snapshot

PLAN_FORMAT = "rootaudit-remediation-plan"
PLAN_FORMAT_VERSION = 1

# Why an account is left out (codes, in the order they are checked).
MANAGEMENT = "management_account"
NOT_ACTIVE = "not_active"
NOT_ASSESSED = "not_assessed"
NO_ROOT_SESSION = "not_read_by_root_session"
EXCEPTION = "active_exception"
USED = "root_used_recently"
LEFT_OUT_REASONS = (MANAGEMENT, NOT_ACTIVE, NOT_ASSESSED, NO_ROOT_SESSION, EXCEPTION, USED)
# Root activity that is its owner's use (root sessions opened by AssumeRoot are not).
OWNER_USE_KINDS = ("console_login", "long_term_key", "other")


class PlanError(ValueError):
    """A plan file that cannot be used: unreadable, of another format, or changed since it was made."""


@dataclass(frozen=True)
class Plan:
    """A plan as JSON-able data, with the accessors remediation needs."""

    data: dict[str, Any]

    @property
    def digest(self) -> str:
        return str(self.data["plan_digest"])

    @property
    def management_account_id(self) -> str:
        return str(self.data["management_account_id"])

    @property
    def home_region(self) -> str:
        return str(self.data["home_region"])

    def phases(self) -> list[dict[str, Any]]:
        return list(self.data["phases"])

    def accounts(self) -> list[dict[str, Any]]:
        """Every account the plan removes credentials from, phase by phase."""
        return [a for phase in self.data["phases"] for a in phase["accounts"]]

    def account(self, account_id: str) -> dict[str, Any] | None:
        return next((a for a in self.accounts() if a["account_id"] == account_id), None)

    def left_out(self, account_id: str) -> dict[str, Any] | None:
        return next((a for a in self.data["left_out"] if a["account_id"] == account_id), None)

    def to_json(self) -> bytes:
        return (json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    def summary(self) -> dict[str, Any]:
        """The counts a person (or `--json`) reads first."""
        prerequisites = self.data["prerequisites"]
        return {
            "organization_id": self.data["organization_id"],
            "snapshot_digest": self.data["snapshot"]["digest"],
            "plan_digest": self.digest,
            "prerequisites_missing": [p["id"] for p in prerequisites if p["state"] != "done"],
            "phases": [{"ou_path": p["ou_path"], "accounts": len(p["accounts"]),
                        "credentials": sum(len(a["credentials"]) for a in p["accounts"])}
                       for p in self.data["phases"]],
            "accounts_to_clean": len(self.accounts()),
            "credentials_to_remove": sum(len(a["credentials"]) for a in self.accounts()),
            "left_out": len(self.data["left_out"]),
            "already_clean": len(self.data["already_clean"]),
        }


def _digest(data: Mapping[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "plan_digest"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- prerequisites


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _step(step_id: str, title: str, done: bool | None, evidence: str, call: calls.Call, automated: bool,
          note: str = "") -> dict[str, Any]:
    return {"id": step_id, "title": title,
            "state": "unknown" if done is None else ("done" if done else "missing"),
            "evidence": evidence, "call": call.as_dict(), "cli": call.cli(),
            "boto3": call.boto3(call.service), "by_remediate": automated, "note": note}


def prerequisites(org: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The five prerequisites in the order AWS requires them, each done / missing / unknown."""
    org = org or {}
    feature_set = text_of(org.get("feature_set"))
    why_unknown = text_of(org.get("features_reason"), "the snapshot could not read the features")

    def feature(column: str) -> tuple[bool | None, str]:
        value = _flag(org.get(column))
        if value is None:
            return None, f"{column} not read: {why_unknown}"
        return value, f"{column} = {str(value).lower()}"

    trusted = _flag(org.get("iam_trusted_access"))
    rcm, rcm_evidence = feature("root_credentials_management")
    sessions, sessions_evidence = feature("root_sessions")
    admins = [a for a in text_of(org.get("delegated_admins")).split(",") if a]
    return [
        _step("all_features", "The organization is in all-features mode",
              None if not feature_set else feature_set == "ALL", f"feature_set = {feature_set or 'unknown'}",
              calls.enable_all_features(), automated=False,
              note="Starts a handshake that every invited member account must accept; rootaudit never "
                   "runs it."),
        _step("iam_trusted_access", "Trusted access for IAM in AWS Organizations",
              trusted, "iam.amazonaws.com trusted access = "
                       + ("unknown" if trusted is None else str(trusted).lower()),
              calls.enable_iam_trusted_access(), automated=True,
              note="From the management account; before the two features below."),
        _step("root_credentials_management", "Centralized root access: RootCredentialsManagement",
              rcm, rcm_evidence, calls.enable_root_credentials_management(), automated=True,
              note="From the management account, after trusted access. Needed for AssumeRoot with the "
                   "IAM task policies, so for every removal below. It removes no credential by itself."),
        _step("root_sessions", "Centralized root access: RootSessions", sessions, sessions_evidence,
              calls.enable_root_sessions(), automated=True,
              note="From the management account, after RootCredentialsManagement. Needed for the S3 and "
                   "SQS unlock tasks, not for removing credentials."),
        _step("delegated_administrator", "A delegated administrator for IAM (recommended)",
              bool(admins) if org else None,
              f"IAM delegated administrator(s): {', '.join(admins) or 'none'}",
              calls.register_delegated_administrator("ACCOUNT_ID"), automated=False,
              note="Replace ACCOUNT_ID with the account your security team runs root tasks from, so that "
                   "they need no access to the management account; rootaudit never chooses it."),
    ]


# ---------------------------------------------------------------- accounts


def credential_controls(frameworks: Iterable[Framework]) -> tuple[set[str], set[str]]:
    """`<framework id>:<control id>` of the controls that rest on a root-credential signal, and of
    every control known."""
    credential, known = set(), set()
    for fw in frameworks:
        for control in fw.controls:
            key = f"{fw.id}:{control.id}"
            known.add(key)
            signals = set(control.rule.signals) | set(control.informational)
            if control.management_rule is not None:
                signals |= set(control.management_rule.signals)
            if signals & set(CREDENTIAL_SIGNALS):
                credential.add(key)
    return credential, known


def _exceptions_naming(account_id: str, exceptions: Sequence[RiskException],
                       frameworks: Sequence[Framework]) -> list[RiskException]:
    """Active risk acceptances that name this account, for all its controls or a root-credential one.

    A control the mappings do not know counts as a root-credential control: when in doubt, the account
    is left alone. Exceptions that name no account accept a posture (say, virtual MFA everywhere until
    tokens arrive), not an account's need for its credentials, and hold no account back."""
    credential, known = credential_controls(frameworks)
    return [e for e in exceptions
            if e.status == "active" and e.account == account_id
            and (not e.control or e.control in credential or e.control not in known)]


def _recent_use(creds: Mapping[str, Any], state: Sequence[Credential], activity: Sequence[Mapping[str, Any]],
                since: str) -> list[str]:
    """Evidence that the account's owner used root since `since`: the password's or an access key's
    last use (per credential, and as the `root_credentials` row sums it up), or a root sign-in or root
    call in CloudTrail (root sessions are not the owner's use). UTC ISO-8601 text compares as time."""
    found = [f"{describe(c)} last used {c['last_used_at']}" for c in state
             if c["kind"] in ("password", "access_key") and (c.get("last_used_at") or "") >= since]
    for column, what in (("password_last_used", "password"), ("access_key_last_used", "access_key")):
        used = text_of(creds.get(column))
        if used >= since and used and not any(c["kind"] == what and c.get("last_used_at") == used
                                               for c in state):
            found.append(f"root {what.replace('_', ' ')} last used {used} (root_credentials.{column})")
    found += [f"{text_of(r.get('event_name'))} by root at {text_of(r.get('event_time'))} "
              f"(event {text_of(r.get('event_id'))})" for r in activity
              if text_of(r.get("kind")) in OWNER_USE_KINDS and text_of(r.get("event_time")) >= since
              and r.get("success") is not False]
    return found


def _left_out(account: Mapping[str, Any], code: str, reason: str) -> dict[str, Any]:
    return {"account_id": text_of(account.get("account_id")), "name": text_of(account.get("name")),
            "ou_path": text_of(account.get("ou_path")), "code": code, "reason": reason}


def _account_entry(account: Mapping[str, Any], state: list[Credential], region: str,
                   signed_off: str | None) -> dict[str, Any]:
    aid, name, ou = (text_of(account.get(k)) for k in ("account_id", "name", "ou_path"))
    removal = calls.removal_calls(state)
    return {"account_id": aid, "name": name, "ou_path": ou, "credentials": state,
            "state_digest": state_digest(state), "signed_off": signed_off,
            "calls": [calls.assume_root(aid).as_dict(), *(c.as_dict() for c in removal)],
            "cli": calls.cli_script(aid, region, removal, f"{aid} {name} ({ou})"),
            "boto3": calls.boto3_script(aid, region, removal)}


def make_plan(snapshot: Snapshot, exceptions: Sequence[RiskException] = (),
              frameworks: Sequence[Framework] = (), signed_off: Mapping[str, str] | None = None,
              exceptions_file: Mapping[str, str] | None = None) -> Plan:
    """The plan for a loaded snapshot. Pure: the same snapshot and inputs give the same plan.

    `frameworks`: the mappings, to tell which exceptions hold an account back; `signed_off`: account
    id -> the owner's sign-off reference, for accounts whose root was used recently;
    `exceptions_file`: name and SHA-256 of the exceptions file, recorded in the plan."""
    signed_off = dict(signed_off or {})
    meta = snapshot.meta
    org_rows = records(snapshot["organization"])
    org = org_rows[0] if org_rows else None
    management, accounts = population(snapshot)
    creds = {text_of(r["account_id"]): r for r in records(snapshot["root_credentials"])}
    items = group_by(records(snapshot["root_credential_items"]), "account_id")
    activity = group_by(records(snapshot["root_activity"]), "account_id")
    period = meta.get("period") or {}
    since = str(period.get("start") or "")
    region = str(meta.get("home_region") or "us-east-1")

    phases: dict[str, list[dict[str, Any]]] = {}
    left_out: list[dict[str, Any]] = []
    clean: list[dict[str, Any]] = []
    for account in accounts:
        aid = text_of(account["account_id"])
        row = creds.get(aid)
        state = credential_state(items.get(aid, []))
        if aid == management:
            left_out.append(_left_out(account, MANAGEMENT, "the management account's root cannot be managed "
                                      "centrally (AssumeRoot cannot target it): secure it by hand"))
        elif text_of(account.get("state")) != ACTIVE:
            state_text = text_of(account.get("state"), "of unknown state")
            left_out.append(_left_out(account, NOT_ACTIVE, f"account is {state_text}, not ACTIVE: no root "
                                      "session is opened into it"))
        elif row is None or text_of(row.get("assessment")) != "assessed":
            reason = text_of(row.get("reason")) if row else "no root_credentials row in the snapshot"
            left_out.append(_left_out(account, NOT_ASSESSED, f"not assessed in the snapshot ({reason}): "
                                      "nothing is known to remove; fix the cause and collect again"))
        elif text_of(row.get("method")) != "assume_root_audit":
            left_out.append(_left_out(account, NO_ROOT_SESSION, (
                f"assessed by {text_of(row.get('method'))}, not by a root session "
                f"({text_of(row.get('reason'), 'no reason recorded')}): that names no credential ids and "
                "cannot tell whether root has a password; make AssumeRoot work and collect again")))
        elif not state:
            clean.append({"account_id": aid, "name": text_of(account.get("name")),
                          "ou_path": text_of(account.get("ou_path"))})
        else:
            reasons = []
            held = _exceptions_naming(aid, exceptions, frameworks)
            if held:
                reasons.append((EXCEPTION, "under active risk acceptance " + "; ".join(
                    f"{e.id} ({e.control or 'every control'}, ticket {e.ticket}, expires {e.expires})"
                    for e in held) + ": end or withdraw it first"))
            used = _recent_use(row, state, activity.get(aid, []), since) if since else []
            if used and aid not in signed_off:
                reasons.append((USED, "root used since the period began (" + "; ".join(used) + "): its "
                                "owner signs off first (plan --signed-off ACCOUNT=REFERENCE)"))
            if reasons:
                left_out.append(_left_out(account, reasons[0][0], "; ".join(r for _, r in reasons)))
            else:
                entry = _account_entry(account, state, region, signed_off.get(aid) if used else None)
                phases.setdefault(entry["ou_path"], []).append(entry)

    data: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "format_version": PLAN_FORMAT_VERSION,
        "tool_version": __version__,
        "organization_id": str(meta.get("organization_id") or ""),
        "management_account_id": management,
        "home_region": region,
        "snapshot": {"digest": snapshot.digest(), "collected_at": meta.get("collected_at"),
                     "period": period, "caller_arn": meta.get("caller_arn")},
        "inputs": {"exceptions": dict(exceptions_file) if exceptions_file else None,
                   "signed_off": dict(sorted(signed_off.items()))},
        "prerequisites": prerequisites(org),
        "phases": [{"ou_path": ou, "accounts": sorted(entries, key=lambda a: a["account_id"])}
                   for ou, entries in sorted(phases.items())],
        "left_out": sorted(left_out, key=lambda a: a["account_id"]),
        "already_clean": sorted(clean, key=lambda a: a["account_id"]),
    }
    data["plan_digest"] = _digest(data)
    return Plan(data)


def load_plan(path: Path) -> Plan:
    """A plan file written by `rootaudit plan` (JSON), unchanged since: its digest is checked."""
    path = Path(path)
    try:
        data = json.loads(read_bounded(path, JSON_LIMIT, "plan file"))
    except FileNotFoundError as exc:
        raise PlanError(f"no such plan file: {path}") from exc
    except InputTooLarge as exc:
        raise PlanError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"{path} is not a JSON plan ({exc}); remediate reads the plan written with "
                        "`rootaudit plan SNAPSHOT --format json --out FILE`") from exc
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError(f"{path} is not a rootaudit remediation plan (no format {PLAN_FORMAT!r})")
    if data.get("format_version") != PLAN_FORMAT_VERSION:
        raise PlanError(f"{path}: plan format version {data.get('format_version')!r}; this rootaudit reads "
                        f"version {PLAN_FORMAT_VERSION}: make the plan again")
    if data.get("plan_digest") != _digest(data):
        raise PlanError(f"{path} was changed after it was made (its plan_digest does not match its "
                        "content): make the plan again from the snapshot")
    return Plan(data)


def plan_from_files(snapshot_path: Path, exceptions_path: Path | None = None,
                    mapping_dirs: Sequence[Path] = (), signed_off: Mapping[str, str] | None = None) -> Plan:
    """The thin I/O edge of `rootaudit plan`: read the snapshot, the exceptions file and the mappings."""
    from rootaudit import resources
    from rootaudit.controls.exceptions import parse_exceptions
    from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
    from rootaudit.controls.stage import collected_at
    from rootaudit.snapshot import load_snapshot

    snapshot = load_snapshot(snapshot_path)
    exceptions: list[RiskException] = []
    recorded = None
    if exceptions_path is not None:
        data = read_bounded(Path(exceptions_path), YAML_LIMIT, "exceptions file")
        exceptions = parse_exceptions(data, str(exceptions_path), collected_at(snapshot))
        recorded = {"file": Path(exceptions_path).name, "sha256": hashlib.sha256(data).hexdigest()}
    frameworks = parse_frameworks(read_mapping_files([resources.mappings_dir(), *map(Path, mapping_dirs)]))
    return make_plan(snapshot, exceptions, frameworks, signed_off, recorded)
