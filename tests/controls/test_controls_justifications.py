"""Session justifications: AssumeRoot sessions matched by event id or by account + task + window."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rootaudit import controls
from rootaudit.controls.justifications import JustificationsFileError

TARGET = "111111111102"


@pytest.fixture
def sessions(helpers):
    return [
        helpers.session_row("ev-by-id-0001", TARGET, time="2026-08-01T08:00:00Z"),
        helpers.session_row("ev-in-window-0002", TARGET, time="2026-08-03T10:00:00Z"),
        helpers.session_row("ev-wrong-task-0003", TARGET, task="IAMDeleteRootUserCredentials",
                            time="2026-08-03T10:30:00Z"),
        helpers.session_row("ev-late-0004", TARGET, time="2026-08-03T11:00:01Z"),
        helpers.session_row("ev-refused-0005", TARGET, time="2026-08-05T10:00:00Z", error_code="AccessDenied",
                            session_key_id=None, member_action_count=0, member_actions=None),
    ]


JUSTIFICATIONS = """\
justifications:
  - id: J-1
    ticket: CHG-1
    approver: lead@example.com
    reason: one session
    event_id: ev-by-id-0001
  - id: J-2
    ticket: CHG-2
    approver: lead@example.com
    account: "111111111102"
    task: arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials
    window: {start: 2026-08-03T09:00:00Z, end: 2026-08-03T11:00:00Z}
"""


def evaluate(tmp_path: Path, snap, text: str):
    path = tmp_path / "justifications.yaml"
    path.write_text(text, encoding="utf-8")
    return controls.evaluate(snap, ["cis-aws-7.0.0"], justifications_path=path)


def test_matching_fills_the_ledger_and_unmatched_sessions_are_named(tmp_path, snapshot_of, sessions):
    results = evaluate(tmp_path, snapshot_of(["password_virtual_mfa"], sessions=sessions), JUSTIFICATIONS)
    ledger = results.privileged_sessions.set_index("event_id")
    expected = "J-1: CHG-1 approved by lead@example.com (one session)"
    assert ledger.loc["ev-by-id-0001", "justification"] == expected
    assert ledger.loc["ev-in-window-0002", "justification"].startswith("J-2: CHG-2")
    for unmatched in ("ev-wrong-task-0003", "ev-late-0004", "ev-refused-0005"):
        assert pd.isna(ledger.loc[unmatched, "justification"])
    s = results.signals
    row = s[(s.account_id == TARGET) & (s.signal == "ASSUMEROOT_ACCOUNTED")].iloc[0]
    assert row["value"] == "FAIL"
    assert "ev-wrong-task-0003" in row["evidence"] and "ev-late-0004" in row["evidence"]
    assert "ev-by-id-0001" not in row["evidence"].split("without a justification")[1].split(".")[0]
    # a refused call issued no session: listed, not counted as unaccounted
    assert "1 refused AssumeRoot call(s)" in row["evidence"]
    cr = results.control_results
    assert cr[(cr.control_id == "2.7") & (cr.account_id == TARGET)].iloc[0]["status"] == "FAIL"


def test_all_sessions_justified_passes(tmp_path, snapshot_of, sessions):
    text = JUSTIFICATIONS + """\
  - id: J-3
    ticket: CHG-3
    approver: lead@example.com
    account: "111111111102"
    task: IAMDeleteRootUserCredentials
    window: {start: 2026-08-03T10:00:00Z, end: 2026-08-03T10:45:00Z}
  - id: J-4
    ticket: CHG-4
    approver: lead@example.com
    event_id: ev-late-0004
"""
    results = evaluate(tmp_path, snapshot_of(["password_virtual_mfa"], sessions=sessions), text)
    s = results.signals
    assert s[(s.account_id == TARGET) & (s.signal == "ASSUMEROOT_ACCOUNTED")].iloc[0]["value"] == "PASS"
    assert s[s.account_id.isna() & (s.signal == "ASSUMEROOT_ACCOUNTED")].iloc[0]["value"] == "PASS"


def test_no_justifications_file_fails_every_session(snapshot_of, sessions):
    results = controls.evaluate(snapshot_of(["password_virtual_mfa"], sessions=sessions), ["cis-aws-7.0.0"])
    s = results.signals
    org = s[s.account_id.isna() & (s.signal == "ASSUMEROOT_ACCOUNTED")].iloc[0]
    assert org["value"] == "FAIL" and "ev-by-id-0001" in org["evidence"]


def test_root_session_call_without_assumeroot_fails(snapshot_of, helpers):
    orphan = helpers.activity_row("ev-orphan", TARGET, "root_session", access_key_id="ASIAORPHAN",
                                  flag="no AssumeRoot in the period for this session key")
    s = controls.evaluate(snapshot_of(["password_virtual_mfa"], activity=[orphan]), ["cis-aws-7.0.0"]).signals
    for signal in ("ASSUMEROOT_ACCOUNTED", "NO_ROOT_API_CALLS"):
        row = s[(s.account_id == TARGET) & (s.signal == signal)].iloc[0]
        assert row["value"] == "FAIL" and "ev-orphan" in row["evidence"], signal


def test_console_login_justified_by_event_id(tmp_path, snapshot_of, helpers):
    login = helpers.activity_row("ev-login-77", TARGET, "console_login", mfa_used=True)
    failed = helpers.activity_row("ev-login-78", TARGET, "console_login", success=False)
    snap = snapshot_of(["password_virtual_mfa"], activity=[login, failed])
    s = controls.evaluate(snap, ["cis-aws-7.0.0"]).signals
    assert s[(s.account_id == TARGET) & (s.signal == "NO_ROOT_CONSOLE_LOGIN")].iloc[0]["value"] == "FAIL"
    text = ("justifications:\n"
            "  - {id: J-9, ticket: INC-9, approver: ciso@example.com, event_id: ev-login-77}\n")
    row = evaluate(tmp_path, snap, text).signals.set_index(["account_id", "signal"]).loc[
        (TARGET, "NO_ROOT_CONSOLE_LOGIN")]
    assert row["value"] == "PASS"
    assert "justified by J-9" in row["evidence"] and "1 failed root sign-in attempt" in row["evidence"]


HEAD = "justifications:\n  - {id: J-1, ticket: C, approver: a, "


@pytest.mark.parametrize(("text", "message"), [
    ("justifications:\n  - {id: J-1, ticket: C, event_id: e}\n", "missing approver"),
    (HEAD + "account: '111111111102'}\n", "give either event_id"),
    (HEAD + "event_id: e, task: X}\n", "give either event_id"),
    ("justifications:\n  - {id: J-1, ticket: C, approver: a, event_id: e}\n"
     "  - {id: J-1, ticket: C, approver: a, event_id: f}\n", "used by an earlier entry"),
    ("justifications:\n  - {id: J-1, ticket: C, approver: a, account: '1', task: T,"
     " window: {start: 2026-08-02T00:00:00Z, end: 2026-08-01T00:00:00Z}}\n", "ends before it starts"),
    ("justifications:\n  - {id: J-1, ticket: C, approver: a, event_id: e, colour: red}\n", "unknown key"),
    ("sessions: []\n", "expected a mapping with one key"),
])
def test_malformed_justifications_are_a_clear_error(tmp_path, snapshot_of, text, message):
    with pytest.raises(JustificationsFileError, match=message) as info:
        evaluate(tmp_path, snapshot_of(["clean_rcm"]), text)
    assert "justifications.yaml" in str(info.value)


def test_sample_justifications_file_loads(snapshot_of, helpers):
    sample = Path(__file__).resolve().parents[2] / "samples" / "justifications.yaml"
    snap = snapshot_of(["password_virtual_mfa"], sessions=[helpers.session_row("ev-x-0001", TARGET)])
    results = controls.evaluate(snap, ["cis-aws-7.0.0"], justifications_path=sample)
    assert results.privileged_sessions.iloc[0]["justification"].startswith("J-2026-032")
