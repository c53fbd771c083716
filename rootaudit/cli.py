"""Command line: argument parsing and command wiring only."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("rootaudit: not wired yet", file=sys.stderr)
    return 3
