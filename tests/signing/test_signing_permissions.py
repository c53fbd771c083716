"""docs/permissions.md's "Signing the snapshot" table, the signer's and verifier's allowlists and the
policy files in policies/ agree: every KMS operation the allowlists name is in the table and granted
to its holder, and nothing more."""

from __future__ import annotations

from pathlib import Path

from rootaudit.signing.allowlist import OPERATIONS, signing, verifying
from tests.support.permissions import actions_of, policy

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "permissions.md"


def signing_table() -> list[dict[str, str]]:
    text = DOC.read_text(encoding="utf-8").split("## Signing the snapshot", 1)[1]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("operation", "---"):
            rows.append(dict(zip(("operation", "action", "granted", "why"), cells, strict=True)))
    return rows


def granted(who: str) -> set[str]:
    return {r["action"] for r in signing_table() if who in [g.strip() for g in r["granted"].split(",")]}


def test_the_table_lists_exactly_the_signing_allowlists() -> None:
    rows = signing_table()
    assert {("kms", r["operation"]) for r in rows} == set(OPERATIONS)
    assert all(r["action"] == f"kms:{r['operation']}" and r["why"] for r in rows)
    assert {f"kms:{op}" for _, op in signing("k").operations} == granted("signer")
    assert {f"kms:{op}" for _, op in verifying("k").operations} == granted("verifier")


def test_the_policies_grant_exactly_what_the_table_gives_each_holder() -> None:
    assert actions_of(policy("signer-policy.json")) == granted("signer")
    assert actions_of(policy("verifier-policy.json")) == granted("verifier")


def test_sign_is_granted_only_for_digests() -> None:
    doc = policy("signer-policy.json")
    [sign] = [s for s in doc["Statement"] if s["Action"] == "kms:Sign"]
    assert sign["Condition"] == {"StringEquals": {"kms:MessageType": "DIGEST"}}
    assert all(s["Effect"] == "Allow" and s["Resource"].startswith("arn:aws:kms:") for s in doc["Statement"])
