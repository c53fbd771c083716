"""`rootaudit history`: read the store (after recording the packs given with --rebuild) and render it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rootaudit.history.record import PackReadError, read_pack, record_from_files
from rootaudit.history.render import history_data, render_history
from rootaudit.history.store import DEFAULT_NAME, HistoryError, HistoryStore


class HistoryCommandError(ValueError):
    """One line naming the file or flag at fault."""


@dataclass
class HistoryResult:
    text: str  # the history in the format asked for
    lines: list[str] = field(default_factory=list)  # what --rebuild did
    details: dict[str, Any] = field(default_factory=dict)


def history_command(path: Path | None, rebuild: Sequence[Path], organization: str | None,
                    fmt: str) -> HistoryResult:
    path = Path(path) if path is not None else Path(DEFAULT_NAME)
    # Every pack is read before the store is touched: one that cannot be read changes nothing.
    try:
        records = [record_from_files(read_pack(pack), str(pack)) for pack in rebuild]
    except PackReadError as exc:
        raise HistoryCommandError(f"--rebuild: {exc}") from exc
    try:
        with HistoryStore.open(path, create=bool(rebuild)) as store:
            lines = []
            for record in records:
                added = store.add(record)
                lines.append(f"{'recorded' if added else 'already recorded'}: {record.source} "
                             f"({record.organization_id} {record.period}, pack {record.digest[:12]})")
            stored = store.records(organization)
            organizations = store.organizations()
    except HistoryError as exc:
        raise HistoryCommandError(str(exc)) from exc
    if organization and not stored:
        raise HistoryCommandError(f"--org {organization}: no pack of this organization in {path} "
                                  f"(it holds {', '.join(organizations) or 'no pack'})")
    details = {"history": str(path), "rebuilt_from": [str(p) for p in rebuild], **history_data(stored)}
    return HistoryResult(text=render_history(stored, fmt), lines=lines, details=details)


@dataclass
class DiffResult:
    text: str
    changed: bool
    details: dict[str, Any]


def diff_command(old: Path, new: Path, fmt: str) -> DiffResult:
    """Compare two packs (folders or zips) of one organization."""
    from rootaudit.history.diff import DiffError, diff_packs
    from rootaudit.history.diff_render import render_diff
    from rootaudit.history.record import load_pack

    loaded = []
    for name, path in (("OLD", old), ("NEW", new)):
        try:
            loaded.append(load_pack(path))
        except PackReadError as exc:
            raise HistoryCommandError(f"{name} {exc}") from exc
    (old_record, _), (new_record, new_ledger) = loaded
    try:
        diff = diff_packs(old_record, new_record, new_ledger)
    except DiffError as exc:
        raise HistoryCommandError(f"{old} and {new}: {exc}") from exc
    return DiffResult(render_diff(diff, fmt), diff.changed, diff.as_dict())
