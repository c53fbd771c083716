"""The plan, made from hand-built snapshots (no AWS): who is in which phase, who is left out and why,
which calls remove which credential, the prerequisites in AWS's order, and the plan file's integrity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootaudit import resources
from rootaudit.controls.exceptions import parse_exceptions
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.remediate.plan import (
    EXCEPTION,
    MANAGEMENT,
    NO_ROOT_SESSION,
    NOT_ACTIVE,
    NOT_ASSESSED,
    USED,
    PlanError,
    load_plan,
    make_plan,
)
from tests.remediate.conftest import ACCOUNTS, COLLECTED_AT, build_snapshot

DELETE_TASK = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
FRAMEWORKS = parse_frameworks(read_mapping_files([resources.mappings_dir()]))


def _exceptions(text: str) -> list:
    from datetime import datetime

    return parse_exceptions(text.encode(), "exceptions.yaml",
                            datetime.fromisoformat(COLLECTED_AT.replace("Z", "+00:00")))


def test_every_account_is_in_exactly_one_place_with_its_reason() -> None:
    plan = make_plan(build_snapshot(), frameworks=FRAMEWORKS)
    phased = {a["account_id"]: a["ou_path"] for a in plan.accounts()}
    left = {a["account_id"]: a["code"] for a in plan.data["left_out"]}
    clean = {a["account_id"] for a in plan.data["already_clean"]}
    assert not (set(phased) & set(left)) and not (set(phased) & clean) and not (set(left) & clean)
    assert set(phased) | set(left) | clean == set(ACCOUNTS)
    assert left == {
        "111111111100": MANAGEMENT,  # even though it holds a password and MFA
        "111111111105": USED,  # its active key was used in the period
        "111111111106": USED,  # a successful root console sign-in in the period
        "111111111107": NOT_ACTIVE,
        "111111111108": NOT_ASSESSED,
        "111111111109": NO_ROOT_SESSION,  # the credential report names no credential ids
    }
    assert clean == {"111111111101"}
    # A failed sign-in is not use; a root session (AssumeRoot) is not the owner's use either.
    assert phased == {"111111111102": "Root/Prod", "111111111103": "Root/Prod",
                      "111111111104": "Root/Prod/Payments", "111111111110": "Root/NonProd"}
    reasons = {a["account_id"]: a["reason"] for a in plan.data["left_out"]}
    assert "cannot be managed centrally" in reasons["111111111100"]
    assert "AKIAUSEDKEY000000001" in reasons["111111111105"] and "signs off" in reasons["111111111105"]
    assert "evt-console-1" in reasons["111111111106"]
    assert "SUSPENDED" in reasons["111111111107"]
    assert "AccessDenied" in reasons["111111111108"]
    assert "credential_report" in reasons["111111111109"]


def test_phases_are_exact_ous_and_name_every_credential_with_its_call() -> None:
    plan = make_plan(build_snapshot(), frameworks=FRAMEWORKS)
    assert [p["ou_path"] for p in plan.phases()] == ["Root/NonProd", "Root/Prod", "Root/Prod/Payments"]
    account = plan.account("111111111102")
    assert account is not None
    ops = [(c["operation"], c["params"]) for c in account["calls"]]
    # AssumeRoot with the delete task first; the password before the MFA device.
    assert ops == [
        ("AssumeRoot", {"TargetPrincipal": "111111111102", "DurationSeconds": 900,
                        "TaskPolicyArn": {"arn": DELETE_TASK}}),
        ("DeleteLoginProfile", {}),
        ("DeactivateMFADevice", {"SerialNumber": "arn:aws:iam::111111111102:mfa/root-account-mfa-device"}),
    ]
    two = plan.account("111111111110")
    assert two is not None
    assert [c["params"] for c in two["calls"][1:]] == [{"AccessKeyId": "AKIATWOKEYS000000001"},
                                                        {"AccessKeyId": "AKIATWOKEYS000000002"}]
    cert = plan.account("111111111104")
    assert cert is not None and cert["calls"][1] == {
        "service": "iam", "operation": "DeleteSigningCertificate",
        "params": {"CertificateId": "CERT0000000000000000000000000001"}}
    for entry in plan.accounts():
        assert all("UserName" not in c["params"] for c in entry["calls"])
        assert entry["credentials"] and len(entry["state_digest"]) == 64
        script = "\n".join(entry["cli"])
        assert "delete-root-user-credential" not in script and "--user-name" not in script
        assert f"--task-policy-arn arn={DELETE_TASK}" in script
        assert "--region eu-west-1" in script  # the snapshot's home region, for the regional STS endpoint


def test_the_credentials_row_counts_as_evidence_of_use_too() -> None:
    # The row says the password was used in the period, though its item does not: the account waits.
    snapshot = build_snapshot(credentials={"111111111102": {"password_last_used": "2026-09-02T10:00:00Z"}})
    plan = make_plan(snapshot, frameworks=FRAMEWORKS)
    left = {a["account_id"]: a for a in plan.data["left_out"]}
    assert left["111111111102"]["code"] == USED
    assert "root_credentials.password_last_used" in left["111111111102"]["reason"]


def test_signed_off_accounts_join_their_phase_and_the_plan_says_who_signed() -> None:
    plan = make_plan(build_snapshot(), frameworks=FRAMEWORKS,
                     signed_off={"111111111105": "CHG-77 (owner ok)"})
    entry = plan.account("111111111105")
    assert entry is not None and entry["signed_off"] == "CHG-77 (owner ok)"
    assert plan.data["inputs"]["signed_off"] == {"111111111105": "CHG-77 (owner ok)"}
    # A sign-off for an account that was not used changes nothing about it.
    other = make_plan(build_snapshot(), frameworks=FRAMEWORKS, signed_off={"111111111103": "CHG-1"})
    assert other.account("111111111103")["signed_off"] is None  # type: ignore[index]


EXCEPTIONS = """
exceptions:
  - {id: E-ALL, account: "111111111102", reason: r, owner: o, approver: a, ticket: T1, expires: 2027-01-01}
  - {id: E-KEY, account: "111111111103", control: "cis-aws-7.0.0:2.4", reason: r, owner: o, approver: a,
     ticket: T2, expires: 2027-01-01}
  - {id: E-CONTACT, account: "111111111104", control: "cis-aws-7.0.0:2.2", reason: r, owner: o, approver: a,
     ticket: T3, expires: 2027-01-01}
  - {id: E-UNKNOWN, account: "111111111110", control: "my-framework:9.9", reason: r, owner: o, approver: a,
     ticket: T4, expires: 2027-01-01}
  - {id: E-EVERYONE, control: "cis-aws-7.0.0:2.6", reason: r, owner: o, approver: a, ticket: T5,
     expires: 2027-01-01}
  - {id: E-EXPIRED, account: "111111111104", reason: r, owner: o, approver: a, ticket: T6,
     expires: 2026-09-01}
"""


def test_exceptions_naming_an_account_hold_it_back_others_do_not() -> None:
    plan = make_plan(build_snapshot(), _exceptions(EXCEPTIONS), frameworks=FRAMEWORKS)
    left = {a["account_id"]: a for a in plan.data["left_out"]}
    assert left["111111111102"]["code"] == EXCEPTION and "E-ALL" in left["111111111102"]["reason"]
    assert left["111111111103"]["code"] == EXCEPTION and "E-KEY" in left["111111111103"]["reason"]
    # A control rootaudit's mappings do not know: when in doubt, the account is left alone.
    assert left["111111111110"]["code"] == EXCEPTION and "E-UNKNOWN" in left["111111111110"]["reason"]
    # Security contact only, an org-wide posture acceptance, and an expired one: no hold.
    assert plan.account("111111111104") is not None


def test_prerequisites_in_aws_order_with_state_and_commands() -> None:
    plan = make_plan(build_snapshot(organization={
        "feature_set": "ALL", "iam_trusted_access": False, "root_credentials_management": None,
        "root_sessions": None, "features_status": "not_assessed",
        "features_reason": "ServiceAccessNotEnabledException"}), frameworks=FRAMEWORKS)
    steps = plan.data["prerequisites"]
    assert [s["id"] for s in steps] == ["all_features", "iam_trusted_access", "root_credentials_management",
                                        "root_sessions", "delegated_administrator"]
    assert [s["state"] for s in steps] == ["done", "missing", "unknown", "unknown", "missing"]
    assert "ServiceAccessNotEnabledException" in steps[2]["evidence"]
    assert [s["cli"] for s in steps] == [
        "aws organizations enable-all-features",
        "aws organizations enable-aws-service-access --service-principal iam.amazonaws.com",
        "aws iam enable-organizations-root-credentials-management",
        "aws iam enable-organizations-root-sessions",
        "aws organizations register-delegated-administrator --account-id ACCOUNT_ID "
        "--service-principal iam.amazonaws.com"]
    assert [s["by_remediate"] for s in steps] == [False, True, True, True, False]
    assert plan.summary()["prerequisites_missing"] == ["iam_trusted_access", "root_credentials_management",
                                                       "root_sessions", "delegated_administrator"]


def test_the_plan_records_its_snapshot_and_is_deterministic(tmp_path: Path) -> None:
    snapshot = build_snapshot()
    one, two = make_plan(snapshot, frameworks=FRAMEWORKS), make_plan(build_snapshot(), frameworks=FRAMEWORKS)
    assert one.to_json() == two.to_json()
    assert one.data["snapshot"]["digest"] == snapshot.digest()
    assert one.data["snapshot"]["collected_at"] == COLLECTED_AT
    entry = one.account("111111111103")
    assert entry is not None and entry["credentials"] == [
        {"kind": "access_key", "id": "AKIAOLDKEY0000000001", "status": "Inactive",
         "created_at": "2024-01-15T10:00:00Z", "last_used_at": "2025-01-01T00:00:00Z"}]
    path = tmp_path / "plan.json"
    path.write_bytes(one.to_json())
    assert load_plan(path).data == one.data


def test_a_changed_or_foreign_plan_file_is_refused(tmp_path: Path) -> None:
    plan = make_plan(build_snapshot(), frameworks=FRAMEWORKS)
    data = json.loads(plan.to_json())
    data["phases"][0]["accounts"][0]["credentials"].append(
        {"kind": "access_key", "id": "AKIAADDEDBYHAND00001", "status": "Active", "created_at": None,
         "last_used_at": None})
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="changed after it was made"):
        load_plan(edited)
    markdown = tmp_path / "plan.md"
    markdown.write_text("# Root credential removal plan\n")
    with pytest.raises(PlanError, match="not a JSON plan"):
        load_plan(markdown)
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(PlanError, match="not a rootaudit remediation plan"):
        load_plan(other)
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path / "missing.json")
