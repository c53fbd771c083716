"""What a command tells the person or the pipeline that ran it: lines on the console, or with `--json`
one JSON document on stdout.

    out = Output(json_mode=args.json, quiet=args.quiet)
    out.say("snapshot written: …")                  # a line for a person (stderr under --json)
    out.warn("exceptions", "expired on …", file="exceptions.yaml", line=12)
    return out.finish(Outcome("verify", status, meaning="…", next_step="…", details={…}))

Under `--json` stdout holds nothing but the document, so `rootaudit run --json | jq .exit_status`
works; people's lines go to stderr. Warnings are printed when they happen (file:line: message) and
counted in the document. Every command that reports a result builds one `Outcome`; the document's keys
are the same for all of them (`command`, `exit_status`, `exit_meaning`, `headline`, `counts`, `pack`,
`warnings`, `next_step`, `details`), with null where a command has no such thing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rootaudit import progress

JSON_FORMAT = 1


@dataclass(frozen=True)
class Notice:
    kind: str  # exceptions | justifications | cloudtrail | member_role | config | …
    message: str
    file: str | None = None
    line: int | None = None

    def text(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + ": " if self.file else ""
        return f"warning: {where}{self.message}"


@dataclass
class Outcome:
    command: str
    exit_status: int
    meaning: str
    next_step: str = ""
    headline: dict[str, Any] | None = None
    counts: dict[str, int] | None = None  # results per status
    pack: dict[str, Any] | None = None  # folder, zip, manifest_sha256, zip_sha256, snapshot_digest
    details: dict[str, Any] = field(default_factory=dict)


class Output:
    def __init__(self, json_mode: bool = False, quiet: bool = False, stdout: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self._stdout = stdout
        self.warnings: list[Notice] = []

    @property
    def stdout(self) -> TextIO:
        return self._stdout or sys.stdout

    def say(self, text: str) -> None:
        """An informational line; --quiet drops it, --json sends it to stderr."""
        if self.quiet:
            return
        if self.json_mode:
            progress.current().write_line(text)
        else:
            print(text, file=self.stdout, flush=True)

    def warn(self, kind: str, message: str, file: str | Path | None = None, line: int | None = None) -> None:
        warning = Notice(kind, message, None if file is None else str(file), line or None)
        self.warnings.append(warning)
        progress.current().write_line(warning.text())

    def document(self, outcome: Outcome) -> dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "command": outcome.command,
            "exit_status": outcome.exit_status,
            "exit_meaning": outcome.meaning,
            "headline": outcome.headline,
            "counts": outcome.counts,
            "pack": outcome.pack,
            "warnings": [asdict(w) for w in self.warnings],
            "warning_count": len(self.warnings),
            "next_step": outcome.next_step or None,
            "details": outcome.details,
        }

    def finish(self, outcome: Outcome, lines: list[str] | None = None) -> int:
        """Print the result (`lines` for people, or the JSON document) and return the exit status."""
        progress.end_display()  # the bars stop above the result instead of redrawing through it
        if self.json_mode:
            json.dump(self.document(outcome), self.stdout, indent=2, sort_keys=True, default=str)
            self.stdout.write("\n")
            self.stdout.flush()
            return outcome.exit_status
        for text in lines or []:
            print(text, file=self.stdout)
        if self.warnings:
            print(f"warnings:      {len(self.warnings)} (above)", file=self.stdout)
        print(f"exit status {outcome.exit_status}: {outcome.meaning}", file=self.stdout)
        if outcome.next_step:
            print(f"next:          {outcome.next_step}", file=self.stdout)
        self.stdout.flush()
        return outcome.exit_status


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack_facts(folder: Path, zip_path: Path) -> dict[str, Any]:
    """The pack's paths and the digests a receiver can check it by."""
    manifest = folder / "manifest.json"
    snapshot_digest = None
    with contextlib.suppress(OSError, ValueError):  # a pack without a readable manifest has no digest
        snapshot_digest = json.loads(manifest.read_text("utf-8")).get("snapshot_digest")
    return {"folder": str(folder), "zip": str(zip_path),
            "manifest_sha256": file_sha256(manifest) if manifest.is_file() else None,
            "zip_sha256": file_sha256(zip_path) if zip_path.is_file() else None,
            "snapshot_digest": snapshot_digest}
