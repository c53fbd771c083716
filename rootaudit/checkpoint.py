"""The checkpoint of a collection: each account's root-credential result, appended as it is accepted, so
that an interrupted collection of thousands of accounts can be resumed (`collect --resume`, `run --resume`)
without reading those accounts again.

One JSON document a line: first the collection it belongs to (organization, management account, caller,
period, member role), then one line per account assessed. A resumed collection reuses the assessed
accounts only (one not assessed is read again: its cause may have passed), and only when the first line
matches the collection being made; a line cut by the interruption is ignored. Raw responses are written
with their secrets removed (`rootaudit.aws.redact`), as they are in the snapshot. The collection deletes
the file once its snapshot is written.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rootaudit.aws import redact
from rootaudit.collectors.root_common import AccountOutcome

FORMAT = "rootaudit-checkpoint/1"


class CheckpointError(ValueError):
    """The checkpoint cannot be resumed (another collection's, or unreadable); the message says why."""


def checkpoint_path(snapshot_dir: Path) -> Path:
    """Where the collection writing `snapshot_dir` keeps its checkpoint: beside it, not inside (the
    snapshot folder is replaced whole when it is written)."""
    snapshot_dir = Path(snapshot_dir)
    return snapshot_dir.with_name(snapshot_dir.name + ".checkpoint.jsonl")


@dataclass
class Checkpoint:
    path: Path
    identity: dict[str, str]
    reused: dict[str, AccountOutcome] = field(default_factory=dict)  # accounts not to read again
    started_at: str = ""  # when the checkpointed collection first started
    _file: IO[str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path, identity: Mapping[str, str], resume: bool) -> Checkpoint:
        """Resume the checkpoint at `path` (`resume`, when one is there), or start a new one."""
        path = Path(path)
        identity = {k: str(v) for k, v in identity.items()}
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if resume and path.is_file():
            header, outcomes = _read(path)
            if header.get("collection") != identity:
                differs = sorted(k for k in identity if header.get("collection", {}).get(k) != identity[k])
                raise CheckpointError(
                    f"{path} is the checkpoint of another collection ({', '.join(differs) or 'format'} "
                    "differs): collect without --resume, or with the same period, profile and member role")
            checkpoint = cls(path, identity, outcomes, str(header.get("started_at") or now))
            checkpoint._file = path.open("a", encoding="utf-8")
            return checkpoint
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint = cls(path, identity, {}, now)
        checkpoint._file = path.open("w", encoding="utf-8")
        checkpoint._write({"format": FORMAT, "collection": identity, "started_at": now})
        return checkpoint

    def add(self, account_id: str, outcome: AccountOutcome) -> None:
        """Keep an accepted result (assessed ones only: one not assessed is read again on resume)."""
        if outcome.row.get("assessment") != "assessed" or account_id in self.reused:
            return
        self._write({"account_id": account_id, "row": outcome.row, "items": outcome.items,
                     "raw": redact(outcome.raw)})

    def _write(self, doc: Mapping[str, Any]) -> None:
        line = json.dumps(doc, sort_keys=True, default=str) + "\n"
        with self._lock:
            if self._file is not None:
                self._file.write(line)
                self._file.flush()  # an interruption loses at most the line being written

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def discard(self) -> None:
        """The collection is written: its checkpoint is of no more use."""
        self.close()
        self.path.unlink(missing_ok=True)

    def summary(self) -> dict[str, Any]:
        return {"checkpoint": str(self.path), "accounts_reused": len(self.reused),
                "first_started_at": self.started_at}


def _read(path: Path) -> tuple[dict[str, Any], dict[str, AccountOutcome]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path} cannot be read: {exc}") from exc
    try:
        header = json.loads(lines[0]) if lines else {}
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a rootaudit checkpoint (its first line is not JSON)") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a rootaudit checkpoint ({FORMAT})")
    outcomes: dict[str, AccountOutcome] = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            doc = json.loads(line)
        except ValueError:
            if number == len(lines):
                continue  # the line the interruption cut: that account is read again
            raise CheckpointError(f"{path} line {number} is not JSON: the checkpoint is damaged") from None
        outcomes[str(doc["account_id"])] = AccountOutcome(row=doc["row"], items=doc.get("items", []),
                                                          raw=doc.get("raw", {}))
    return header, outcomes
