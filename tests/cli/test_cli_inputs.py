"""Inputs checked loudly: malformed or expired exceptions, and exceptions or justifications naming an
account, control or event that is not there, are warnings with file and line on the console, counted
in --json; --strict makes them an error (exit 3) before any pack is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootaudit.cli import main
from rootaudit.controls import evaluate
from rootaudit.controls.input_checks import check_inputs, precheck_inputs
from rootaudit.snapshot import Snapshot, save_snapshot
from tests.support.sample import account_id, sample_snapshot

EXCEPTIONS = f"""exceptions:
  - id: EXC-OK
    account: "{account_id(0)}"
    control: cis-aws-7.0.0:2.4
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-1
    expires: 2027-12-31
  - id: EXC-EXPIRED
    account: "{account_id(1)}"
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-2
    expires: 2026-01-31
  - id: EXC-STRANGER
    account: "999999999999"
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-3
    expires: 2027-12-31
  - id: EXC-NO-CONTROL
    control: cis-aws-7.0.0:99.9
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-4
    expires: 2027-12-31
  - id: EXC-NOT-EVALUATED
    control: no-such-framework:1.1
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-5
    expires: 2027-12-31
  - id: EXC-MALFORMED
    account: "{account_id(2)}"
    reason: r
    expires: someday
"""

JUSTIFICATIONS = f"""justifications:
  - id: J-OK
    ticket: CHG-1
    approver: a@example.com
    event_id: ev-assumeroot-00000
  - id: J-NO-EVENT
    ticket: CHG-2
    approver: a@example.com
    event_id: ev-does-not-exist
  - id: J-STRANGER
    ticket: CHG-3
    approver: a@example.com
    account: "999999999999"
    task: IAMAuditRootUserCredentials
    window: {{start: 2026-07-01T00:00:00Z, end: 2026-07-02T00:00:00Z}}
  - id: J-NO-SESSION
    ticket: CHG-4
    approver: a@example.com
    account: "{account_id(0)}"
    task: IAMDeleteRootUserCredentials
    window: {{start: 2026-09-20T00:00:00Z, end: 2026-09-20T01:00:00Z}}
"""


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return sample_snapshot(accounts=12, with_credentials=2, not_assessed=0, sessions=4)


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    exc, just = tmp_path / "exceptions.yaml", tmp_path / "justifications.yaml"
    exc.write_text(EXCEPTIONS)
    just.write_text(JUSTIFICATIONS)
    return exc, just


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_each_problem_is_found_with_its_file_and_line(snapshot: Snapshot, inputs: tuple[Path, Path]) -> None:
    exc, just = inputs
    results = evaluate(snapshot, frameworks=["cis-aws-7.0.0"], exceptions_path=exc, justifications_path=just)
    findings = {f.message.split()[1]: f for f in check_inputs(snapshot, results, exc, just)}
    assert set(findings) == {"EXC-EXPIRED", "EXC-STRANGER", "EXC-NO-CONTROL", "EXC-NOT-EVALUATED",
                             "EXC-MALFORMED", "J-NO-EVENT", "J-STRANGER", "J-NO-SESSION"}
    assert "expired 2026-01-31" in findings["EXC-EXPIRED"].message
    assert "999999999999" in findings["EXC-STRANGER"].message
    assert "does not have" in findings["EXC-NO-CONTROL"].message
    assert "was not evaluated" in findings["EXC-NOT-EVALUATED"].message
    assert "missing" in findings["EXC-MALFORMED"].message and "someday" in findings["EXC-MALFORMED"].message
    assert "ev-does-not-exist" in findings["J-NO-EVENT"].message
    assert "matches no AssumeRoot session" in findings["J-NO-SESSION"].message
    for key, finding in findings.items():
        text = (EXCEPTIONS if key.startswith("EXC") else JUSTIFICATIONS)
        assert finding.line == _line_of(text, f"id: {key}"), key
        assert finding.file == str(exc if key.startswith("EXC") else just)


def test_before_collection_only_malformed_entries_can_be_judged(inputs: tuple[Path, Path]) -> None:
    exc, just = inputs
    assert [f.message.split()[1] for f in precheck_inputs(exc, just)] == ["EXC-MALFORMED"]


def test_report_warns_on_the_console_and_counts_in_json(snapshot: Snapshot, inputs: tuple[Path, Path],
                                                        tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    exc, just = inputs
    save_snapshot(snapshot, tmp_path / "snap")
    status = main(["report", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "--frameworks",
                   "cis-aws-7.0.0", "--exceptions", str(exc), "--justifications", str(just), "--json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout is one JSON document and nothing else
    assert document["exit_status"] == status
    assert document["warning_count"] == 8
    assert {w["kind"] for w in document["warnings"]} == {"exceptions", "justifications"}
    line = _line_of(EXCEPTIONS, "id: EXC-EXPIRED")
    assert f"warning: {exc}:{line}: exception EXC-EXPIRED does not apply" in captured.err
    assert Path(document["pack"]["zip"]).is_file()


def test_strict_makes_them_an_error_and_writes_no_pack(snapshot: Snapshot, inputs: tuple[Path, Path],
                                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    exc, _ = inputs
    save_snapshot(snapshot, tmp_path / "snap")
    assert main(["report", str(tmp_path / "snap"), "--out", str(tmp_path / "out"), "--frameworks",
                 "cis-aws-7.0.0", "--exceptions", str(exc), "--strict"]) == 3
    err = capsys.readouterr().err
    assert "--strict: 5 warning(s)" in err and f"rootaudit report {tmp_path / 'snap'}" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_strict_run_stops_before_collecting(inputs: tuple[Path, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # No AWS credentials are needed: the malformed entry is found before anything is called.
    exc, _ = inputs
    assert main(["run", "--out", str(tmp_path / "out"), "--exceptions", str(exc), "--strict"]) == 3
    err = capsys.readouterr().err
    assert "EXC-MALFORMED" in err and "--strict: 1 warning(s)" in err
    assert not (tmp_path / "out").exists()


def test_a_missing_input_file_names_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--out", str(tmp_path / "out"), "--justifications", str(tmp_path / "j.yaml")]) == 3
    assert f"--justifications: no such file: {tmp_path / 'j.yaml'}" in capsys.readouterr().err
