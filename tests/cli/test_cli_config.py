"""rootaudit.toml: found in the working directory or given with --config, overridden by flags, and an
unknown key or a wrong type is one line naming the key and the file (exit 3)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rootaudit.cli import _configure, build_parser, main
from rootaudit.config import KEYS, ConfigError, find_config, load_config


def _args(argv: list[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    _configure(args)
    return args


def test_the_file_fills_what_the_command_line_leaves_unset(tmp_path: Path) -> None:
    conf = tmp_path / "rootaudit.toml"
    conf.write_text('member_role = "AuditReader"\nworkers = 7\nregions = ["eu-west-1"]\n'
                    'cloudtrail = "s3://org-trail/logs"\nperiod = "2026-Q2"\nexceptions = "inputs/exc.yaml"\n'
                    'out = "evidence"\nframeworks = ["cis-aws-7.0.0"]\nmappings = ["ours"]\n')
    args = _args(["run", "--config", str(conf)])
    assert (args.member_role, args.workers, args.regions) == ("AuditReader", 7, ["eu-west-1"])
    assert (args.cloudtrail, args.period, args.frameworks) == ("s3://org-trail/logs", "2026-Q2",
                                                               ["cis-aws-7.0.0"])
    # paths are relative to the file's folder, not to wherever the command runs
    assert args.exceptions == tmp_path / "inputs" / "exc.yaml"
    assert args.out == tmp_path / "evidence"
    assert args.mappings == [tmp_path / "ours"]


def test_flags_override_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "rootaudit.toml"
    conf.write_text('workers = 7\ncloudtrail = "lookup"\n')
    args = _args(["collect", "--out", "s", "--config", str(conf), "--workers", "3", "--cloudtrail", "auto"])
    assert (args.workers, args.cloudtrail) == (3, "auto")


def test_without_a_file_the_built_in_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = _args(["collect", "--out", "s"])
    assert (args.cloudtrail, args.member_role, args.workers) == ("auto", "RootAuditReadOnly", 18)


def test_the_working_directory_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rootaudit.toml").write_text("workers = 5\n")
    monkeypatch.chdir(tmp_path)
    assert _args(["collect", "--out", "s"]).workers == 5
    assert find_config(None).path == Path("rootaudit.toml")


def test_out_in_the_file_is_the_pack_folder_never_a_snapshot(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('out = "evidence"\n')
    assert _args(["collect", "--out", "snap", "--config", str(conf)]).out == Path("snap")
    assert _args(["report", "snap", "--config", str(conf)]).out == tmp_path / "evidence"


@pytest.mark.parametrize(("text", "words"), [
    ('exceptoins = "x.yaml"\n', ["unknown key 'exceptoins'", "known keys"]),
    ('workers = "18"\n', ["key 'workers' must be an integer", "a string"]),
    ("workers = true\n", ["key 'workers' must be an integer", "a boolean"]),
    ('regions = "us-east-1"\n', ["key 'regions' must be a list of strings"]),
    ("strict = 1\n", ["key 'strict' must be true or false"]),
    ("workers = \n", ["not valid TOML"]),
])
def test_a_bad_file_is_one_line_naming_the_key_and_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: list[str]) -> None:
    conf = tmp_path / "rootaudit.toml"
    conf.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(conf)
    for word in words:
        assert word in str(caught.value)
    assert str(conf) in str(caught.value)

    assert main(["collect", "--out", str(tmp_path / "s"), "--config", str(conf)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(conf) in err[0] and words[0] in err[0]
    assert not (tmp_path / "s").exists()


def test_a_missing_config_file_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frameworks", "--config", str(tmp_path / "nope.toml")]) == 3
    assert "nope.toml: no such configuration file" in capsys.readouterr().err


def test_an_error_in_a_value_from_the_file_names_the_file(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "rootaudit.toml"
    conf.write_text('period = "last-quarter"\n')
    assert main(["collect", "--out", str(tmp_path / "s"), "--config", str(conf)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"'period' in {conf}" in err[0] and "2026-Q3" in err[0]


def test_every_key_fills_an_option_some_command_has() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    dests = {a.dest for p in sub.choices.values() for a in p._actions}
    # `history` is filled once the history command's options exist; every other key has its option now
    assert {k.dest for k in KEYS.values()} - dests <= {"history"}
