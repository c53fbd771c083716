"""What `report` and `run` do with the history: find the file, and record each pack they write.

The pack is recorded from its own files once it is written (`record_from_files`), exactly as
`history --rebuild` would read it back, so the store never holds what the pack does not. The file is
only read before the pack is written (to show what changed since the previous pack), and created or
changed only once the pack is written: a report that stops early leaves no history behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rootaudit.history.pack_view import HistoryView, history_view
from rootaudit.history.record import PackRecord, read_pack, record_from_files
from rootaudit.history.store import DEFAULT_NAME, HistoryError, HistoryStore


def history_file(given: Path | None, out_dir: Path) -> Path:
    """`--history FILE` (or the configuration's `history`), else rootaudit-history.sqlite in the --out
    folder, beside the packs it indexes."""
    return Path(given) if given is not None else Path(out_dir) / DEFAULT_NAME


@dataclass(frozen=True)
class Recorded:
    path: Path
    record: PackRecord
    added: bool  # False: this very pack was already recorded
    packs: int  # packs of this organization in the history, this one included

    def line(self) -> str:
        what = "recorded" if self.added else "already recorded (the same pack)"
        return f"history:       {self.path} ({what}; {self.packs} pack(s) of {self.record.organization_id})"

    def details(self) -> dict[str, object]:
        return {"file": str(self.path), "recorded": self.added, "pack_digest": self.record.digest,
                "packs_of_organization": self.packs}


def record_pack(store: HistoryStore, pack: Path) -> Recorded:
    """Record the pack (folder or zip) in the store."""
    record = record_from_files(read_pack(pack), str(pack))
    added = store.add(record)
    return Recorded(store.path, record, added, len(store.digests(record.organization_id)))


def view_before_writing(path: Path, snapshot: Any, control_results: Any,
                        exceptions: Any, inputs: Any = None) -> HistoryView | None:
    """What the history says about the pack about to be written; None when there is no history yet."""
    if HistoryStore.check(path) is None:
        return None
    with HistoryStore.open(path, create=False) as store:
        return history_view(store, snapshot, control_results, exceptions, inputs)


class RecordingError(HistoryError):
    """The pack was written but could not be recorded."""


def record_written_pack(path: Path, pack: Path) -> Recorded:
    try:
        with HistoryStore.open(path) as store:
            return record_pack(store, pack)
    except HistoryError as exc:
        raise RecordingError(f"{exc}; the pack {pack} was written: `rootaudit history --history {path} "
                             f"--rebuild {pack}` records it once the file is fixed") from exc
