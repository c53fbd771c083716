"""`rootaudit plan`: the formats, the file it writes, and one-line errors for bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from rootaudit.cli import main
from rootaudit.remediate.plan import load_plan
from rootaudit.snapshot import save_snapshot
from tests.remediate.conftest import build_snapshot


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    return save_snapshot(build_snapshot(), tmp_path / "snapshot")


def test_plan_writes_json_that_remediate_reads(snapshot_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plans" / "plan.json"
    assert main(["plan", str(snapshot_dir), "--out", str(out), "--signed-off", "111111111105=CHG-9"]) == 0
    plan = load_plan(out)
    assert plan.account("111111111105") is not None
    line = capsys.readouterr().out
    assert "plan written" in line and "7 credential(s) to remove from 5 account(s) in 3 phase(s)" in line


def test_plan_markdown_to_stdout_and_csv_by_suffix(snapshot_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(snapshot_dir)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Root credential removal plan: o-remtest0001")
    for heading in ("## 1. Prerequisites", "## 2. Phases", "### Phase Root/Prod:", "## 3. Left out",
                    "## 4. Already clean"):
        assert heading in text
    serial = "arn:aws:iam::111111111102:mfa/root-account-mfa-device"
    assert f"aws iam deactivate-mfa-device --serial-number {serial}" in text
    out = tmp_path / "plan.csv"
    assert main(["plan", str(snapshot_dir), "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    removes = [r for r in rows if r["section"] == "remove"]
    assert [(r["account_id"], r["kind"], r["credential_id"], r["operation"]) for r in removes] == [
        ("111111111110", "access_key", "AKIATWOKEYS000000001", "DeleteAccessKey"),
        ("111111111110", "access_key", "AKIATWOKEYS000000002", "DeleteAccessKey"),
        ("111111111102", "password", "root", "DeleteLoginProfile"),
        ("111111111102", "mfa_device", "arn:aws:iam::111111111102:mfa/root-account-mfa-device",
         "DeactivateMFADevice"),
        ("111111111103", "access_key", "AKIAOLDKEY0000000001", "DeleteAccessKey"),
        ("111111111104", "signing_certificate", "CERT0000000000000000000000000001",
         "DeleteSigningCertificate"),
    ]
    assert {r["section"] for r in rows} == {"prerequisite", "remove", "left_out", "already_clean"}
    assert all(len(r["state_digest"]) == 64 for r in removes)


def test_plan_as_json(snapshot_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.md"
    assert main(["plan", str(snapshot_dir), "--out", str(out), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "plan" and document["details"]["plan_file"] == str(out)
    summary = document["details"]["summary"]
    assert summary["accounts_to_clean"] == 4 and summary["left_out"] == 6
    assert out.read_text().startswith("# Root credential removal plan")
    # Without --out, the document carries the plan itself.
    assert main(["plan", str(snapshot_dir), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["details"]["plan"]["plan_digest"] == summary["plan_digest"]


@pytest.mark.parametrize("args, message", [
    (["--signed-off", "1234=CHG"], "--signed-off '1234=CHG': give ACCOUNT=REFERENCE"),
    (["--signed-off", "111111111105"], "give ACCOUNT=REFERENCE"),
    (["--exceptions", "/nonexistent/exceptions.yaml"], "no such file: /nonexistent/exceptions.yaml"),
])
def test_bad_input_is_one_line_naming_the_flag(snapshot_dir: Path, args: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(snapshot_dir), *args]) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_folder_that_is_no_snapshot_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "snapshot.json" in err
