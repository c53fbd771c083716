"""Drift and diff on root records shaped exactly as AWS documents them (tests/fixtures/aws/, sources named
there): AWS's root console sign-in and its EnableMFADevice record from the console session, classified by
the project's own classifier, not made by the simulator."""

from __future__ import annotations

from typing import Any

from rootaudit.collectors.cloudtrail.classify import activity_row
from rootaudit.controls.results import Results
from rootaudit.history.diff import diff_packs
from rootaudit.history.drift import period_drift
from rootaudit.history.record import ledger_of, record_of
from rootaudit.snapshot import Snapshot, make_frame
from tests.support.aws_documents import example
from tests.support.sample import NO_ROOT_CREDENTIALS

SIGN_IN = "cloudtrail-sign-in-root.json"
MEMBER = "111122223333"  # the account of AWS's sign-in examples
MANAGEMENT = "999988887777"


def snapshot(mfa: bool, activity: list[dict[str, Any]]) -> Snapshot:
    accounts = [
        {
            "account_id": a,
            "name": n,
            "state": "ACTIVE",
            "joined_method": "CREATED",
            "ou_path": "Root",
            "is_management": a == MANAGEMENT,
            "is_delegated_admin": False,
            "listed_by": "list_accounts,ou_walk",
        }
        for a, n in ((MANAGEMENT, "management"), (MEMBER, "member"))
    ]
    creds = [{"account_id": a, **NO_ROOT_CREDENTIALS} for a in (MANAGEMENT, MEMBER)]
    items = []
    if mfa:
        creds[1].update(mfa_devices=1, mfa_kind="virtual")
        items.append(
            {
                "account_id": MEMBER,
                "kind": "mfa_device",
                "status": "present",
                "id": f"arn:aws:iam::{MEMBER}:mfa/root-account-mfa-device",
            }
        )
    return Snapshot(
        meta={
            "organization_id": "o-exampleorgid",
            "management_account_id": MANAGEMENT,
            "period": {"label": "2022-Q4", "start": "2022-10-01T00:00:00Z", "end": "2023-01-01T00:00:00Z"},
            "collected_at": "2023-01-02T08:00:00Z",
        },
        frames={
            "accounts": make_frame("accounts", accounts),
            "root_credentials": make_frame("root_credentials", creds),
            "root_credential_items": make_frame("root_credential_items", items),
            "organization": make_frame(
                "organization", [{"organization_id": "o-exampleorgid", "management_account_id": MANAGEMENT}]
            ),
            "root_activity": make_frame("root_activity", activity),
        },
    )


def documented_activity() -> list[dict[str, Any]]:
    return [
        activity_row(example(SIGN_IN, key), "test") for key in ("root_success_with_mfa", "root_mfa_changed")
    ]


def test_a_documented_root_mfa_change_is_in_the_period_timeline() -> None:
    [drift] = period_drift(snapshot(True, documented_activity()))
    assert drift.account_id == MEMBER
    [event] = drift.events
    assert (event.event_name, event.kind, event.change, event.success, event.how) == (
        "EnableMFADevice",
        "mfa_device",
        "created",
        True,
        "other",
    )
    assert "by root" in event.text()
    # an MFA device is not one of the credentials that make an account not clean
    assert drift.at_collection == "clean" and not drift.not_clean_throughout


def test_the_diff_names_the_documented_root_sign_in_behind_the_new_mfa_device() -> None:
    empty = Results()
    before = record_of(snapshot(False, []), empty.control_results, empty.exceptions)
    after_snapshot = snapshot(True, documented_activity())
    after = record_of(after_snapshot, empty.control_results, empty.exceptions)
    [change] = diff_packs(before, after, ledger_of(after_snapshot)).credentials
    assert (change.account_id, change.kind, change.change) == (MEMBER, "mfa_device", "appeared")
    [actor] = change.by
    login = example(SIGN_IN, "root_success_with_mfa")
    assert (actor.kind, actor.event_id, actor.action) == ("root_sign_in", login["eventID"], "EnableMFADevice")
