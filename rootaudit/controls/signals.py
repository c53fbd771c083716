"""Signals: small pure functions over the snapshot's frames, each giving a value and its evidence.

A signal is a fact the controls rest on (the vocabulary is in `reference/README.md`). Each function
takes the rows it needs and returns a `Signal`: PASS, FAIL, NOT_APPLICABLE or NOT_ASSESSED, with the
evidence as text a person can read. Fail closed: a fact that could not be read gives NOT_ASSESSED with
the reason, never PASS. PACK_INTEGRITY is the one signal the snapshot cannot establish (the pack is
written after evaluation): it is MANUAL, and the auditor checks the pack with `rootaudit verify`.

`evaluate_signals` runs every signal for every account and for the organization; `headline` gives the
population counts and the one claim the pack makes on its first page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rootaudit.collectors.cloudtrail.integrity import INTEGRITY_GAPS, not_checked
from rootaudit.population import named_in_frames, reconcile
from rootaudit.snapshot import Snapshot

PASS = "PASS"
FAIL = "FAIL"
NOT_APPLICABLE = "NOT_APPLICABLE"
NOT_ASSESSED = "NOT_ASSESSED"
MANUAL = "MANUAL"

# The signal vocabulary: which signals exist and whether they have a per-account value.
ACCOUNT_SIGNALS = (
    "ROOT_CREDS_ABSENT",
    "ROOT_ACCESS_KEYS_ABSENT",
    "ROOT_PASSWORD_ABSENT",
    "ROOT_SIGNING_CERTS_ABSENT",
    "ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD",
    "ROOT_HW_MFA_OR_NO_ROOT_CREDS",
    "ASSUMEROOT_ACCOUNTED",
    "NO_ROOT_CONSOLE_LOGIN",
    "NO_ROOT_API_CALLS",
    "ROOT_USAGE_ALARM",
    "SECURITY_CONTACT",
    "CLOUDTRAIL_COVERAGE",
    "LOG_FILE_INTEGRITY",
)
ORGANIZATION_SIGNALS = ("RCM_ENABLED", "ROOT_SESSIONS_ENABLED", "PACK_INTEGRITY")
VOCABULARY = frozenset(ACCOUNT_SIGNALS + ORGANIZATION_SIGNALS)

ACTIVE = "ACTIVE"
# A source row with one of these statuses means part of the period was not read.
COVERAGE_GAPS = frozenset({"not_covered", "failed", "skipped", "partial"}) | INTEGRITY_GAPS
MAX_LISTED = 10  # evidence names at most this many items, then says how many more


@dataclass(frozen=True)
class Signal:
    value: str
    evidence: str

    @property
    def summary(self) -> str:
        """The evidence's first sentence: what a control result quotes (the signals frame has it all)."""
        head, sep, _ = self.evidence.partition(". ")
        return head + ("." if sep else "")


# ---------------------------------------------------------------- helpers


def _na(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def text_of(value: Any, default: str = "") -> str:
    return default if _na(value) else str(value)


def _count(value: Any) -> int | None:
    return None if _na(value) else int(value)


def _flag(value: Any) -> bool | None:
    return None if _na(value) else bool(value)


def _listed(items: Iterable[str]) -> str:
    items = list(items)
    shown = "; ".join(items[:MAX_LISTED])
    return shown + (f"; and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


Row = dict[str, Any]


def records(frame: pd.DataFrame) -> list[Row]:
    """A frame's rows as dicts, NA as None, in the frame's order."""
    return [{k: (None if _na(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]


def group_by(rows: Iterable[Row], column: str) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for row in rows:
        out.setdefault(text_of(row[column]), []).append(row)
    return out


# ---------------------------------------------------------------- root credential signals


@dataclass(frozen=True)
class RootCredentials:
    """One account's root credential facts (a `root_credentials` row and its items), None = unknown."""

    account_id: str
    assessed: bool
    method: str
    reason: str
    password: bool | None
    keys_active: int | None
    keys_inactive: int | None
    certs_active: int | None
    certs_inactive: int | None
    mfa_devices: int | None
    mfa_kind: str
    source_time: str
    items: tuple[str, ...] = ()

    @classmethod
    def from_rows(cls, account_id: str, row: Mapping[str, Any] | None,
                  items: Iterable[Mapping[str, Any]] = ()) -> RootCredentials:
        if row is None:
            return cls(account_id, False, "none", "no root_credentials row for the account", None, None,
                       None, None, None, None, "unknown", "")
        listed = tuple(f"{text_of(i['kind'])} {text_of(i['id'])} ({text_of(i['status'])})" for i in items)
        return cls(
            account_id=account_id,
            assessed=text_of(row["assessment"]) == "assessed",
            method=text_of(row["method"], "none"),
            reason=text_of(row["reason"]),
            password=_flag(row["password_present"]),
            keys_active=_count(row["access_keys_active"]),
            keys_inactive=_count(row["access_keys_inactive"]),
            certs_active=_count(row["signing_certificates_active"]),
            certs_inactive=_count(row["signing_certificates_inactive"]),
            mfa_devices=_count(row["mfa_devices"]),
            mfa_kind=text_of(row["mfa_kind"], "unknown"),
            source_time=text_of(row["source_time"]) or text_of(row["collected_at"]),
            items=listed,
        )

    def describe(self) -> str:
        def n(v: int | None) -> str:
            return "unknown" if v is None else str(v)

        text = (f"root of {self.account_id} read by {self.method} at {self.source_time or 'unknown time'}: "
                f"password {_yes_no(self.password)}; access keys active {n(self.keys_active)}, "
                f"inactive {n(self.keys_inactive)}; signing certificates active {n(self.certs_active)}, "
                f"inactive {n(self.certs_inactive)}; MFA devices {n(self.mfa_devices)} ({self.mfa_kind})")
        if self.reason:
            text += f"; note: {self.reason}"
        if self.items:
            text += f"; items: {_listed(self.items)}"
        return text

    def not_assessed(self) -> Signal:
        return Signal(NOT_ASSESSED, f"root credentials of {self.account_id} not assessed: "
                                    f"{self.reason or 'no reason recorded'}")


def _absent(creds: RootCredentials, what: str, counts: Iterable[int | None]) -> Signal:
    """PASS when every count is 0, FAIL when any is above 0, NOT_ASSESSED when one is unknown."""
    if not creds.assessed:
        return creds.not_assessed()
    counts = list(counts)
    if any(c for c in counts if c is not None):
        return Signal(FAIL, f"{what} present. {creds.describe()}")
    if any(c is None for c in counts):
        return Signal(NOT_ASSESSED, f"whether root has {what} is unknown under method {creds.method}. "
                                    f"{creds.describe()}")
    return Signal(PASS, f"no {what}. {creds.describe()}")


def root_access_keys_absent(creds: RootCredentials) -> Signal:
    return _absent(creds, "root access keys (active or inactive)", [creds.keys_active, creds.keys_inactive])


def root_signing_certs_absent(creds: RootCredentials) -> Signal:
    return _absent(creds, "root signing certificates (active or inactive)",
                   [creds.certs_active, creds.certs_inactive])


def root_password_absent(creds: RootCredentials) -> Signal:
    if not creds.assessed:
        return creds.not_assessed()
    if creds.password is None:
        return Signal(NOT_ASSESSED, f"whether root has a password is unknown under method {creds.method} "
                                    f"(a credential report says not_supported for root). {creds.describe()}")
    return Signal(FAIL if creds.password else PASS,
                  f"root password {'present' if creds.password else 'absent'}. {creds.describe()}")


def root_creds_absent(creds: RootCredentials) -> Signal:
    if not creds.assessed:
        return creds.not_assessed()
    password = None if creds.password is None else int(creds.password)
    return _absent(creds, "root credentials (password, access keys, signing certificates or MFA devices)",
                   [password, creds.keys_active, creds.keys_inactive, creds.certs_active,
                    creds.certs_inactive, creds.mfa_devices])


def root_mfa_enabled_or_no_root_password(creds: RootCredentials) -> Signal:
    if not creds.assessed:
        return creds.not_assessed()
    if creds.mfa_devices:
        return Signal(PASS, f"root MFA is enabled. {creds.describe()}")
    if creds.password is False:
        return Signal(PASS, f"root has no password. {creds.describe()}")
    if creds.password and creds.mfa_devices == 0:
        return Signal(FAIL, f"root has a password and no MFA device. {creds.describe()}")
    return Signal(NOT_ASSESSED, f"cannot tell whether root has a password without MFA under method "
                                f"{creds.method}. {creds.describe()}")


def root_hw_mfa_or_no_root_creds(creds: RootCredentials) -> Signal:
    if not creds.assessed:
        return creds.not_assessed()
    if creds.mfa_devices and creds.mfa_kind == "hardware":
        return Signal(PASS, f"root MFA is a hardware device. {creds.describe()}")
    absent = root_creds_absent(creds)
    if absent.value == PASS:
        return Signal(PASS, f"root has no credentials. {creds.describe()}")
    if creds.mfa_devices and creds.mfa_kind == "virtual":
        return Signal(FAIL, f"root MFA is a virtual device, not hardware. {creds.describe()}")
    if creds.mfa_devices == 0 and absent.value == FAIL:
        return Signal(FAIL, f"root holds credentials and has no MFA device. {creds.describe()}")
    return Signal(NOT_ASSESSED, f"the kind of root MFA device ({creds.mfa_kind}) or the presence of root "
                                f"credentials is unknown. {creds.describe()}")


CREDENTIAL_SIGNALS: dict[str, Callable[[RootCredentials], Signal]] = {
    "ROOT_CREDS_ABSENT": root_creds_absent,
    "ROOT_ACCESS_KEYS_ABSENT": root_access_keys_absent,
    "ROOT_PASSWORD_ABSENT": root_password_absent,
    "ROOT_SIGNING_CERTS_ABSENT": root_signing_certs_absent,
    "ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD": root_mfa_enabled_or_no_root_password,
    "ROOT_HW_MFA_OR_NO_ROOT_CREDS": root_hw_mfa_or_no_root_creds,
}


# ---------------------------------------------------------------- organization features


def _feature(org: Mapping[str, Any] | None, column: str, feature: str) -> Signal:
    if org is None:
        return Signal(NOT_ASSESSED, "the organization row is missing: the organization was not read")
    state = (f"organization {text_of(org['organization_id'], '?')}: IAM trusted access "
             f"{_yes_no(_flag(org['iam_trusted_access']))}, RootCredentialsManagement "
             f"{_yes_no(_flag(org['root_credentials_management']))}, RootSessions "
             f"{_yes_no(_flag(org['root_sessions']))}, IAM delegated administrators "
             f"[{text_of(org['delegated_admins'], 'none')}], read as {text_of(org['caller_arn'], '?')}")
    value = _flag(org[column])
    if text_of(org["features_status"]) == "not_assessed" or value is None:
        return Signal(NOT_ASSESSED, f"{feature} could not be read: "
                                    f"{text_of(org['features_reason'], 'no reason recorded')}. {state}")
    return Signal(PASS if value else FAIL, f"{feature} {'enabled' if value else 'not enabled'}. {state}")


def rcm_enabled(org: Mapping[str, Any] | None) -> Signal:
    return _feature(org, "root_credentials_management", "RootCredentialsManagement")


def root_sessions_enabled(org: Mapping[str, Any] | None) -> Signal:
    return _feature(org, "root_sessions", "RootSessions")


def pack_integrity() -> Signal:
    return Signal(MANUAL, "the pack's hashes, timestamps and provenance are produced after evaluation: "
                          "check them with `rootaudit verify <pack>` and `sha256sum -c SHA256SUMS`")


# ---------------------------------------------------------------- CloudTrail-based signals


def _source_problem(row: Row) -> str:
    """What a source row leaves uncovered, or "" when it covers its part of the period."""
    where = (f"{text_of(row['source'])} account {text_of(row['account_id'], '*')} region "
             f"{text_of(row['region'], '*')} item {text_of(row['item'], '*')}")
    status = text_of(row["status"])
    if status in COVERAGE_GAPS:
        return f"{where}: {status} ({text_of(row['reason'], 'no reason recorded')})"
    start, end = text_of(row["period_start"]), text_of(row["period_end"])
    cov_start, cov_end = text_of(row["covered_start"]), text_of(row["covered_end"])
    if text_of(row["item"]) == "*" and start and end and cov_start and cov_end and (
            cov_start > start or cov_end < end):
        return f"{where}: covers {cov_start}..{cov_end} of the period {start}..{end}"
    return ""


class Coverage:
    """Whether the CloudTrail sources read cover the period for given accounts, and what is missing.

    A source row applies to an account when it names the account, or names none (an organization-wide
    source such as a trail's totals). Any applicable row with a gap status, or a totals row ("*") whose
    covered window falls short of its period, means the period is not covered for that account. So does
    an account that no row names: a row for no particular account says nothing of whether that
    account's logs were read (every source writes a row for each account it read or could not).
    """

    def __init__(self, sources: Iterable[Row]) -> None:
        by_account = group_by(sources, "account_id")
        wide = by_account.pop("", []) + by_account.pop("*", [])
        self._wide = (len(wide), [p for p in map(_source_problem, wide) if p])
        self._accounts = {aid: (len(rows), [p for p in map(_source_problem, rows) if p])
                          for aid, rows in by_account.items()}

    def of(self, account_ids: Iterable[str]) -> tuple[bool, str]:
        wanted = sorted(set(account_ids))
        count, problems = self._wide[0], list(self._wide[1])
        for aid in wanted:
            n, more = self._accounts.get(aid, (0, []))
            count += n
            problems += more
        if not count:
            return False, f"no CloudTrail source was read for account(s) {', '.join(wanted)}"
        unnamed = [aid for aid in wanted if aid not in self._accounts]
        if unnamed:
            problems.append(f"no CloudTrail source row names account(s) {_listed(unnamed)} (a row for no "
                            "particular account does not show that their logs were read)")
        if problems:
            return False, "the period is not fully covered: " + _listed(sorted(problems))
        return True, f"{count} CloudTrail source row(s) read for the period, none with a gap"


def coverage_gaps(sources: Iterable[Row], account_ids: Iterable[str]) -> tuple[bool, str]:
    return Coverage(sources).of(account_ids)


def _event_text(row: Mapping[str, Any]) -> str:
    return (f"{text_of(row['event_time'])} {text_of(row['event_name'])} in {text_of(row['account_id'])} "
            f"from {text_of(row['source_ip'], '?')} (event {text_of(row['event_id'])})")


def _disposition(rows: list[Mapping[str, Any]], justified: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Split events into (justified, unjustified) descriptions."""
    ok, bad = [], []
    for row in rows:
        eid = text_of(row["event_id"])
        if eid in justified:
            ok.append(f"{_event_text(row)} justified by {justified[eid]}")
        else:
            bad.append(_event_text(row))
    return ok, bad


def _orphan_session_call(row: Mapping[str, Any]) -> bool:
    """A root-session call that no AssumeRoot in the period accounts for."""
    return text_of(row["kind"]) == "root_session" and bool(
        text_of(row["flag"]) or not text_of(row["session_event_id"]))


def _with_coverage(covered: tuple[bool, str], signal: Signal) -> Signal:
    ok, reason = covered
    if signal.value == FAIL:  # an event seen is a fact, whatever else was missed
        return signal if ok else Signal(FAIL, f"{signal.evidence} Also: {reason}")
    if not ok:
        return Signal(NOT_ASSESSED, f"{reason}. What was read: {signal.evidence}")
    return Signal(signal.value, f"{signal.evidence} ({reason})")


def no_root_console_login(account_id: str, activity: list[Row], justified: Mapping[str, str],
                          covered: tuple[bool, str]) -> Signal:
    """`activity`: the account's root_activity rows."""
    logins = [r for r in activity if text_of(r["kind"]) == "console_login"]
    succeeded = [r for r in logins if _flag(r["success"]) is not False]
    refused = [r for r in logins if _flag(r["success"]) is False]
    ok, bad = _disposition(succeeded, justified)
    notes = (f" {len(refused)} failed root sign-in attempt(s) (not use of root, listed for review): "
             f"{_listed(_event_text(r) for r in refused)}." if refused else "")
    if bad:
        return _with_coverage(covered, Signal(FAIL, f"unjustified root console sign-in(s) in {account_id}: "
                                                    f"{_listed(bad)}.{notes}"))
    text = (f"no unjustified root console sign-in in {account_id}"
            + (f"; justified: {_listed(ok)}" if ok else "") + "." + notes)
    return _with_coverage(covered, Signal(PASS, text))


def no_root_api_calls(account_id: str, activity: list[Row], justified: Mapping[str, str],
                      covered: tuple[bool, str]) -> Signal:
    """Root calls outside AssumeRoot sessions: long-term key calls, other root calls, and root-session
    calls that no AssumeRoot in the period accounts for."""
    rows = [r for r in activity
            if text_of(r["kind"]) in ("long_term_key", "other") or _orphan_session_call(r)]
    ok, bad = _disposition(rows, justified)
    if bad:
        return _with_coverage(covered, Signal(FAIL, f"root call(s) outside AssumeRoot sessions in "
                                                    f"{account_id}: {_listed(bad)}."))
    text = (f"no unjustified root call outside AssumeRoot sessions in {account_id}"
            + (f"; justified: {_listed(ok)}" if ok else "") + ".")
    return _with_coverage(covered, Signal(PASS, text))


def assumeroot_accounted(scope_label: str, sessions: list[Row], activity: list[Row],
                         covered: tuple[bool, str]) -> Signal:
    """Every AssumeRoot session (issued, in the ledger) has a justification, and no root-session call is
    left without its AssumeRoot. Refused AssumeRoot calls issued no session: listed, not required."""
    issued = [r for r in sessions if not text_of(r["error_code"])]
    refused = [r for r in sessions if text_of(r["error_code"])]

    def describe(r: Mapping[str, Any]) -> str:
        return (f"{text_of(r['event_time'])} {text_of(r['caller_arn'])} -> {text_of(r['target_account'])} "
                f"task {text_of(r['task_policy'])} (event {text_of(r['event_id'])})")

    unmatched = [describe(r) for r in issued if not text_of(r["justification"])]
    # A temporary root key no AssumeRoot issued: say what it was read as a session on, so a console
    # session without its marker is not silently blamed on AssumeRoot.
    orphans = [_event_text(r) + (f" [{text_of(r.get('basis'))}]" if text_of(r.get("basis")) else "")
               for r in activity if _orphan_session_call(r)]
    notes = (f" {len(refused)} refused AssumeRoot call(s), no session issued: "
             f"{_listed(describe(r) + ' ' + text_of(r['error_code']) for r in refused)}."
             if refused else "")
    if unmatched or orphans:
        parts = []
        if unmatched:
            parts.append(f"AssumeRoot session(s) without a justification: {_listed(unmatched)}")
        if orphans:
            parts.append(f"root-session call(s) with no AssumeRoot in the ledger: {_listed(orphans)}")
        return _with_coverage(covered, Signal(FAIL, f"{scope_label}: " + ". ".join(parts) + "." + notes))
    return _with_coverage(covered, Signal(PASS, f"{scope_label}: {len(issued)} AssumeRoot session(s), each "
                                                f"matched to a justification.{notes}"))


# ---------------------------------------------------------------- monitoring and contact


def _trail_text(row: Mapping[str, Any]) -> str:
    return (f"{text_of(row['trail_arn'], 'no trail')} in {text_of(row['account_id'])}/"
            f"{text_of(row['region'], '?')}"
            f" (organization trail {_yes_no(_flag(row['is_organization_trail']))}, multi-region "
            f"{_yes_no(_flag(row['is_multi_region']))}, logging {_yes_no(_flag(row['is_logging']))}, "
            f"management events {_yes_no(_flag(row['management_events']))}, log file validation "
            f"{_yes_no(_flag(row['log_file_validation']))}, metric filter "
            f"{text_of(row['metric_filter'], 'none')}"
            f" [{text_of(row['matches_cis_pattern'], 'no')}], alarm {text_of(row['alarm'], 'none')} with "
            f"{text_of(row['alarm_subscribers'], '0')} subscriber(s), EventBridge rule "
            f"{text_of(row['eventbridge_rule'], 'none')})")


def _alarm_ok(row: Mapping[str, Any]) -> bool:
    if not (_flag(row["is_logging"]) and _flag(row["is_multi_region"])):
        return False
    metric = (text_of(row["metric_filter"]) and text_of(row["matches_cis_pattern"]) in ("exact", "equivalent")
              and text_of(row["alarm"]) and (_count(row["alarm_subscribers"]) or 0) > 0)
    return bool(metric or text_of(row["eventbridge_rule"]))


def _trail_ok(row: Mapping[str, Any]) -> bool:
    return bool((_flag(row["is_organization_trail"]) or _flag(row["is_multi_region"]))
                and _flag(row["is_logging"]) and _flag(row["management_events"])
                and _flag(row["log_file_validation"]))


def _monitoring_signal(account_id: str, own: list[Row], org_trails: list[Row],
                       holds: Callable[[Mapping[str, Any]], bool], what: str) -> Signal:
    """Holds when a row of the account (`own`), or an organization trail's row, qualifies."""
    org = [r for r in org_trails if text_of(r["account_id"]) != account_id and r not in own]
    good = [r for r in own + org if text_of(r["status"]) != "not_assessed" and holds(r)]
    if good:
        return Signal(PASS, f"{what} for {account_id}: {_listed(_trail_text(r) for r in good)}")
    unread = [r for r in own if text_of(r["status"]) == "not_assessed"]
    if unread or not own:
        reasons = _listed(f"{text_of(r['region'], '?')}: {text_of(r['reason'], 'no reason recorded')}"
                          for r in unread) or "no monitoring row collected for the account"
        return Signal(NOT_ASSESSED, f"monitoring of {account_id} not fully read ({reasons}); no organization "
                                    f"trail qualifies either")
    return Signal(FAIL, f"no {what} for {account_id}: {_listed(_trail_text(r) for r in own + org)}")


def root_usage_alarm(account_id: str, own: list[Row], org_trails: list[Row]) -> Signal:
    return _monitoring_signal(account_id, own, org_trails, _alarm_ok,
                              "root-usage alarm (CIS metric filter + alarm + subscriber, or EventBridge "
                              "rule, on a logging multi-region trail)")


def trail_setting(account_id: str, own: list[Row], org_trails: list[Row]) -> Signal:
    """Whether a logging organization or multi-region trail with management events and log file
    validation covers the account: what CLOUDTRAIL_COVERAGE and LOG_FILE_INTEGRITY both start from."""
    return _monitoring_signal(account_id, own, org_trails, _trail_ok,
                              "logging organization or multi-region trail with management events and log "
                              "file validation")


# CloudTrail's own validation of the files read (collectors/cloudtrail/integrity.py): what each status says.
TAMPER_EVIDENCE = frozenset({"hash_mismatch", "file_missing", "digest_missing", "chain_broken",
                             "not_in_digest"})


class LogIntegrity:
    """What CloudTrail's digests proved of the log files a file source read, per account."""

    def __init__(self, sources: Iterable[Row]) -> None:
        rows = list(sources)
        self._rows = group_by((r for r in rows if not _na(r.get("files_validated"))
                               or text_of(r.get("status")) in INTEGRITY_GAPS), "account_id")
        # The sources that read events of an account (or of every account, "*") without its log files.
        self._unchecked: dict[str, set[str]] = {}
        for r in rows:
            if text_of(r.get("item")) == "*" and _na(r.get("files_validated")) and (
                    text_of(r.get("source")) == "lookup" or text_of(r.get("source")).startswith("athena://")):
                self._unchecked.setdefault(text_of(r.get("account_id")), set()).add(text_of(r["source"]))

    def of(self, account_id: str, setting: Signal) -> Signal:
        """LOG_FILE_INTEGRITY: the trail's setting (`setting`, validation on), and, where the files were
        read from the trail (S3 or a local copy), their validation against CloudTrail's signed digests."""
        rows = self._rows.get(account_id, [])
        if not rows:
            if setting.value != PASS:
                return setting
            sources = sorted(self._unchecked.get(account_id, set()) | self._unchecked.get("*", set()))
            why = "; ".join(f"{source}: {not_checked(source)}" for source in sources) or (
                "log-file integrity was not checked by rootaudit: no file source was read for the account")
            return Signal(NOT_ASSESSED, f"{setting.evidence}; {why}. The result would rest on the trail's "
                                        "log file validation setting alone, which makes validation possible "
                                        "and does not show the files unaltered: read the trail's files "
                                        "(--cloudtrail s3://… or a local copy) to have each one validated "
                                        "against CloudTrail's signed digests")
        totals = [r for r in rows if text_of(r["item"]) == "*"]
        files = sum(_count(r["files_validated"]) or 0 for r in totals)
        read = sum(_count(r["files_read"]) or 0 for r in totals)
        digests = sum(_count(r["digests_validated"]) or 0 for r in totals)
        findings = [r for r in rows if text_of(r["status"]) in INTEGRITY_GAPS]
        tampered = [r for r in findings if text_of(r["status"]) in TAMPER_EVIDENCE]
        shown = _listed(f"{text_of(r['item'])}: {text_of(r['status'])} ({text_of(r['reason'])})"
                        for r in (tampered or findings)[:5])
        more = f" and {len(findings) - 5} more" if len(findings) > 5 else ""
        if setting.value == FAIL:
            return setting
        if tampered:
            return Signal(FAIL, f"CloudTrail's own validation of {account_id}'s log files failed: "
                                f"{shown}{more}")
        if findings:
            return Signal(NOT_ASSESSED, f"{account_id}'s log files could not all be validated against "
                                        f"CloudTrail's digests: {shown}{more}")
        if setting.value != PASS:
            return setting
        return Signal(PASS, f"{setting.evidence}; {files} of {read} log file(s) read for {account_id} "
                            f"validated against {digests} signed, chained CloudTrail digest(s)")


def cloudtrail_coverage(account_id: str, setting: Signal, covered: tuple[bool, str]) -> Signal:
    """CLOUDTRAIL_COVERAGE: the trail's setting (`trail_setting`), and the CloudTrail sources read for
    the account (`Coverage.of`) covering the whole period. Whether the log files are unaltered is
    LOG_FILE_INTEGRITY's question, so a source that reads events without the files (LookupEvents,
    Athena) can pass this one."""
    ok, reason = covered
    if setting.value != PASS:
        return setting
    if ok:
        return Signal(PASS, f"{setting.evidence}; {reason}")
    return Signal(NOT_ASSESSED, f"{setting.evidence}; but the period's events were not all read for "
                                f"{account_id}: {reason}")


def security_contact(account: Mapping[str, Any]) -> Signal:
    state = text_of(account["security_contact"])
    reason = text_of(account["security_contact_reason"])
    aid = text_of(account["account_id"])
    if state == "registered":
        return Signal(PASS, f"SECURITY alternate contact registered for {aid}")
    if state == "none":
        return Signal(FAIL, f"no SECURITY alternate contact registered for {aid}"
                            + (f" ({reason})" if reason else ""))
    return Signal(NOT_ASSESSED,
                  f"SECURITY alternate contact of {aid} not read: {reason or 'no reason recorded'}")


# ---------------------------------------------------------------- the whole organization


@dataclass
class SignalTable:
    """Every signal's value: per account (account-scoped signals) and for the organization (all)."""

    accounts: dict[str, dict[str, Signal]] = field(default_factory=dict)  # account id -> signal -> value
    organization: dict[str, Signal] = field(default_factory=dict)

    def rows(self) -> list[dict[str, str]]:
        out = [{"scope": "organization", "account_id": None, "signal": s, "value": v.value,
                "evidence": v.evidence} for s, v in self.organization.items()]
        for aid, signals in self.accounts.items():
            out += [{"scope": "account", "account_id": aid, "signal": s, "value": v.value,
                     "evidence": v.evidence} for s, v in signals.items()]
        return out


def population(snapshot: Snapshot) -> tuple[str, list[dict[str, Any]]]:
    """The management account id and every account of the population, in account order.

    The population is reconciled again here (`rootaudit.population`) over whatever snapshot is given:
    an account that a frame names (a root-credential row, CloudTrail, the organization row) and the
    `accounts` frame lacks is added, with its `population_reason`, so it is shown, never dropped."""
    org = records(snapshot["organization"])
    listed = records(snapshot["accounts"])
    management = next((text_of(a["account_id"]) for a in listed if _flag(a["is_management"])), "")
    if not management and org:
        management = text_of(org[0]["management_account_id"])
    blank = dict.fromkeys(snapshot["accounts"].columns)
    rows = reconcile(listed, named_in_frames(snapshot.frames), management)
    return management, [{**blank, **row} for row in rows]


def disagreement(account: Mapping[str, Any]) -> str:
    """The account's population disagreement, or "" when every listing agrees about it."""
    return text_of(account.get("population_reason"))


def _aggregate(signal: str, values: Mapping[str, Signal]) -> Signal:
    """The organization's value of an account signal over every account of the population:
    NOT_ASSESSED when any account is, else FAIL when any fails, else PASS."""
    by: dict[str, list[str]] = {}
    for aid, sig in sorted(values.items()):
        by.setdefault(sig.value, []).append(aid)
    counts = ", ".join(f"{len(ids)} {v}" for v, ids in sorted(by.items()))
    detail = "; ".join(f"{v}: {_listed(ids)}" for v, ids in sorted(by.items()) if v != PASS)
    text = f"{signal} over {len(values)} account(s): {counts}" + (f" ({detail})" if detail else "")
    if not values:
        return Signal(NOT_ASSESSED, f"{signal}: no account in the snapshot")
    for value in (NOT_ASSESSED, FAIL):
        if value in by:
            return Signal(value, text)
    return Signal(PASS, text)


def evaluate_signals(snapshot: Snapshot, sessions: pd.DataFrame,
                     justified_events: Mapping[str, str]) -> SignalTable:
    """Every signal for every account and the organization.

    `sessions` is the AssumeRoot ledger with its justification column filled; `justified_events` maps
    root-activity event ids to the justification that covers them.
    """
    management, accounts = population(snapshot)
    org_rows = records(snapshot["organization"])
    org = org_rows[0] if org_rows else None
    creds = {text_of(r["account_id"]): r for r in records(snapshot["root_credentials"])}
    items = group_by(records(snapshot["root_credential_items"]), "account_id")
    activity = records(snapshot["root_activity"])
    activity_of = group_by(activity, "account_id")
    session_rows = records(sessions)
    sessions_into = group_by(session_rows, "target_account")
    coverage = Coverage(records(snapshot["sources"]))
    integrity = LogIntegrity(records(snapshot["sources"]))
    monitoring = records(snapshot["monitoring"])
    monitoring_of = group_by(monitoring, "account_id")
    # Rows for no particular account ("*", e.g. monitoring that failed as a whole) apply to every account.
    everyone = monitoring_of.pop("*", []) + monitoring_of.pop("", [])
    org_trails = [r for r in monitoring if _flag(r["is_organization_trail"])]
    callers = {management} | {a for a in text_of(org["delegated_admins"] if org else "").split(",") if a}
    callers.discard("")

    table = SignalTable()
    for account in accounts:
        aid = text_of(account["account_id"])
        if reason := disagreement(account):
            unknown = Signal(NOT_ASSESSED, f"account {aid} not assessed: {reason}")
            table.accounts[aid] = dict.fromkeys(ACCOUNT_SIGNALS, unknown)
            continue
        # An account that is not ACTIVE is evaluated like any other: its root credentials were not read
        # (its row says so, with its state), and what CloudTrail and the rest say of it still counts.
        rc = RootCredentials.from_rows(aid, creds.get(aid), items.get(aid, []))
        values = {name: fn(rc) for name, fn in CREDENTIAL_SIGNALS.items()}
        own_activity = activity_of.get(aid, [])
        own_cover = coverage.of([aid])
        values["ASSUMEROOT_ACCOUNTED"] = assumeroot_accounted(
            f"AssumeRoot into {aid}", sessions_into.get(aid, []), own_activity, coverage.of({aid} | callers))
        values["NO_ROOT_CONSOLE_LOGIN"] = no_root_console_login(aid, own_activity, justified_events,
                                                                own_cover)
        values["NO_ROOT_API_CALLS"] = no_root_api_calls(aid, own_activity, justified_events, own_cover)
        own_monitoring = monitoring_of.get(aid, []) + everyone
        values["ROOT_USAGE_ALARM"] = root_usage_alarm(aid, own_monitoring, org_trails)
        values["SECURITY_CONTACT"] = security_contact(account)
        setting = trail_setting(aid, own_monitoring, org_trails)
        values["CLOUDTRAIL_COVERAGE"] = cloudtrail_coverage(aid, setting, own_cover)
        values["LOG_FILE_INTEGRITY"] = integrity.of(aid, setting)
        table.accounts[aid] = {s: values[s] for s in ACCOUNT_SIGNALS}

    for signal in ACCOUNT_SIGNALS:
        table.organization[signal] = _aggregate(signal, {aid: v[signal] for aid, v in table.accounts.items()})
    # AssumeRoot at the organization level also counts sessions into accounts no listing names.
    all_ids = {text_of(a["account_id"]) for a in accounts} | callers
    org_accounted = assumeroot_accounted("AssumeRoot across the organization", session_rows, activity,
                                         coverage.of(all_ids))
    per_account = table.organization["ASSUMEROOT_ACCOUNTED"]
    values = {per_account.value, org_accounted.value}
    value = NOT_ASSESSED if NOT_ASSESSED in values else FAIL if FAIL in values else PASS
    table.organization["ASSUMEROOT_ACCOUNTED"] = Signal(
        value, f"{org_accounted.evidence} {per_account.evidence}")
    table.organization["RCM_ENABLED"] = rcm_enabled(org)
    table.organization["ROOT_SESSIONS_ENABLED"] = root_sessions_enabled(org)
    table.organization["PACK_INTEGRITY"] = pack_integrity()
    return table


# ---------------------------------------------------------------- the headline


def _residue(rc: RootCredentials) -> list[str]:
    out = []
    if rc.keys_inactive:
        out.append(f"{rc.keys_inactive} inactive access key(s)")
    if rc.certs_inactive:
        out.append(f"{rc.certs_inactive} inactive signing certificate(s)")
    if rc.mfa_devices and rc.password is False:
        out.append(f"{rc.mfa_devices} MFA device(s) without a password")
    return out


def _active_creds(rc: RootCredentials) -> tuple[bool | None, list[str]]:
    """Whether root holds an active credential (password, active key, active certificate); None = unknown."""
    found = []
    if rc.password:
        found.append("password")
    if rc.keys_active:
        found.append(f"{rc.keys_active} active access key(s)")
    if rc.certs_active:
        found.append(f"{rc.certs_active} active signing certificate(s)")
    if found:
        return True, found
    if None in (rc.password, rc.keys_active, rc.certs_active):
        return None, []
    return False, []


def headline(snapshot: Snapshot) -> dict[str, Any]:
    """Population counts and the claim. "0 of N member accounts have active root credentials" is made
    only when every one of the N member accounts of the population (every state, every account any
    listing named) was assessed and none holds an active root credential. No account state takes a
    member out of the count: AWS documents no state in which the root user's credentials are gone
    (see `collectors.root_credentials.inactive_reason`), so a member that is not ACTIVE, and so was not
    read, is not assessed."""
    management, accounts = population(snapshot)
    creds = {text_of(r["account_id"]): r for r in records(snapshot["root_credentials"])}
    items = group_by(records(snapshot["root_credential_items"]), "account_id")
    members = [a for a in accounts if text_of(a["account_id"]) != management]
    not_active = {text_of(a["account_id"]): text_of(a["state"], "UNKNOWN") for a in members
                  if text_of(a["state"]) != ACTIVE}
    disagreements = {text_of(a["account_id"]): disagreement(a) for a in members if disagreement(a)}
    assessed, not_assessed, unknown, with_active, with_residue = [], {}, {}, {}, {}
    for account in members:
        aid = text_of(account["account_id"])
        if aid in disagreements:
            not_assessed[aid] = disagreements[aid]
            continue
        rc = RootCredentials.from_rows(aid, creds.get(aid), items.get(aid, []))
        if not rc.assessed:
            not_assessed[aid] = rc.reason or "no reason recorded"
            continue
        assessed.append(aid)
        has_active, what = _active_creds(rc)
        if has_active:
            with_active[aid] = ", ".join(what)
        elif has_active is None:
            unknown[aid] = f"password presence unknown under method {rc.method}"
        if residue := _residue(rc):
            with_residue[aid] = ", ".join(residue)

    n = len(members)
    if n and not not_assessed and not unknown and not with_active:
        claim, text = True, f"0 of {n} member accounts have active root credentials"
    else:
        claim = False
        incomplete = bool(not_assessed or unknown)
        if not n:
            parts = ["no member account in the snapshot"]
        elif with_active:
            at_least = "at least " if incomplete else ""
            parts = [f"{at_least}{len(with_active)} of {n} member accounts have active root credentials"]
        else:  # never "0 of N … have" on incomplete evidence: it reads as the claim it is not
            parts = [f"no active root credentials found in the {len(assessed)} of {n} member accounts "
                     "assessed"]
        if not_assessed:
            parts.append(f"{len(not_assessed)} not assessed ({_listed(sorted(not_assessed))})")
        if not_active:
            parts.append(f"{len(not_active)} not ACTIVE, counted as members ("
                         f"{_listed(f'{a} {s}' for a, s in sorted(not_active.items()))})")
        if disagreements:
            parts.append(f"{len(disagreements)} named by some of the organization's account listings and "
                         f"missing from others ({_listed(sorted(disagreements))})")
        if unknown:
            parts.append(f"{len(unknown)} assessed without telling whether root has a password "
                         f"({_listed(sorted(unknown))})")
        if incomplete:
            parts.append("so the absence of active root credentials is not established for every account")
        text = "; ".join(parts)

    mgmt_row = next((a for a in accounts if text_of(a["account_id"]) == management), None)
    mgmt: dict[str, Any] = {"account_id": management or None}
    if mgmt_row is None or not management:
        mgmt["status"] = "unknown: the management account is not in the accounts frame"
    else:
        rc = RootCredentials.from_rows(management, creds.get(management), items.get(management, []))
        mgmt.update({
            "assessed": rc.assessed,
            "status": rc.describe() if rc.assessed else rc.not_assessed().evidence,
            "mfa": root_mfa_enabled_or_no_root_password(rc).value,
            "hardware_mfa_or_no_creds": root_hw_mfa_or_no_root_creds(rc).value,
            "access_keys_absent": root_access_keys_absent(rc).value,
        })
    return {
        "member_accounts": n,
        "not_active": len(not_active),
        "population_disagreements": len(disagreements),
        "assessed": len(assessed),
        "not_assessed": len(not_assessed),
        "not_assessed_accounts": dict(sorted(not_assessed.items())),
        "password_unknown_accounts": dict(sorted(unknown.items())),
        "with_active_root_credentials": len(with_active),
        "active_root_credentials": dict(sorted(with_active.items())),
        "with_other_residue": len(with_residue),
        "other_residue": dict(sorted(with_residue.items())),
        "not_active_accounts": dict(sorted(not_active.items())),
        "population_disagreement_accounts": dict(sorted(disagreements.items())),
        "claim_made": claim,
        "claim": text,
        "management_account": mgmt,
        "collected_at": snapshot.meta.get("collected_at"),
    }

