"""The report's content as plain data: a pure transform from a snapshot and results.

The PDF, the HTML page and the workbook's Summary sheet all read this, so they say the same thing.
Clean accounts are counted here, never listed: the report grows with findings, not with the organization.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rootaudit import __version__
from rootaudit.controls.results import Results
from rootaudit.render import labels
from rootaudit.render.sheetnames import sheet_title
from rootaudit.snapshot import Snapshot

# Longest list a report table shows before it points to the workbook for the rest.
LIST_LIMIT = 60
# Exceptions the report lists, those that accept nothing (expired, malformed) before those in force;
# every one is in the workbook and data/exceptions.csv. A 1,000-entry file made a 96-page PDF whose
# layout took minutes (bench/hostile.py).
EXCEPTIONS_SHOWN = 100
# Account ids named per control in a matrix row before the rest are counted.
ACCOUNTS_PER_CONTROL = 4  # one line of a matrix cell
# A control's rationale in the report is cut to this length; the workbook and CSV hold it whole.
RATIONALE_CHARS = 320
BASIS_CHARS = 420
# A control's title in the report's matrix is cut to this length (whole in the workbook and CSV).
TITLE_CHARS = 240
# The stated maximum length of every text field a renderer shows (issue 16): a longer value is cut
# visibly, saying where it is whole (the data files and the workbook keep every value whole). A field
# not named here is held to DEFAULT_TEXT_LIMIT.
TEXT_LIMITS = {
    "name": 60, "email": 80, "ou_path": 120, "reason": 480, "holds": 200, "caller_arn": 160,
    "trail_arn": 160, "member_actions": 320, "justification": 240, "task_policy": 60, "error_code": 60,
    "event_id": 64, "session_key_id": 40, "user_agent": 120, "source": 120, "item": 120, "problem": 240,
    "owner": 80, "approver": 80, "ticket": 60, "control": 60, "metric_filter": 80, "alarm": 80,
    "eventbridge_rule": 120, "delegated_admins": 200, "features_reason": 300, "flag": 120,
    "event_name": 80, "event_source": 80, "target_name": 60, "population_reason": 300,
    # a credential change names its AssumeRoot session, task, time and principal (caller_arn: 160)
    "detail": 400,
    # labels.yaml's words for a source whose log files rootaudit did not validate (templates are editable)
    "integrity_note": 480,
    # from the mapping files (a folder given with --mappings is the user's own)
    "framework": 120, "version": 80, "control_id": 48, "file": 120, "id": 80, "title": 200,
}
# A mapping-file name in the provenance list is held to this.
INPUT_NAME_CHARS = 120
DEFAULT_TEXT_LIMIT = 200
# The headline's claim and the cover's facts (caller, regions, source) are held to these.
CLAIM_CHARS = 900
META_CHARS = 200

POSTURE_LABELS = {key: labels.posture(key) for key in
                  ("active_credentials", "other_residue", "not_assessed", "limited", "clean")}
STATUS_ORDER = ["FAIL", "NOT_ASSESSED", "MANUAL", "PASS", "NOT_APPLICABLE"]
def claim_made(headline: dict[str, Any]) -> bool:
    """Whether the headline's claim is the proven clean claim (`claim_made`), or, where the evaluation
    gives only a `claim`, whether there is one."""
    if "claim_made" in headline:
        return headline["claim_made"] is True
    return bool(text(headline.get("claim")))


def text(value: Any) -> str:
    """A cell's value as text: NA and None become empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def shorten(value: str, limit: int, where: str = "the workbook and the data files") -> str:
    """`value` cut to `limit` characters, visibly, with where the whole value is."""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + f"… [cut: whole in {where}]"


_MORE = re.compile(r"(;?\s*and (\d+) more)(?!\s*\()")


def point_more(value: str, where: str) -> str:
    """Every "and N more" in `value` followed by where the rest is."""
    return _MORE.sub(lambda m: f"{m.group(1)} ({where})", value)


def bounded(rows: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """Rows for a template with every text field held to its stated maximum (TEXT_LIMITS); `where`
    names the data file (or sheet) that keeps the whole value, e.g. "data/accounts.csv"."""
    out = []
    for row in rows:
        new = {}
        for col, v in row.items():
            if isinstance(v, str):
                limit = TEXT_LIMITS.get(col, DEFAULT_TEXT_LIMIT)
                v = shorten(v, limit, f"{where}, column {col}") if len(v) > limit else v
            new[col] = v
        out.append(new)
    return out


def _int(value: Any) -> int:
    return 0 if text(value) == "" else int(value)


def records(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Rows as dicts of text, for templates."""
    cols = list(frame.columns)
    return [{c: text(v) for c, v in zip(cols, row, strict=True)} for row in frame.itertuples(index=False)]


def posture(row: dict[str, Any]) -> str:
    """One account's root posture from its root_credentials row (already text); an account the
    organization's listings disagree about is not assessed, whatever its row says."""
    if row.get("assessment") != "assessed" or row.get("population_reason"):
        return "not_assessed"
    if (
        row.get("password_present") == "true"
        or _int(row.get("access_keys_active"))
        or _int(row.get("signing_certificates_active"))
    ):
        return "active_credentials"
    if (
        _int(row.get("access_keys_inactive"))
        or _int(row.get("signing_certificates_inactive"))
        or _int(row.get("mfa_devices"))
    ):
        return "other_residue"
    if row.get("password_present") != "false":
        return "limited"
    return "clean"


def holdings(row: dict[str, str]) -> str:
    """What an account's root still holds, in words."""
    parts = []
    if row.get("password_present") == "true":
        parts.append("password")
    for col, word in (
        ("access_keys_active", "active access key"),
        ("access_keys_inactive", "inactive access key"),
        ("signing_certificates_active", "active signing certificate"),
        ("signing_certificates_inactive", "inactive signing certificate"),
        ("mfa_devices", "MFA device"),
    ):
        n = _int(row.get(col))
        if n:
            parts.append(f"{n} {word}{'s' if n > 1 else ''}")
    if row.get("mfa_devices") and _int(row.get("mfa_devices")) and row.get("mfa_kind"):
        parts[-1] += f" ({row['mfa_kind']})"
    if row.get("password_present") == "" and row.get("assessment") == "assessed":
        parts.append("password: not visible to this method")
    return ", ".join(parts) or "nothing"


def account_table(snapshot: Snapshot) -> pd.DataFrame:
    """The whole population: accounts joined with their root credentials and a posture column."""
    accounts = snapshot["accounts"]
    creds = snapshot["root_credentials"]
    merged = accounts.merge(creds, on="account_id", how="outer", sort=True)
    missing = merged["assessment"].isna()
    merged.loc[missing, "assessment"] = "not_assessed"
    merged.loc[missing, "reason"] = merged.loc[missing, "reason"].fillna(
        "no root credential row for this account in the snapshot")
    # posture and holdings are read from the text form; the frame keeps its types, so that counts
    # stay numbers in the workbook
    postures, holds = [], []
    for row in records(merged):
        postures.append(posture(row))
        holds.append(holdings(row) if postures[-1] != "not_assessed" else "")
    merged["posture"] = pd.Series(postures, index=merged.index, dtype="string")
    merged["holds"] = pd.Series(holds, index=merged.index, dtype="string")
    cols = [*accounts.columns, *[c for c in creds.columns if c != "account_id"], "posture", "holds"]
    return merged[cols].reset_index(drop=True)


@dataclass
class Meta:
    organization_id: str
    management_account_id: str
    period_label: str
    period_start: str
    period_end: str
    collected_at: str
    collection_completed_at: str
    collector: str
    tool_version: str
    collector_tool_version: str
    regions: str
    cloudtrail_source: str
    resumed: str = ""  # a collection resumed after an interruption says so, and what it reused


def _resumed_text(value: Any) -> str:
    if not isinstance(value, dict):
        return ""
    return (f"resumed after an interruption: {value.get('accounts_reused', 0)} account(s) were read by the "
            f"first attempt, begun {value.get('first_started_at') or 'at a time not recorded'}, and not read "
            "again")


def meta_of(snapshot: Snapshot) -> Meta:
    """The cover's facts, from snapshot.meta with the organization frame as fallback."""
    m = snapshot.meta
    org = records(snapshot["organization"])
    org0 = org[0] if org else {}
    period = m.get("period") if isinstance(m.get("period"), dict) else {}
    return Meta(
        organization_id=text(m.get("organization_id") or org0.get("organization_id")) or "unknown-org",
        management_account_id=text(m.get("management_account_id") or org0.get("management_account_id")),
        period_label=text(period.get("label") or m.get("period_label") or m.get("period"))
        or "unknown-period",
        period_start=text(period.get("start")),
        period_end=text(period.get("end")),
        collected_at=text(m.get("collected_at") or m.get("collection_finished_at") or m.get("finished_at")),
        collection_completed_at=text(m.get("completed_at") or m.get("collection_finished_at")),
        collector=text(m.get("caller_arn") or org0.get("caller_arn")),
        tool_version=__version__,
        collector_tool_version=text(m.get("tool_version")),
        regions=", ".join(m.get("regions") or [])
        if isinstance(m.get("regions"), list)
        else text(m.get("regions")),
        cloudtrail_source=text(m.get("cloudtrail_source")),
        resumed=_resumed_text(m.get("resumed")),
    )


def _sheet_of(results: Results) -> dict[tuple[str, str], str]:
    """Each framework's sheet in the workbook (named by the framework's id, as `xlsx` names it)."""
    return {(f.get("framework"), f.get("version")): sheet_title(str(f.get("id")), {"summary"})
            for f in results.frameworks if f.get("id")}


def _control_matrix(results: Results) -> list[dict[str, Any]]:
    """Per framework, one row per control: the organization result and the per-account tally.

    Vectorised: a large organization evaluated against many frameworks has close to a million
    per-account results, of which only the findings are named here.
    """
    cr = results.control_results
    keys = ["framework", "version", "control_id"]
    by_fw: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    sheets = _sheet_of(results)

    def control(fw: str, ver: str, cid: str, row: dict[str, str]) -> dict[str, Any]:
        return by_fw.setdefault((fw, ver), {}).setdefault(
            cid,
            {
                "control_id": cid,
                "title": row["title"],
                "basis": row["basis"],
                "org": None,
                "counts": Counter(),
                "accepted": [],
                "listed": {},
                "rationale": "",
            },
        )

    org_part = cr[cr["account_id"].isna()]
    acct_part = cr[cr["account_id"].notna()]
    for row in records(org_part):
        ctl = control(row["framework"], row["version"], row["control_id"], row)
        ctl["org"] = row
        ctl["rationale"] = row["rationale"]
    if len(acct_part):
        accepted = (acct_part["status"] == "FAIL") & (acct_part["exception_status"] == "accepted").fillna(
            False
        )
        status_key = acct_part["status"].astype(object).where(~accepted, "FAIL (accepted)")
        firsts = acct_part.drop_duplicates(keys)
        for row in records(firsts):
            ctl = control(row["framework"], row["version"], row["control_id"], row)
            if not ctl["rationale"]:
                ctl["rationale"] = row["rationale"]
        counts = acct_part[keys].assign(status=status_key).groupby([*keys, "status"], sort=False).size()
        for (fw, ver, cid, status), n in counts.items():
            by_fw[(fw, ver)][cid]["counts"][status] = int(n)
        named = acct_part[status_key.isin(["FAIL", "NOT_ASSESSED", "MANUAL", "FAIL (accepted)"])]
        named_status = status_key[named.index]
        for (fw, ver, cid, acct, exc), status in zip(
            named[[*keys, "account_id", "exception_id"]].astype(object).itertuples(index=False, name=None),
            named_status,
            strict=True,
        ):
            ctl = by_fw[(fw, ver)][cid]
            if status == "FAIL (accepted)":
                ctl["accepted"].append(f"{acct} ({text(exc)})")
            else:
                ctl["listed"].setdefault(status, []).append(acct)
    matrices = []
    for (framework, version), controls in sorted(by_fw.items()):
        sheet = sheets.get((framework, version)) or sheet_title(f"{framework} {version}", {"summary"})
        rows = []
        for ctl in sorted(controls.values(), key=lambda c: control_sort_key(c["control_id"])):
            org = ctl["org"]
            if org is not None:
                status = org["status"]
                accepted = org["exception_status"] == "accepted"
                scope = org["scope"]
            else:
                present = [s for s in STATUS_ORDER if ctl["counts"].get(s)]
                status = present[0] if present else ("FAIL" if ctl["counts"].get("FAIL (accepted)") else "")
                accepted = status == "FAIL" and not ctl["counts"].get("FAIL")
                scope = "per account"
            tally = ", ".join(
                f"{n} {labels.status(s).lower()}" for s, n in sorted(ctl["counts"].items(), key=_tally_key)
            )
            where = f"workbook sheet {sheet}, column {ctl['control_id']}"
            evidence = []
            for s in ("FAIL", "NOT_ASSESSED", "MANUAL"):
                ids = ctl["listed"].get(s, [])
                if ids:
                    evidence.append({"label": labels.status(s), "shown": ids[:ACCOUNTS_PER_CONTROL],
                                     "more": max(0, len(ids) - ACCOUNTS_PER_CONTROL), "where": where})
            if ctl["accepted"]:
                evidence.append({"label": labels.status("FAIL (accepted)"),
                                 "shown": ctl["accepted"][:ACCOUNTS_PER_CONTROL],
                                 "more": max(0, len(ctl["accepted"]) - ACCOUNTS_PER_CONTROL),
                                 "where": where})
            rationale = point_more(labels.readable(ctl["rationale"]), "data/signals.csv")
            rows.append(
                {
                    "control_id": ctl["control_id"],
                    "title": shorten(ctl["title"], TITLE_CHARS, "data/control_results.csv, column title"),
                    "status": status,
                    "status_label": labels.status("FAIL (accepted)" if accepted else status) if status
                    else "",
                    "accepted": accepted,
                    "scope": scope,
                    "basis": shorten(ctl["basis"], BASIS_CHARS, "data/control_results.csv, column basis"),
                    # the organization-scoped control's evidence, one line a part
                    "rationale_lines": [
                        shorten(line, RATIONALE_CHARS, "data/control_results.csv, column rationale")
                        for line in rationale.replace(" -> ", " → ").split(" | ")
                    ],
                    "tally": tally,
                    "evidence": evidence,
                    # A roll-up of account results is shown by its tally and the accounts named (its
                    # rationale says the same at length); an organization-scoped control by its rationale.
                    "rolled_up": bool(ctl["counts"]),
                    "exception_id": org["exception_id"] if org else "",
                }
            )
        status_counts = Counter(r["status"] + (" (accepted)" if r["accepted"] else "") for r in rows)
        matrices.append(
            {
                "framework": framework,
                "version": version,
                "sheet": sheet,
                "controls": rows,
                "status_counts": status_counts,
                "status_summary": ", ".join(
                    f"{n} {labels.status(s).lower()}"
                    for s, n in sorted(status_counts.items(), key=_tally_key)
                ),
                "failing": [r["control_id"] for r in rows if r["status"] == "FAIL" and not r["accepted"]],
                "not_assessed": [r["control_id"] for r in rows if r["status"] == "NOT_ASSESSED"],
            }
        )
    return matrices


def control_sort_key(control_id: str) -> tuple:
    """Natural order of control ids: AC-2, AC-2(1), AC-2(4), AC-2(12), AC-3; 2.1.1 before 2.10."""
    parts = re.findall(r"\d+|[^\W\d_]+", control_id)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _tally_key(item: tuple[str, int]) -> int:
    order = [*STATUS_ORDER, "FAIL (accepted)"]
    return order.index(item[0]) if item[0] in order else len(order)


def source_summary(totals: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The sources' account/region totals, summed per source and status."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in totals:
        groups.setdefault((row["source"], row["status"]), []).append(row)
    out = []
    for (source, status), rows in sorted(groups.items()):

        def values(col: str, rows: list[dict[str, str]] = rows) -> list[str]:
            return [r[col] for r in rows if r[col]]

        out.append(
            {
                "source": source,
                "status": status,
                "pairs": len(rows),
                "accounts": len({r["account_id"] for r in rows}),
                "period_start": min(values("period_start"), default=""),
                "period_end": max(values("period_end"), default=""),
                "covered_start": min(values("covered_start"), default=""),
                "covered_end": max(values("covered_end"), default=""),
                "files_read": sum(_int(r["files_read"]) for r in rows),
                "pages_read": sum(_int(r["pages_read"]) for r in rows),
                "events_read": sum(_int(r["events_read"]) for r in rows),
                "events_matched": sum(_int(r["events_matched"]) for r in rows),
                # file sources: the delivery window read and CloudTrail's own validation of the files
                "read_start": min(values("read_start"), default=""),
                "read_end": max(values("read_end"), default=""),
                "validated": any(r.get("files_validated") not in (None, "") for r in rows),
                "files_validated": sum(_int(r.get("files_validated")) for r in rows),
                "digests_read": sum(_int(r.get("digests_read")) for r in rows),
                "digests_validated": sum(_int(r.get("digests_validated")) for r in rows),
                # a source that reads events, not the delivered files: its files were never validated
                "integrity_note": _integrity_note(source, rows),
            }
        )
    return out


def _integrity_note(source: str, rows: list[dict[str, str]]) -> str:
    if any(r.get("files_validated") not in (None, "") for r in rows):
        return ""
    kind = "athena" if source.startswith("athena://") else source
    note = labels.value("log_file_integrity", kind)
    return "" if note == kind else note


def _listed_exceptions(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """At most EXCEPTIONS_SHOWN, in the file's order: those that accept nothing first chosen, then those
    in force; and how many more there are."""
    if len(rows) <= EXCEPTIONS_SHOWN:
        return rows, 0
    chosen = sorted(range(len(rows)), key=lambda i: rows[i]["status_code"] == "active")[:EXCEPTIONS_SHOWN]
    return [rows[i] for i in sorted(chosen)], len(rows) - EXCEPTIONS_SHOWN


def _limited(rows: list[dict[str, str]], limit: int = LIST_LIMIT) -> tuple[list[dict[str, str]], int]:
    return rows[:limit], max(0, len(rows) - limit)


@dataclass(frozen=True)
class Population:
    """The one population every page and chart of the report counts (defined here, once).

    Members are every account but the management account, whatever their state; each is assessed or
    not assessed (a member that is not ACTIVE is not read, so it is not assessed). The management
    account is counted on its own: centralized root access does not cover it.
    """

    listed: int  # every account in the population: members + the management account
    members: int
    management: int
    members_assessed: int
    members_not_assessed: int
    members_not_active: int  # of the members not assessed, those that are not ACTIVE
    management_assessed: int
    states: dict[str, int]
    methods: dict[str, int]

    @property
    def members_active(self) -> int:
        return self.members - self.members_not_active

    @property
    def reconciles(self) -> bool:
        return (self.listed == self.members + self.management
                and self.members == self.members_assessed + self.members_not_assessed)


def population_of(table: list[dict[str, str]]) -> Population:
    """The population from the account table (accounts joined with their root credentials)."""
    members = [r for r in table if r.get("is_management") != "true"]
    management = [r for r in table if r.get("is_management") == "true"]
    not_assessed = [r for r in members if r["posture"] == "not_assessed"]
    return Population(
        listed=len(table),
        members=len(members),
        management=len(management),
        members_assessed=len(members) - len(not_assessed),
        members_not_assessed=len(not_assessed),
        members_not_active=sum(1 for r in members if (r.get("state") or "UNKNOWN") != "ACTIVE"),
        management_assessed=sum(1 for r in management if r["posture"] != "not_assessed"),
        states=dict(sorted(Counter(labels.value("state", r.get("state") or "UNKNOWN")
                                   for r in members).items())),
        methods=dict(sorted(Counter(labels.value("method", r.get("method") or "none")
                                    for r in table).items())),
    )


def build_population(snapshot: Snapshot) -> Population:
    """The report's population, for a renderer that has only the snapshot (the workbook's Summary)."""
    return population_of(records(account_table(snapshot)))


def _worded(rows: list[dict[str, Any]], columns: dict[str, str]) -> list[dict[str, Any]]:
    """Rows with the named columns' values in words (`columns`: column -> labels.yaml values section,
    or "flag" for true/false); the row keeps the internal value under `<column>_code`."""
    out = []
    for row in rows:
        new = dict(row)
        for col, section in columns.items():
            if col in row:
                v = row[col]
                new[f"{col}_code"] = v
                new[col] = labels.flag(v) if section == "flag" else labels.value(section, v)
        out.append(new)
    return out


def _shown_meta(meta: Meta) -> Meta:
    values = {k: shorten(v, META_CHARS, "snapshot.json") if isinstance(v, str) else v
              for k, v in meta.__dict__.items()}
    return Meta(**values)


def build_report(snapshot: Snapshot, results: Results, digest: str | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data. `digest`: the snapshot's, when the caller has it.

    Every text field is held to its stated maximum (`bounded`), with where the whole value is."""
    meta = _shown_meta(meta_of(snapshot))
    table = records(account_table(snapshot))
    members = [r for r in table if r.get("is_management") != "true"]
    management = [r for r in table if r.get("is_management") == "true"]
    population = population_of(table)
    # Every member is in the chart, whatever its state: its "Not assessed" bar is the population's
    # count (a member that is not ACTIVE was not read, so it is not assessed).
    counts = Counter(r["posture"] for r in members)
    total = population.members or 1
    chart = [
        {
            "key": k,
            "label": label,
            "count": counts.get(k, 0),
            "percent": round(100.0 * counts.get(k, 0) / total, 1),
        }
        for k, label in POSTURE_LABELS.items()
    ]

    items = records(snapshot["root_credential_items"])
    items_by_acct: dict[str, list[dict[str, str]]] = {}
    for it in bounded(_worded(items, {"kind": "kind"}), "data/root_credential_items.csv"):
        items_by_acct.setdefault(it["account_id"], []).append(it)
    account_words = {"state": "state", "method": "method", "assessment": "assessment",
                     "joined_method": "joined_method"}
    shown_accounts = "workbook sheet Accounts"
    findings = [
        dict(r, items=items_by_acct.get(r["account_id"], []))
        for r in bounded(_worded(members, account_words), shown_accounts)
        if r["posture"] in ("active_credentials", "other_residue")
    ]
    not_assessed = bounded(_worded([r for r in members if r["posture"] == "not_assessed"], account_words),
                           shown_accounts)
    for r in not_assessed:  # the executive summary's one line per account
        r["reason_short"] = shorten(r["reason"], 150, "section 5, and workbook sheet Accounts, column reason")
    limited = [r for r in members if r["posture"] == "limited"]
    # Assessed from the credential report (AssumeRoot refused, or its answer incomplete): the auditor
    # reads why beside the method; only these accounts are named, the rest are counted.
    fallback = [r for r in members
                if r.get("assessment") == "assessed" and r.get("method") == "credential_report"]
    fallback_shown, fallback_more = _limited(fallback, 10)
    fallback_shown = [dict(r, reason_short=shorten(r.get("reason") or "", 200,
                                                   "workbook sheet Accounts, column reason"))
                      for r in bounded(fallback_shown, shown_accounts)]

    sources = records(snapshot["sources"])
    totals = [s for s in sources if s["item"] == "*"]
    source_totals = bounded(_worded(source_summary(totals), {"status": "source_status"}), "data/sources.csv")
    # Account/region totals not read whole, or covering less than the period, and items not read:
    # named one by one (they are findings); the rest are counted above.
    source_problems = [
        s
        for s in sources
        if s["status"] != "read"
        or (
            s["item"] == "*"
            and (
                (s["covered_start"] or "~") > s["period_start"] or (s["covered_end"] or "") < s["period_end"]
            )
        )
    ]
    source_problems_shown, source_problems_more = _limited(source_problems)
    source_problems_shown = bounded(_worded(source_problems_shown, {"status": "source_status"}),
                                    "data/sources.csv")

    sessions = records(
        results.privileged_sessions if len(results.privileged_sessions) else snapshot["privileged_sessions"]
    )
    names = {r["account_id"]: r.get("name", "") for r in table}
    for s in sessions:
        s["target_name"] = names.get(s["target_account"], "")
    sessions = bounded(sessions, "data/privileged_sessions.csv")
    callers: dict[str, list[dict[str, Any]]] = {}
    for s in sessions:
        callers.setdefault(s["caller_arn"], []).append(s)
    session_groups = [
        {"caller_arn": arn, "caller_account": group[0]["caller_account"], "sessions": group}
        for arn, group in sorted(callers.items())
    ]
    activity = records(snapshot["root_activity"])
    session_activity = [a for a in activity if a["kind"] == "root_session" and not a.get("flag")]
    other_activity = [a for a in activity if a["kind"] != "root_session" or a.get("flag")]
    other_shown, other_more = _limited(other_activity, 200)
    other_shown = bounded(_worded(other_shown, {"kind": "kind", "success": "flag", "mfa_used": "flag"}),
                          "data/root_activity.csv")
    kinds = Counter(a["kind"] for a in activity)
    activity_kinds = {labels.value("kind", k): n for k, n in sorted(kinds.items())}

    monitoring = records(snapshot["monitoring"])
    monitoring_found = [
        m
        for m in monitoring
        if m.get("metric_filter")
        or m.get("eventbridge_rule")
        or m.get("is_organization_trail") == "true"
        or m.get("status") != "assessed"
    ]
    monitoring_shown, monitoring_more = _limited(monitoring_found)
    monitoring_shown = bounded(_worded(monitoring_shown, {
        "is_organization_trail": "flag", "is_multi_region": "flag", "is_logging": "flag",
        "log_file_validation": "flag", "matches_cis_pattern": "matches_cis_pattern",
        "status": "monitoring_status"}), "data/monitoring.csv")

    calls = snapshot["api_calls"]
    call_summary = (
        calls.groupby(["service", "operation", "outcome"], dropna=False).size().reset_index(name="calls")
        if len(calls)
        else pd.DataFrame(columns=["service", "operation", "outcome", "calls"])
    )
    call_rows = records(call_summary)

    org_rows = bounded(records(snapshot["organization"]), "data/organization.csv")
    headline = dict(results.headline)
    management_status = headline.get("management_account")
    exceptions = records(results.exceptions)
    exceptions_worded = bounded(_worded(exceptions, {"status": "exception_status"}), "data/exceptions.csv")
    exceptions_shown, exceptions_more = _listed_exceptions(exceptions_worded)
    matrices = _control_matrix(results)
    for mx in matrices:  # names from mapping files, which a user's folder may hold
        mx["framework"] = shorten(mx["framework"], TEXT_LIMITS["framework"], "data/control_results.csv")
        mx["version"] = shorten(mx["version"], TEXT_LIMITS["version"], "data/control_results.csv")
        for row in mx["controls"]:
            row["control_id"] = shorten(row["control_id"], TEXT_LIMITS["control_id"],
                                        "data/control_results.csv, column control_id")
        mx["failing"] = [shorten(c, TEXT_LIMITS["control_id"], "data/control_results.csv")
                         for c in mx["failing"]]
    claim = point_more(text(headline.get("claim")), "workbook sheet Accounts")
    return {
        "meta": meta,
        "snapshot_digest": digest or snapshot.digest(),
        "headline": headline,
        "claim": shorten(claim, CLAIM_CHARS, "workbook sheet Summary"),
        "claim_made": claim_made(headline),
        "management_status": [
            {"label": labels.field(k), "value": _management_value(k, v)}
            for k, v in management_status.items()
        ] if isinstance(management_status, dict) else [],
        "chart": chart,
        "population": population,
        "source_totals": source_totals,
        "source_problems": source_problems_shown,
        "source_problems_more": source_problems_more,
        "sources_count": len(sources),
        "organization": org_rows[0] if org_rows else None,
        "management": bounded(_worded(management, account_words), shown_accounts),
        "matrices": matrices,
        "frameworks": bounded([{k: text(v) for k, v in f.items()} for f in results.frameworks],
                              "manifest.json"),
        "findings": findings,
        "not_assessed": not_assessed,
        "limited_count": len(limited),
        "fallback": fallback_shown,
        "fallback_count": len(fallback),
        "fallback_more": fallback_more,
        "clean_count": counts.get("clean", 0),
        "sessions": sessions,
        "session_groups": session_groups,
        "session_count": len(sessions),
        "session_activity_count": len(session_activity),
        "activity": other_shown,
        "activity_more": other_more,
        "activity_kinds": activity_kinds,
        "console_logins": kinds.get("console_login", 0),
        "long_term_key_calls": kinds.get("long_term_key", 0),
        "monitoring": monitoring_shown,
        "monitoring_more": monitoring_more,
        "monitoring_count": len(monitoring),
        "exceptions": exceptions_shown,
        "exceptions_more": exceptions_more,
        "exceptions_count": len(exceptions),
        "exceptions_in_force": [e for e in exceptions_worded if e["status_code"] == "active"],
        "exceptions_by_status": dict(sorted(Counter(labels.value("exception_status", e["status"])
                                                    for e in exceptions).items())),
        "api_calls": call_rows,
        "api_call_count": len(calls),
        "api_errors": int((calls["outcome"] == "error").sum()) if len(calls) else 0,
        "inputs": [shorten(i, INPUT_NAME_CHARS, "manifest.json") for i in sorted(results.inputs)],
        "signal_names": sorted(labels.labels()["signals"].items()),
        "status_names": list(labels.labels()["statuses"].items()),
    }


def bounded_history(section: dict[str, Any]) -> dict[str, Any]:
    """The history's report section (history.pack_view.report_section) with its text held to the stated
    maximum lengths, saying which workbook sheet holds each value whole."""
    out = dict(section)
    out["since"] = bounded(list(section.get("since") or []), 'workbook sheet "Since the last pack"')
    out["drift"] = [
        {**d, "name": shorten(text(d.get("name")), TEXT_LIMITS["name"],
                              'workbook sheet "Period credential changes", column name'),
         "events": [shorten(text(e), DEFAULT_TEXT_LIMIT, 'workbook sheet "Period credential changes"')
                    for e in d.get("events") or []]}
        for d in section.get("drift") or []
    ]
    return out


def _management_value(key: str, value: Any) -> str:
    """A management-account status entry in words: statuses and flags as words, text cut to size."""
    if isinstance(value, bool):
        return labels.flag(value)
    shown = text(value)
    if shown in labels.labels()["statuses"]:
        return labels.status(shown)
    return shorten(point_more(labels.readable(shown), "data/root_credential_items.csv"), 600,
                   "data/root_credentials.csv")
