"""The report's content as plain data: a pure transform from a snapshot and results.

The PDF, the HTML page and the workbook's Summary sheet all read this, so they say the same thing.
Clean accounts are counted here, never listed: the report grows with findings, not with the organization.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rootaudit import __version__
from rootaudit.controls.results import Results
from rootaudit.snapshot import Snapshot

# Longest list a report table shows before it points to the workbook for the rest.
LIST_LIMIT = 60
# Account ids named per control in a matrix row before the rest are counted.
ACCOUNTS_PER_CONTROL = 4  # one line of a matrix cell
# A control's rationale in the report is cut to this length; the workbook and CSV hold it whole.
RATIONALE_CHARS = 180
BASIS_CHARS = 90
# A control's title in the report's matrix is cut to this length (whole in the workbook and CSV).
TITLE_CHARS = 110

POSTURE_LABELS = {
    "active_credentials": "Active root credentials",
    "other_residue": "Other root residue",
    "not_assessed": "Not assessed",
    "limited": "Assessed, password not visible",
    "clean": "Clean",
}
STATUS_ORDER = ["FAIL", "NOT_ASSESSED", "MANUAL", "PASS", "NOT_APPLICABLE"]
HEADLINE_LABELS = {
    "member_accounts": "Member accounts",
    "assessed": "Assessed",
    "not_assessed": "Not assessed",
    "with_active_root_credentials": "With active root credentials",
    "other_residue": "With other root residue",
    "with_other_residue": "With other root residue",
}
# Headline keys that are not counts: the claim is shown on its own, the rest are in their sections.
HEADLINE_NOT_COUNTS = {"claim", "claim_made", "collected_at"}
# Entries of a headline mapping (e.g. account -> reason) listed in the workbook's Summary before counting.
SUMMARY_ENTRIES_LIMIT = 50


def claim_made(headline: dict[str, Any]) -> bool:
    """Whether the headline's claim is the proven clean claim (`claim_made`), or, where the evaluation
    gives only a `claim`, whether there is one."""
    if "claim_made" in headline:
        return headline["claim_made"] is True
    return bool(text(headline.get("claim")))


def headline_counts(headline: dict[str, Any]) -> list[dict[str, str]]:
    """The headline's scalar figures, labelled, in the evaluation's order."""
    return [
        {"label": HEADLINE_LABELS.get(k, k.replace("_", " ").capitalize()), "value": text(v)}
        for k, v in headline.items()
        if k not in HEADLINE_NOT_COUNTS and isinstance(v, int | str) and not isinstance(v, bool)
    ]


def headline_summary(headline: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every headline entry as (item, text) rows, mappings flattened one level and capped."""
    rows: list[tuple[str, Any]] = []
    for key, value in headline.items():
        if isinstance(value, dict):
            items = list(value.items())
            for sub, v in items[:SUMMARY_ENTRIES_LIMIT]:
                shown = str(v) if isinstance(v, dict | list) else text(v)
                rows.append((f"Headline: {key}: {sub}", shown))
            if len(items) > SUMMARY_ENTRIES_LIMIT:
                rows.append((f"Headline: {key}", f"{len(items) - SUMMARY_ENTRIES_LIMIT} more (see Accounts)"))
        elif isinstance(value, list):
            rows.append((f"Headline: {key}", ", ".join(text(v) for v in value)))
        elif isinstance(value, int) and not isinstance(value, bool):
            rows.append((f"Headline: {key}", value))
        else:
            rows.append((f"Headline: {key}", text(value)))
    return rows


def text(value: Any) -> str:
    """A cell's value as text: NA and None become empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


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


def _control_matrix(results: Results) -> list[dict[str, Any]]:
    """Per framework, one row per control: the organization result and the per-account tally.

    Vectorised: a large organization evaluated against many frameworks has close to a million
    per-account results, of which only the findings are named here.
    """
    cr = results.control_results
    keys = ["framework", "version", "control_id"]
    by_fw: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

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
            tally = ", ".join(f"{n} {s}" for s, n in sorted(ctl["counts"].items(), key=_tally_key))
            evidence = []
            for s in ("FAIL", "NOT_ASSESSED", "MANUAL"):
                ids = ctl["listed"].get(s, [])
                if ids:
                    shown = ", ".join(ids[:ACCOUNTS_PER_CONTROL])
                    more = (
                        f" and {len(ids) - ACCOUNTS_PER_CONTROL} more"
                        if len(ids) > ACCOUNTS_PER_CONTROL
                        else ""
                    )
                    evidence.append(f"{s}: {shown}{more}")
            if ctl["accepted"]:
                evidence.append(
                    "FAIL accepted by exception: " + ", ".join(ctl["accepted"][:ACCOUNTS_PER_CONTROL])
                )
            rows.append(
                {
                    "control_id": ctl["control_id"],
                    "title": shorten(ctl["title"], TITLE_CHARS),
                    "status": status,
                    "accepted": accepted,
                    "scope": scope,
                    "basis": shorten(ctl["basis"], BASIS_CHARS),
                    "rationale": shorten(ctl["rationale"], RATIONALE_CHARS),
                    "tally": tally,
                    "evidence": evidence,
                    # A roll-up of account results is shown by its tally and the accounts named (its
                    # rationale says the same at length); an organization-scoped control by its rationale.
                    "rolled_up": bool(ctl["counts"]),
                    "exception_id": org["exception_id"] if org else "",
                }
            )
        matrices.append(
            {
                "framework": framework,
                "version": version,
                "controls": rows,
                "status_counts": Counter(
                    r["status"] + (" (accepted)" if r["accepted"] else "") for r in rows
                ),
            }
        )
    return matrices


def control_sort_key(control_id: str) -> tuple:
    return tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in control_id.replace("-", ".").split(".")
    )


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
            }
        )
    return out


def _limited(rows: list[dict[str, str]], limit: int = LIST_LIMIT) -> tuple[list[dict[str, str]], int]:
    return rows[:limit], max(0, len(rows) - limit)


def build_report(snapshot: Snapshot, results: Results, digest: str | None = None) -> dict[str, Any]:
    """Everything the report shows, as plain data. `digest`: the snapshot's, when the caller has it."""
    meta = meta_of(snapshot)
    table = records(account_table(snapshot))
    members = [r for r in table if r.get("is_management") != "true"]
    management = [r for r in table if r.get("is_management") == "true"]
    # Every member is in the chart, whatever its state: its "Not assessed" bar is the headline's count
    # (a member that is not ACTIVE was not read, so it is not assessed).
    counts = Counter(r["posture"] for r in members)
    total = len(members) or 1
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
    for it in items:
        items_by_acct.setdefault(it["account_id"], []).append(it)
    findings = [
        dict(r, items=items_by_acct.get(r["account_id"], []))
        for r in members
        if r["posture"] in ("active_credentials", "other_residue")
    ]
    not_assessed = [r for r in table if r["posture"] == "not_assessed"]
    limited = [r for r in members if r["posture"] == "limited"]

    states = Counter(r.get("state") or "unknown" for r in members)
    listed = len(table)
    assessed = sum(1 for r in table if r["posture"] != "not_assessed")
    population = {
        "listed": listed,
        "members": len(members),
        "management": len(management),
        "assessed": assessed,
        "not_assessed": len(not_assessed),
        "reconciles": listed == assessed + len(not_assessed),
        "states": dict(sorted(states.items())),
        "methods": dict(sorted(Counter(r.get("method") or "none" for r in table).items())),
    }

    sources = records(snapshot["sources"])
    totals = [s for s in sources if s["item"] == "*"]
    source_totals = source_summary(totals)
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

    sessions = records(
        results.privileged_sessions if len(results.privileged_sessions) else snapshot["privileged_sessions"]
    )
    names = {r["account_id"]: r.get("name", "") for r in table}
    for s in sessions:
        s["target_name"] = names.get(s["target_account"], "")
    callers: dict[str, list[dict[str, str]]] = {}
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

    calls = snapshot["api_calls"]
    call_summary = (
        calls.groupby(["service", "operation", "outcome"], dropna=False).size().reset_index(name="calls")
        if len(calls)
        else pd.DataFrame(columns=["service", "operation", "outcome", "calls"])
    )
    call_rows = records(call_summary)

    org_rows = records(snapshot["organization"])
    headline = dict(results.headline)
    headline_rows = headline_counts(headline)
    management_status = headline.get("management_account")
    exceptions = records(results.exceptions)
    return {
        "meta": meta,
        "snapshot_digest": digest or snapshot.digest(),
        "headline": headline,
        "headline_rows": headline_rows,
        "claim": text(headline.get("claim")),
        "claim_made": claim_made(headline),
        "management_status": management_status if isinstance(management_status, dict) else {},
        "chart": chart,
        "population": population,
        "source_totals": source_totals,
        "source_problems": source_problems_shown,
        "source_problems_more": source_problems_more,
        "sources_count": len(sources),
        "organization": org_rows[0] if org_rows else None,
        "management": management,
        "matrices": _control_matrix(results),
        "frameworks": results.frameworks,
        "findings": findings,
        "not_assessed": not_assessed,
        "limited_count": len(limited),
        "clean_count": counts.get("clean", 0),
        "sessions": sessions,
        "session_groups": session_groups,
        "session_count": len(sessions),
        "session_activity_count": len(session_activity),
        "activity": other_shown,
        "activity_more": other_more,
        "activity_kinds": dict(sorted(Counter(a["kind"] for a in activity).items())),
        "monitoring": monitoring_shown,
        "monitoring_more": monitoring_more,
        "monitoring_count": len(monitoring),
        "exceptions": exceptions,
        "exceptions_by_status": dict(sorted(Counter(e["status"] for e in exceptions).items())),
        "api_calls": call_rows,
        "api_call_count": len(calls),
        "api_errors": int((calls["outcome"] == "error").sum()) if len(calls) else 0,
        "inputs": sorted(results.inputs),
    }
