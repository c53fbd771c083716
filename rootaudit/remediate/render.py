"""A plan as a person reads it (Markdown), as a sheet (CSV), and the calls a run would make.

The JSON plan (`Plan.to_json`) is the plan itself, the file `remediate --plan` reads; these are views.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rootaudit.remediate.calls import CREDENTIAL_ORDER, Call
from rootaudit.remediate.plan import Plan
from rootaudit.remediate.state import describe

FORMATS = ("markdown", "csv", "json")
CSV_COLUMNS = ("section", "phase", "account_id", "account_name", "ou_path", "kind", "credential_id",
               "status", "created_at", "last_used_at", "operation", "cli", "reason", "state_digest")


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def plan_markdown(plan: Plan) -> str:
    d = plan.data
    snap = d["snapshot"]
    summary = plan.summary()
    out = [f"# Root credential removal plan: {d['organization_id']}", "",
           f"Made by rootaudit {d['tool_version']} from snapshot `{snap['digest']}` (collected "
           f"{snap['collected_at']}, period {(snap.get('period') or {}).get('label', '?')}, caller "
           f"{snap.get('caller_arn') or '?'}). Plan digest `{d['plan_digest']}`.", "",
           f"{summary['credentials_to_remove']} root credential(s) to remove from "
           f"{summary['accounts_to_clean']} account(s) in {len(summary['phases'])} phase(s); "
           f"{summary['left_out']} account(s) left out; {summary['already_clean']} already clean.", ""]
    if d["inputs"].get("exceptions"):
        ex = d["inputs"]["exceptions"]
        out += [f"Risk acceptances read from `{ex['file']}` (SHA-256 `{ex['sha256']}`).", ""]
    out += ["## 1. Prerequisites, in this order", ""]
    out += _table(["#", "step", "state", "evidence", "command"],
                  [(n, p["title"], p["state"], p["evidence"], f"`{p['cli']}`")
                   for n, p in enumerate(d["prerequisites"], start=1)])
    out += [""] + [f"- {p['title']}: {p['note']}" for p in d["prerequisites"] if p["note"]]
    out += ["", "`rootaudit remediate --plan PLAN --enable-features --apply` makes the calls marked for it "
            "(trusted access, RootCredentialsManagement, RootSessions) that are still missing, in this "
            "order; all-features mode and the delegated administrator are decisions rootaudit leaves to you.",
            "", "## 2. Phases, one OU each", "",
            "A change board approves one phase at a time: `rootaudit remediate --plan PLAN --phase OU` shows "
            "the calls, and the same with `--apply` makes them, one account at a time, after re-reading "
            "each account's root credentials: an account whose state differs from the one below is skipped.",
            ""]
    if not d["phases"]:
        out += ["No account has root credentials that can be removed from this snapshot.", ""]
    for phase in d["phases"]:
        count = sum(len(a["credentials"]) for a in phase["accounts"])
        out += [f"### Phase {phase['ou_path']}: {len(phase['accounts'])} account(s), {count} credential(s)",
                ""]
        for account in phase["accounts"]:
            out += [f"#### {account['account_id']} {account['name']}", ""]
            if account.get("signed_off"):
                out += [f"Root was used recently; its owner signed off: {account['signed_off']}.", ""]
            calls = [Call(**c) for c in account["calls"][1:]]
            out += _table(["credential", "id", "status", "created", "last used", "removed by"],
                          [(c["kind"], c["id"], c["status"], c["created_at"], c["last_used_at"],
                            f"`{call.operation}`") for c, call in zip(_ordered(account), calls, strict=True)])
            out += ["", f"State digest `{account['state_digest']}`.", "", "AWS CLI (bash):", "", "```bash",
                    *account["cli"], "```", "", "boto3:", "", "```python", account["boto3"].rstrip(), "```",
                    ""]
    out += ["## 3. Left out", ""]
    out += _table(["account", "name", "OU", "why"],
                  [(a["account_id"], a["name"], a["ou_path"], a["reason"]) for a in d["left_out"]])
    out.append("")
    out += ["## 4. Already clean (no root credential in the snapshot)", ""]
    out += _table(["account", "name", "OU"],
                  [(a["account_id"], a["name"], a["ou_path"]) for a in d["already_clean"]])
    out.append("")
    return "\n".join(out)


def _ordered(account: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The account's credentials in the order its calls remove them."""
    return sorted(account["credentials"], key=lambda c: (CREDENTIAL_ORDER.index(c["kind"]), c["id"]))


def plan_csv(plan: Plan) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for p in plan.data["prerequisites"]:
        writer.writerow({"section": "prerequisite", "kind": p["id"], "status": p["state"],
                         "operation": p["call"]["operation"], "cli": p["cli"], "reason": p["evidence"]})
    for phase in plan.data["phases"]:
        for account in phase["accounts"]:
            calls = [Call(**c) for c in account["calls"][1:]]
            for credential, call in zip(_ordered(account), calls, strict=True):
                writer.writerow({"section": "remove", "phase": phase["ou_path"],
                                 "account_id": account["account_id"], "account_name": account["name"],
                                 "ou_path": account["ou_path"], "kind": credential["kind"],
                                 "credential_id": credential["id"], "status": credential["status"],
                                 "created_at": credential["created_at"],
                                 "last_used_at": credential["last_used_at"], "operation": call.operation,
                                 "cli": call.cli(), "reason": account.get("signed_off") or "",
                                 "state_digest": account["state_digest"]})
    for section, rows in (("left_out", plan.data["left_out"]), ("already_clean", plan.data["already_clean"])):
        for a in rows:
            writer.writerow({"section": section, "account_id": a["account_id"], "account_name": a["name"],
                             "ou_path": a["ou_path"], "reason": a.get("reason", "")})
    return buf.getvalue()


def render_plan(plan: Plan, fmt: str) -> bytes:
    if fmt == "json":
        return plan.to_json()
    if fmt == "csv":
        return plan_csv(plan).encode("utf-8")
    if fmt == "markdown":
        return plan_markdown(plan).encode("utf-8")
    raise ValueError(f"unknown plan format {fmt!r} (one of {', '.join(FORMATS)})")


def dry_run_lines(plan: Plan, accounts: Sequence[Mapping[str, Any]]) -> list[str]:
    """What `remediate --apply` would do for these accounts, call by call, in order."""
    out = []
    for account in accounts:
        out.append(f"{account['account_id']} {account['name']} ({account['ou_path']}): "
                   + ", ".join(describe(c) for c in _ordered(account)))
        out.append("  read    a root session with IAMAuditRootUserCredentials: compare with the plan's "
                   f"state ({account['state_digest'][:12]}…); skip the account if it changed")
        out += [f"  change  {Call(**c).cli()}" for c in account["calls"]]
        out.append("  read    a root session with IAMAuditRootUserCredentials again: the state after")
    return out


def features_dry_run_lines(plan: Plan) -> list[str]:
    """What `remediate --enable-features --apply` would do, as the snapshot saw the organization."""
    steps = [p for p in plan.data["prerequisites"] if p["by_remediate"]]
    out = ["  read    the organization's feature set, IAM trusted access and features now: only what is "
           "still missing is enabled"]
    for step in steps:
        mark = "change" if step["state"] != "done" else "skip  "
        out.append(f"  {mark}  {step['cli']}  ({step['title']}: {step['state']} in the snapshot)")
    out.append("  read    the same again: the state after, for the record")
    return out
