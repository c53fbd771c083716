"""The classifier on records shaped exactly as AWS documents them (tests/fixtures/aws/, sources named there).

Nothing here reads the simulator's output. Where AWS documents no example of a case (a member-side
AssumeRoot action, a root call with a long-term key, a root CredentialVerification), the test starts from a
documented record and changes only the fields it names.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from rootaudit.collectors.cloudtrail.classify import (
    FLAG_CONSOLE_SESSION,
    FLAG_NO_ASSUME_ROOT,
    activity_row,
    build_findings,
    is_relevant,
    ledger_row,
    missing_fields,
    outcome,
)
from rootaudit.collectors.cloudtrail.scan import scan_bytes
from rootaudit.controls.signals import (
    FAIL,
    PASS,
    assumeroot_accounted,
    no_root_api_calls,
    no_root_console_login,
)
from rootaudit.period import Period
from tests.support.aws_documents import example, examples

SIGN_IN = "cloudtrail-sign-in-root.json"
ACCOUNT = "111122223333"  # the account of AWS's sign-in examples
COVERED = (True, "test: the period is covered")
PERIOD = Period(label="all", start=datetime(2014, 1, 1, tzinfo=UTC), end=datetime(2030, 1, 1, tzinfo=UTC))


def row(record: dict[str, Any]) -> dict[str, Any]:
    assert is_relevant(record) and not missing_fields(record)
    return activity_row(record, "test")


def documented_assume_root(**changes: Any) -> dict[str, Any]:
    """AWS's AssumeRoot example, given the eventID its abridged print omits (every delivered record has
    one: CloudTrail record contents), and any request parameter the test names."""
    record = example("iam-assume-root.json", "management_account_assume_root")
    record["eventID"] = "example-assume-root"
    record["requestParameters"].update(changes)
    return record


def member_action(key: str, **identity: Any) -> dict[str, Any]:
    """The member-side action of a root session: AWS's documented root EnableMFADevice record, moved to
    the AssumeRoot example's member account and key (AWS prints no member-side record)."""
    record = example(SIGN_IN, "root_mfa_changed")
    record["userIdentity"].update(accountId="222222222222", arn="arn:aws:iam::222222222222:root",
                                  accessKeyId=key, **identity)
    record["recipientAccountId"] = "222222222222"
    record["eventTime"] = "2024-10-25T20:55:00Z"
    return record


# --- console sign-in events --------------------------------------------------------------------------

def test_root_console_login_success_without_mfa() -> None:
    r = row(example(SIGN_IN, "root_success_without_mfa"))
    assert (r["kind"], r["success"], r["mfa_used"], r["error_code"]) == ("console_login", True, False, "")
    assert r["account_id"] == ACCOUNT and r["region"] == "us-east-1"


def test_root_console_login_with_mfa_written_in_capitals() -> None:
    record = example(SIGN_IN, "root_success_with_mfa")
    assert record["additionalEventData"]["MFAUsed"] == "YES"  # as AWS prints it
    assert row(record)["mfa_used"] is True


@pytest.mark.parametrize(("written", "read"), [("Yes", True), ("YES", True), ("No", False), ("NO", False),
                                               ("maybe", None)])
def test_mfa_used_is_compared_as_aws_writes_it(written: str, read: bool | None) -> None:
    record = example(SIGN_IN, "root_success_without_mfa")
    record["additionalEventData"]["MFAUsed"] = written
    assert row(record)["mfa_used"] is read


def test_root_console_login_failure_is_a_failed_attempt_not_use() -> None:
    record = example(SIGN_IN, "root_failure")
    assert "errorCode" not in record  # AWS writes only errorMessage for a failed sign-in
    r = row(record)
    assert (r["kind"], r["success"], r["error_code"]) == ("console_login", False, "Failed authentication")
    signal = no_root_console_login(ACCOUNT, [r], {}, COVERED)
    assert signal.value == PASS and "1 failed root sign-in attempt" in signal.evidence


def test_password_updated_is_successful_root_use_and_fails_the_control() -> None:
    # The documented record has no responseElements.ConsoleLogin: reading that field alone made this
    # successful root action a "failed sign-in", and NO_ROOT_CONSOLE_LOGIN passed.
    record = example(SIGN_IN, "root_password_changed")
    assert record["responseElements"] == {"PasswordUpdated": "Success"}
    r = row(record)
    assert (r["kind"], r["success"], r["error_code"]) == ("console_login", True, "")
    signal = no_root_console_login(ACCOUNT, [r], {}, COVERED)
    assert signal.value == FAIL and "PasswordUpdated" in signal.evidence


def test_check_mfa_reads_its_own_outcome_field() -> None:
    record = example("cloudtrail-sign-in-iam-user.json", "iam_user_check_mfa")
    assert not is_relevant(record)  # an IAM user's sign-in is not root activity
    assert outcome(record) == (True, "")
    record["responseElements"]["CheckMfa"] = "Failure"
    assert outcome(record) == (False, "Failure")


def test_root_check_mfa_is_root_use() -> None:
    record = example("cloudtrail-sign-in-iam-user.json", "iam_user_check_mfa")
    record["userIdentity"] = example(SIGN_IN, "root_success_without_mfa")["userIdentity"]  # as documented
    r = row(record)
    assert (r["kind"], r["success"]) == ("console_login", True)
    assert no_root_console_login(ACCOUNT, [r], {}, COVERED).value == FAIL


@pytest.mark.parametrize(("verdict", "success"), [("Success", True), ("Failure", False)])
def test_credential_verification_outcome_in_service_event_details(verdict: str, success: bool) -> None:
    # AWS documents CredentialChallenge / CredentialVerification (IAM Identity Center sign-in events) with
    # the verdict under serviceEventDetails; here on the documented root sign-in record.
    record = example(SIGN_IN, "root_password_changed")
    record.update(eventName="CredentialVerification", responseElements=None,
                  serviceEventDetails={"CredentialVerification": verdict})
    r = row(record)
    assert (r["kind"], r["success"]) == ("console_login", success)
    assert no_root_console_login(ACCOUNT, [r], {}, COVERED).value == (FAIL if success else PASS)


def test_an_outcome_not_recognised_is_unknown_not_a_failure() -> None:
    record = example(SIGN_IN, "root_password_changed")
    record["responseElements"] = {"PasswordUpdated": "Pending"}
    r = row(record)
    assert r["success"] is None and r["error_code"] == ""
    assert "outcome not recognised" in r["basis"] and "Pending" in r["basis"]
    assert no_root_console_login(ACCOUNT, [r], {}, COVERED).value == FAIL  # unknown is never "refused"


def test_an_unknown_sign_in_event_is_kept_as_root_use() -> None:
    record = example(SIGN_IN, "root_password_changed")
    record.update(eventName="SomeFutureSignInStep", responseElements=None)
    r = row(record)
    assert (r["kind"], r["success"]) == ("console_login", True)


# --- calls made as root ------------------------------------------------------------------------------

def test_console_session_call_without_marker_is_other_root_activity_with_its_basis() -> None:
    record = example(SIGN_IN, "root_mfa_changed")  # key "EXAMPLE", a session context, no marker
    r = row(record)
    assert (r["kind"], r["success"]) == ("other", True)
    assert "credentials of unknown kind (EXAMPLE)" in r["flag"]
    assert "Coral/Netty4" in r["basis"] and "no invokedBy" in r["basis"]
    assert no_root_api_calls(ACCOUNT, [r], {}, COVERED).value == FAIL


def test_an_unknown_root_event_is_kept_never_dropped_or_read_as_a_failure() -> None:
    record = example(SIGN_IN, "root_mfa_changed")
    record["eventName"] = "SomeFutureApi"
    found = build_findings([(record, "test")], PERIOD)
    assert [(a["event_name"], a["kind"], a["success"]) for a in found.activity] == [
        ("SomeFutureApi", "other", True)]


def test_session_credential_from_console_is_a_top_level_field() -> None:
    documented = example("cloudtrail-log-event-reference.json", "iam_user_console_session_call")
    assert documented["sessionCredentialFromConsole"] == "true"
    assert "sessionCredentialFromConsole" not in documented["userIdentity"]
    # A root console session calls with a temporary ASIA key: the marker, not the key, decides.
    record = member_action("ASIAIOSFODNN7EXAMPLE")
    record["sessionCredentialFromConsole"] = documented["sessionCredentialFromConsole"]
    r = row(record)
    assert (r["kind"], r["flag"]) == ("other", FLAG_CONSOLE_SESSION)
    assert "sessionCredentialFromConsole" in r["basis"]
    assert no_root_api_calls("222222222222", [r], {}, COVERED).value == FAIL
    # ... and ASSUMEROOT_ACCOUNTED does not blame it on AssumeRoot.
    accounted = assumeroot_accounted("222222222222", [], [r], COVERED)
    assert accounted.value == PASS, accounted.evidence


def test_root_call_with_a_long_term_key() -> None:
    # AWS prints no root call with a long-term key: the documented StartLogging call made with an AKIA
    # key, its identity made root's.
    record = example("cloudtrail-log-event-reference.json", "iam_user_console_session_call")
    del record["sessionCredentialFromConsole"]
    record["userIdentity"] = {"type": "Root", "principalId": "123456789012",
                              "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012",
                              "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}
    r = row(record)
    assert (r["kind"], r["success"], r["access_key_id"]) == ("long_term_key", True, "AKIAIOSFODNN7EXAMPLE")
    assert no_root_api_calls("123456789012", [r], {}, COVERED).value == FAIL


# --- AssumeRoot and its member-side actions ----------------------------------------------------------

def test_documented_assume_root_lacks_an_event_id_and_is_flagged_not_guessed() -> None:
    record = example("iam-assume-root.json", "management_account_assume_root")
    assert is_relevant(record) and missing_fields(record) == ["eventID"]


def test_assume_root_ledger_row_from_the_documented_record() -> None:
    entry = ledger_row(documented_assume_root(), "test")
    assert entry["caller_account"] == "111111111111"
    assert entry["caller_arn"] == "arn:aws:sts::111111111111:assumed-role/JohnDoe/JohnRole1"
    assert (entry["target_account"], entry["task_policy"]) == ("222222222222", "S3UnlockBucketPolicy")
    assert entry["session_key_id"] == "ASIAIOSFODNN7EXAMPLE"
    assert entry["expires_at"] == "2024-10-25T21:07:11Z"  # "Oct 25, 2024, 9:07:11 PM"
    assert entry["error_code"] == ""


@pytest.mark.parametrize("principal", ["222222222222", "arn:aws:iam::222222222222:root"])
@pytest.mark.parametrize("marker", [{}, {"sessionContext": {"assumedRoot": "true"}}])
def test_member_actions_join_whether_target_is_an_account_or_its_principal_arn(
        principal: str, marker: dict[str, Any]) -> None:
    found = build_findings([(documented_assume_root(targetPrincipal=principal), "test"),
                            (member_action("ASIAIOSFODNN7EXAMPLE", **marker), "test")], PERIOD)
    [session], [action] = found.sessions, found.activity
    assert session["target_account"] == "222222222222"  # the ledger shows the account id
    assert (session["member_action_count"], session["member_actions"]) == (1, "EnableMFADevice")
    assert (action["kind"], action["session_event_id"], action["flag"]) == (
        "root_session", "example-assume-root", "")
    assert ("assumedRoot" if marker else "neither sessionCredentialFromConsole") in action["basis"]
    assert assumeroot_accounted("org", [session | {"justification": "TICKET-1"}], [action],
                                COVERED).value == PASS


def test_a_temporary_root_key_no_assume_root_issued_is_flagged_with_what_it_rests_on() -> None:
    found = build_findings([(member_action("ASIAOTHERKEYEXAMPLE"), "test")], PERIOD)
    [action] = found.activity
    assert (action["kind"], action["flag"]) == ("root_session", FLAG_NO_ASSUME_ROOT)
    signal = assumeroot_accounted("org", [], found.activity, COVERED)
    assert signal.value == FAIL
    assert "neither sessionCredentialFromConsole nor sessionContext.assumedRoot" in signal.evidence
    assert "Coral/Netty4" in signal.evidence


# --- the marker pre-scan cannot skip a file holding any of them ----------------------------------------

def all_documented_root_records() -> list[dict[str, Any]]:
    records = list(examples(SIGN_IN).values())
    records[1]["eventID"] = "second-success"  # AWS's page prints both successes with one eventID
    records += [documented_assume_root(), member_action("ASIAIOSFODNN7EXAMPLE"),
                member_action("ASIAIOSFODNN7EXAMPLE", sessionContext={"assumedRoot": "true"})]
    records[-1]["eventID"] = "member-with-marker"
    return records


@pytest.mark.parametrize("layout", ["compact", "as printed"])
def test_the_pre_scan_finds_every_documented_root_record(layout: str) -> None:
    records = all_documented_root_records()
    noise = example("cloudtrail-sign-in-iam-user.json", "iam_user_success_with_mfa")
    body = {"Records": [noise, *records, noise]}
    text = json.dumps(body, separators=(",", ":")) if layout == "compact" else json.dumps(body, indent=4)
    scan = scan_bytes("documented.json.gz", gzip.compress(text.encode()))
    assert scan.status == "read", scan.reason
    assert scan.events_read == len(records) + 2
    assert sorted(r["eventID"] for r in scan.records) == sorted(r["eventID"] for r in records)
