"""docs/commands.md, the command reference, generated from the argument parser.

    .venv/bin/python scripts/command_reference.py          # rewrite docs/commands.md
    .venv/bin/python scripts/command_reference.py --check  # exit 1 when it is out of date

tests/cli/test_cli_help.py keeps the file equal to what this prints, so a changed option is a changed
reference in the same commit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "commands.md"
WIDTH = "100"  # argparse wraps help to $COLUMNS: fixed, so the file does not depend on a terminal

HEAD = """# Command reference

Generated from the argument parser by `scripts/command_reference.py`; do not edit by hand (run it after
changing an option: `tests/cli/test_cli_help.py` fails while this file differs). The operator's guide
([operators.md](operators.md)) says when to use what.
"""


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def render() -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        from rootaudit.cli import build_parser

        parser = build_parser()
        parts = [HEAD, "## rootaudit\n", "```text\n" + parser.format_help().rstrip() + "\n```\n"]
        for name, sub in _subparsers(parser).items():
            parts.append(f"## rootaudit {name}\n")
            parts.append("```text\n" + sub.format_help().rstrip() + "\n```\n")
        return "\n".join(parts)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def main() -> int:
    text = render()
    if sys.argv[1:] == ["--check"]:
        current = REFERENCE.read_text(encoding="utf-8") if REFERENCE.is_file() else ""
        if current != text:
            print(f"{REFERENCE} is out of date: run {Path(__file__).relative_to(ROOT)}", file=sys.stderr)
            return 1
        return 0
    REFERENCE.write_text(text, encoding="utf-8")
    print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
