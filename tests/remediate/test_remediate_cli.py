"""`rootaudit remediate` without AWS: the dry run, and everything --apply refuses before any call (no
confirmation possible, no approved change named, no phase chosen, a selection the plan does not allow)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from rootaudit import resources
from rootaudit.cli import main
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.remediate.plan import make_plan
from tests.remediate.conftest import build_snapshot

APPLY = ["--apply", "--change", "CHG-1", "--approved-by", "cab@example.com"]


@pytest.fixture
def plan_path(tmp_path: Path) -> Path:
    frameworks = parse_frameworks(read_mapping_files([resources.mappings_dir()]))
    plan = make_plan(build_snapshot(), frameworks=frameworks)
    path = tmp_path / "plan.json"
    path.write_bytes(plan.to_json())
    return path


@pytest.fixture(autouse=True)
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any AWS client made here would be a failure: these refusals come before any call."""
    import rootaudit.aws

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("an AWS context was made")

    monkeypatch.setattr(rootaudit.aws.AwsContext, "__init__", refuse)


def test_the_dry_run_lists_each_call_in_order(plan_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediate", "--plan", str(plan_path), "--phase", "Root/Prod"]) == 0
    lines = capsys.readouterr().out.splitlines()
    calls = [line.split(maxsplit=1)[1] for line in lines if line.startswith("  change")]
    assert calls == [
        "aws sts assume-root --target-principal 111111111102 --task-policy-arn "
        "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials --duration-seconds 900",
        "aws iam delete-login-profile",
        "aws iam deactivate-mfa-device --serial-number arn:aws:iam::111111111102:mfa/root-account-mfa-device",
        "aws sts assume-root --target-principal 111111111103 --task-policy-arn "
        "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials --duration-seconds 900",
        "aws iam delete-access-key --access-key-id AKIAOLDKEY0000000001",
    ]
    reads = [line for line in lines if line.startswith("  read")]
    assert len(reads) == 4 and "skip the account if it changed" in reads[0]
    assert "exit status 0: dry run: nothing was changed (no AWS call was made)" in lines
    assert not any("111111111104" in line for line in lines)  # Root/Prod/Payments is its own phase


def test_the_dry_run_as_json(plan_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediate", "--plan", str(plan_path), "--phase", "Root/Prod", "--json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # stdout holds the document only
    assert document["command"] == "remediate" and document["exit_status"] == 0
    details = document["details"]
    assert details["dry_run"] is True and details["plan_digest"] == json.loads(plan_path.read_text())[
        "plan_digest"]
    assert [a["account_id"] for a in details["accounts"]] == ["111111111102", "111111111103"]
    assert [c["operation"] for c in details["accounts"][0]["calls"]] == [
        "AssumeRoot", "DeleteLoginProfile", "DeactivateMFADevice"]


@pytest.mark.parametrize("args, message", [
    (["--phase", "Root/Prod", "--apply", "--yes"], "--apply needs --change TICKET and --approved-by WHO"),
    (["--apply", "--yes", "--change", "C", "--approved-by", "a"], "--apply needs --phase OU or --accounts"),
    (["--phase", "Root/Nowhere"], "--phase 'Root/Nowhere' is not a phase of the plan (phases: Root/NonProd,"),
    (["--accounts", "111111111100"], "--accounts 111111111100: the plan leaves it out: the management"),
    (["--accounts", "111111111101"], "--accounts 111111111101: the plan does not name it"),
    (["--accounts", "111111111105"], "owner signs off first"),
])
def test_refusals_are_one_line(plan_path: Path, args: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["remediate", "--plan", str(plan_path), *args]) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_without_a_terminal_apply_needs_yes(plan_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped input is not a confirmation
    assert main(["remediate", "--plan", str(plan_path), "--phase", "Root/Prod", *APPLY]) == 3
    assert "no terminal to ask on; pass --yes" in capsys.readouterr().err


def test_at_a_terminal_anything_but_yes_stops(plan_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    assert main(["remediate", "--plan", str(plan_path), "--phase", "Root/Prod", *APPLY]) == 3
    captured = capsys.readouterr()
    assert "remove 3 root credential(s) from 2 account(s) (change CHG-1). Type 'yes'" in captured.out
    assert "not confirmed: nothing was changed" in captured.err


def test_a_markdown_plan_or_an_edited_one_is_refused(plan_path: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    markdown = tmp_path / "plan.md"
    markdown.write_text("# Root credential removal plan\n")
    assert main(["remediate", "--plan", str(markdown)]) == 3
    assert "not a JSON plan" in capsys.readouterr().err
    plan_path.write_text(plan_path.read_text().replace("AKIAOLDKEY0000000001", "AKIAOTHERKEY00000001"))
    assert main(["remediate", "--plan", str(plan_path), "--phase", "Root/Prod"]) == 3
    assert "was changed after it was made" in capsys.readouterr().err
