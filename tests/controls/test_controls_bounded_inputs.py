"""Bounded inputs: YAML aliases that would expand past the node limit, and files above their kind's size
limit, are refused with one line naming the file, before anything is expanded or read whole."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rootaudit import bounded
from rootaudit.bounded import ALIAS_NODES_LIMIT, InputTooLarge, check_aliases, read_bounded
from rootaudit.cli import main
from rootaudit.controls.exceptions import ExceptionsFileError, parse_exceptions
from rootaudit.controls.justifications import JustificationsFileError, parse_justifications
from rootaudit.controls.mappings import MappingError, load_yaml
from rootaudit.snapshot import save_snapshot
from tests.support.sample import account_id, sample_snapshot

FIELDS = 'owner: o@x, approver: a@x, ticket: T, expires: 2027-01-01'


def alias_bomb(levels: int = 9) -> bytes:
    """An exceptions file of nested aliases, each level nine times the one before: a few hundred bytes
    that expand to 9**levels strings (on a loader without a limit, minutes and gigabytes)."""
    lines = ["exceptions:", "  - &a {reason: [x,x,x,x,x,x,x,x,x]}"]
    prev = "a"
    for name in "bcdefghijk"[: levels - 1]:
        lines.append(f"  - &{name} {{reason: [{','.join(['*' + prev] * 9)}]}}")
        prev = name
    return ("\n".join(lines) + "\n").encode()


def test_the_alias_bomb_is_a_few_hundred_bytes() -> None:
    assert len(alias_bomb()) <= 450


def test_alias_bomb_is_refused_before_anything_is_composed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the document was composed: the aliases were not refused first")

    monkeypatch.setattr(yaml, "load", no_load)
    with pytest.raises(ExceptionsFileError) as caught:
        parse_exceptions(alias_bomb(), "exceptions.yaml", None)
    message = str(caught.value)
    assert message.startswith("exceptions.yaml:")
    assert "aliases" in message and f"{ALIAS_NODES_LIMIT:,} nodes" in message and "\n" not in message


def test_justifications_and_mappings_go_through_the_same_loader() -> None:
    bomb = alias_bomb().replace(b"exceptions:", b"justifications:")
    with pytest.raises(JustificationsFileError, match="aliases expand"):
        parse_justifications(bomb, "justifications.yaml")
    with pytest.raises(MappingError, match=r"^extra\.yaml:\d+: refused: its YAML aliases"):
        load_yaml(alias_bomb(), "extra.yaml")


def test_few_aliases_are_read_as_yaml_defines_them() -> None:
    text = (f"common: &common {{{FIELDS}}}\nexceptions:\n"
            f"  - {{<<: *common, id: E1, account: '{account_id(0)}', reason: r}}\n"
            f"  - {{<<: *common, id: E2, account: '{account_id(1)}', reason: r}}\n")
    doc = load_yaml(text.encode(), "x.yaml")
    assert doc["exceptions"][1]["ticket"] == "T" and doc["exceptions"][1]["id"] == "E2"


def test_the_alias_count_is_exact_at_the_limit() -> None:
    # One anchored sequence of 1 + 9 nodes, then aliases to it: each alias adds 10 nodes.
    def doc(aliases: int) -> str:
        return "a: &a [1,2,3,4,5,6,7,8,9]\nb: [" + ",".join(["*a"] * aliases) + "]\n"

    check_aliases(doc(10), "x.yaml", limit=100)
    with pytest.raises(InputTooLarge, match=r"^x\.yaml:2: "):
        check_aliases(doc(11), "x.yaml", limit=100)


def test_a_syntax_error_is_left_to_the_loader_with_its_line() -> None:
    check_aliases("a: *undefined\n", "x.yaml")  # the loader reports it
    with pytest.raises(MappingError, match=r"^x\.yaml:1: not valid YAML"):
        load_yaml(b"a: *undefined\n", "x.yaml")


def test_a_file_above_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 101)
    assert read_bounded(path, 101, "YAML file") == b"#" * 101
    with pytest.raises(InputTooLarge) as caught:
        read_bounded(path, 100, "YAML file")
    assert str(caught.value) == (f"{path}: refused: the YAML file is 101 bytes; rootaudit reads YAML files "
                                 "of at most 100 bytes")


def test_a_device_is_never_read_whole() -> None:
    # /dev/zero reports size 0 and never ends: at most limit + 1 bytes are read.
    with pytest.raises(InputTooLarge, match="larger than that"):
        read_bounded(Path("/dev/zero"), 1000, "exceptions file")


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    return save_snapshot(sample_snapshot(accounts=4, with_credentials=1), tmp_path / "snap")


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_report_with_the_alias_bomb_ends_with_one_line(snapshot_dir: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    bomb = tmp_path / "exceptions.yaml"
    bomb.write_bytes(alias_bomb())
    status = main(["report", str(snapshot_dir), "--out", str(tmp_path / "out"), "--exceptions", str(bomb),
                   "--frameworks", "cis-aws-7.0.0"])
    line = _one_line(capsys.readouterr().err)
    assert status == 3
    assert line.startswith("rootaudit: exceptions.yaml:") and "aliases expand" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_report_with_an_oversized_exceptions_file_names_it(snapshot_dir: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "exceptions.yaml"
    big.write_bytes(b"exceptions: []\n" + b"#" * 2000)
    monkeypatch.setattr("rootaudit.controls.stage.YAML_LIMIT", 1000)
    monkeypatch.setattr("rootaudit.controls.input_checks.YAML_LIMIT", 1000)
    status = main(["report", str(snapshot_dir), "--out", str(tmp_path / "out"), "--exceptions", str(big),
                   "--frameworks", "cis-aws-7.0.0"])
    line = _one_line(capsys.readouterr().err)
    assert status == 3
    assert f"{big}: refused: the exceptions file is 2,015 bytes" in line


def test_an_oversized_configuration_file_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "rootaudit.toml"
    config.write_text('out = "x"\n' + "#" * 200, encoding="utf-8")
    monkeypatch.setattr("rootaudit.config.TOML_LIMIT", 100)
    status = main(["frameworks", "--config", str(config)])
    line = _one_line(capsys.readouterr().err)
    assert status == 3 and f"{config}: refused: the configuration file is 210 bytes" in line


def test_plan_and_record_files_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rootaudit.remediate.plan import PlanError, load_plan
    from rootaudit.remediate.record import RecordError, read_record

    big = tmp_path / "plan.json"
    big.write_bytes(b" " * 300)
    monkeypatch.setattr("rootaudit.remediate.plan.JSON_LIMIT", 200)
    monkeypatch.setattr("rootaudit.remediate.record.JSON_LIMIT", 200)
    with pytest.raises(PlanError, match="refused: the plan file is 300 bytes"):
        load_plan(big)
    with pytest.raises(RecordError, match="refused: the remediation record is 300 bytes"):
        read_record(big)


def test_the_stated_limits_are_the_ones_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text(encoding="utf-8")
    for limit in (bounded.YAML_LIMIT, bounded.TOML_LIMIT, bounded.JSON_LIMIT):
        assert f"{limit // bounded.MiB} MiB" in doc
    assert f"{bounded.ALIAS_NODES_LIMIT:,} nodes" in doc
