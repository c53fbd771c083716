"""`rootaudit report` that stops at a known point of writing the pack, for the interruption and race tests.

    python -m tests.support.paused_report POINT RELEASE_FILE -- report SNAPSHOT --out DIR ...

At POINT it prints "PAUSED <pid>" on stdout and waits until RELEASE_FILE exists (or a signal interrupts the
wait); then the report goes on. Points:
  mid_folder      after the zip and a few of the folder's files are written under their temporary names
  before_publish  with the whole new pack written under temporary names, before anything is renamed
  mid_swap        after the first rename of the swap (SIGINT and SIGTERM are held there)
  while_pdf       while the workbook is written, with the PDF's forked worker made to render for ever
The test, not a timer, decides when the process goes on or is interrupted.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from rootaudit import atomic
from rootaudit.cli import main


def pause(release: Path) -> None:
    print(f"PAUSED {os.getpid()}", flush=True)
    while not release.exists():
        time.sleep(0.01)


def install(point: str, release: Path) -> None:
    if point == "mid_folder":
        real_write, calls = atomic.write_new_file, [0]

        def write_new_file(path: Path, data: bytes) -> None:
            real_write(path, data)
            calls[0] += 1
            if calls[0] == 3:  # three files of the folder written (the zip is staged before it)
                pause(release)

        atomic.write_new_file = write_new_file  # type: ignore[assignment]
    elif point == "before_publish":
        real_publish = atomic.Staging.publish

        def publish(self: atomic.Staging, *args: Any, **kwargs: Any) -> None:
            pause(release)
            real_publish(self, *args, **kwargs)

        atomic.Staging.publish = publish  # type: ignore[method-assign]
    elif point == "mid_swap":
        real_replace, moves = os.replace, [0]

        def replace(src: Any, dst: Any) -> None:
            real_replace(src, dst)
            if atomic.OLD_MARK in str(dst) or atomic.TMP_MARK in str(src):  # the swap's renames only
                moves[0] += 1
                if moves[0] == 1:
                    pause(release)

        atomic.os.replace = replace  # type: ignore[attr-defined]
    elif point == "while_pdf":
        from rootaudit.render import pack

        real_xlsx = pack.render_xlsx

        def render_xlsx(*args: Any, **kwargs: Any) -> bytes:
            pause(release)
            return real_xlsx(*args, **kwargs)

        def render_pdf_for_ever(job: Any) -> bytes:  # in the worker: only ending it stops this
            while True:
                time.sleep(1)

        pack.render_xlsx = render_xlsx  # type: ignore[assignment]
        pack._render_pdf_job = render_pdf_for_ever  # type: ignore[assignment]
    else:
        raise SystemExit(f"unknown point {point}")


if __name__ == "__main__":
    point, release_file, sep, *argv = sys.argv[1:]
    assert sep == "--"
    install(point, Path(release_file))
    sys.exit(main(argv))
