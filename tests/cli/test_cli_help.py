"""The help reads whole: every option and positional has help, none is cut mid-sentence, the exit
statuses are listed, an unknown option prints its subcommand's usage, and docs/commands.md is what the
parser says."""

from __future__ import annotations

import argparse
import re

import pytest

from rootaudit.cli import build_parser, main
from scripts.command_reference import REFERENCE, render

DANGLING = {"a", "an", "the", "of", "to", "and", "or", "with", "for", "in", "on", "by", "from", "is"}


def _parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"rootaudit": parser, **{f"rootaudit {n}": p for n, p in sub.choices.items()}}


def _helped_actions() -> list[tuple[str, argparse.Action]]:
    return [(name, action) for name, parser in _parsers().items() for action in parser._actions
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)]


def test_every_option_and_positional_has_help() -> None:
    missing = [f"{name} {action.option_strings or action.dest}" for name, action in _helped_actions()
               if not action.help or action.help == argparse.SUPPRESS]
    assert not missing, missing


def test_no_help_is_cut_mid_sentence() -> None:
    for name, action in _helped_actions():
        text = str(action.help)
        last = re.findall(r"[\w']+|\S", text)[-1]
        assert last.lower() not in DANGLING and last not in {",", ";", ":", "("}, (name, text)
        assert text.count("(") == text.count(")") and text.count("`") % 2 == 0, (name, text)


@pytest.mark.parametrize("command", ["run", "report", "verify", "doctor", "demo", "collect"])
def test_exit_statuses_are_listed(command: str) -> None:
    text = _parsers()[f"rootaudit {command}"].format_help()
    assert "exit status" in text
    assert re.search(r"\b0\b", text.split("exit status", 1)[1])


def test_the_main_help_lists_the_exit_statuses() -> None:
    text = build_parser().format_help()
    for status in ("0  every control passes", "1  a control fails", "2  the evidence is incomplete",
                   "3  a usage or runtime error"):
        assert status in text


@pytest.mark.parametrize("argv", [["verify", "pack.zip", "--bogus"], ["run", "--out", "x", "--nope", "1"],
                                  ["report", "snap", "--frameworks"]])
def test_a_bad_option_prints_its_subcommands_usage(argv: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert f"usage: rootaudit {argv[0]} " in err
    assert err.strip().splitlines()[-1].startswith(f"rootaudit {argv[0]}: error:")


def test_the_command_reference_is_what_the_parser_says() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/commands.md is out of date: run .venv/bin/python scripts/command_reference.py")
