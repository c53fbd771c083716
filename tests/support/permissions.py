"""docs/permissions.md's table (service, operation, IAM action, who holds it, why) and the policy files
in policies/, for the tests that keep them and the code in step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "permissions.md"
POLICIES = ROOT / "policies"
AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
# What IAMAuditRootUserCredentials leaves usable inside a root session (nothing to grant).
TASK_POLICY_READS = {"iam:GetAccountSummary", "iam:GetLoginProfile", "iam:GetUser",
                     "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:ListMFADevices",
                     "iam:ListSigningCertificates"}


def table_rows() -> list[dict[str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and line.startswith("|") and cells[0] not in ("service", "---"):
            rows.append(dict(zip(("service", "operation", "action", "granted", "why"), cells, strict=True)))
    return rows


def granted_to(who: str) -> set[str]:
    return {r["action"] for r in table_rows() if who in [g.strip() for g in r["granted"].split(",")]}


def action_of(service: str, operation: str) -> str:
    return next(r["action"] for r in table_rows() if (r["service"], r["operation"]) == (service, operation))


def policy(name: str) -> dict[str, Any]:
    return json.loads((POLICIES / name).read_text(encoding="utf-8"))


def actions_of(document: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        out.update([action] if isinstance(action, str) else action)
    return out
