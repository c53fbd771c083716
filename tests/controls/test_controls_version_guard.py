"""Packs name the rootaudit version that evaluated them, and `verify` re-performs the evaluation with its
own signals: a pack of a version whose signals or mappings gave other results fails there, and the
finding names that version, to re-perform with. That only helps if a version never changes its
evaluation. Version 0.1.0 did, several times, so its packs name no version that gives their results.

This test evaluates fixed snapshots (every kind of account the controls' tests know, a gap in the
trail, root activity, an unknown monitoring answer) for every framework, and keeps the SHA-256 of the
result files, as a pack writes them, beside the version that gave them; and, as verify also renders
report.html and evidence.xlsx again when the pack's version is its own, the SHA-256 of those made from
the same snapshots. When either changes and the version did not, it fails: bump the version
(pyproject.toml and rootaudit/__init__.py), then record the new fingerprints with
`ROOTAUDIT_WRITE_FINGERPRINT=1 pytest tests/controls/test_controls_version_guard.py`.
What it cannot see: a change of a collector's derivation of frames from raw responses (verify's
derivation step), which the snapshots here do not go through."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from rootaudit import __version__, controls
from rootaudit.render.pack import HTML, XLSX, rendered_html, rendered_workbook, result_files
from rootaudit.snapshot import Snapshot

RECORD = Path(__file__).parent / "data" / "evaluation_fingerprint.json"
HISTORY_PART = Path(__file__).parent / "data" / "report_history_part.json"


def _snapshots(build: Callable[..., Snapshot], helpers: Any) -> list[Snapshot]:
    gap = helpers.source_row(source="lookup", account_id="111111111101", region="eu-west-1", item="page-3",
                             status="failed", reason="ThrottlingException after 8 retries")
    login = helpers.activity_row("ev-login-1", "111111111103", "console_login")
    session = helpers.session_row("ev-session-0001", "111111111104", task="IAMDeleteRootUserCredentials")
    unknown = {**helpers.trail_row(), "is_logging": None}
    return [
        build(),
        build(["clean_rcm", "password_hardware_mfa"], sources=[helpers.source_row(), gap]),
        build(["password_hardware_mfa", "active_key"], activity=[login], sessions=[session]),
        build(["clean_rcm"], monitoring=[unknown]),
    ]


def fingerprint(build: Callable[..., Snapshot], helpers: Any) -> str:
    digest = hashlib.sha256()
    for snapshot in _snapshots(build, helpers):
        for rel, data in sorted(result_files(controls.evaluate(snapshot, ["all"])).items()):
            digest.update(f"{rel}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def rendered_fingerprint(build: Callable[..., Snapshot], helpers: Any) -> str:
    """The same snapshots' report.html and evidence.xlsx, with a history part (a demo pack's
    report_history.json: a previous pack, 13 changes since it, a trend). verify renders them again only
    under the version that rendered the pack, so they too may change only with the version. The
    workbook is taken by its sheets' cell values, not its zip's bytes: a new openpyxl that writes the same
    cells otherwise is not this project's change."""
    part = json.loads(HISTORY_PART.read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for snapshot in _snapshots(build, helpers):
        results = controls.evaluate(snapshot, ["all"])
        snapshot_digest = snapshot.digest()
        html = rendered_html(snapshot, results, snapshot_digest, part).encode("utf-8")
        cells = json.dumps(_cells(rendered_workbook(snapshot, results, snapshot_digest, part)),
                           default=str).encode("utf-8")
        for rel, data in ((HTML, html), (XLSX, cells)):
            digest.update(f"{rel}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def _cells(workbook: bytes) -> list[Any]:
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    return [[sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]]
            for sheet in book.worksheets]


# record key -> (what it fingerprints, how)
FINGERPRINTS: dict[str, tuple[str, Callable[[Callable[..., Snapshot], Any], str]]] = {
    "sha256": ("the evaluation's results", fingerprint),
    "rendered_sha256": ("the rendered report and workbook", rendered_fingerprint),
}


def test_results_change_only_with_the_version(snapshot_of: Callable[..., Snapshot], helpers: Any) -> None:
    now = {"rootaudit": __version__,
           **{key: how(snapshot_of, helpers) for key, (_, how) in FINGERPRINTS.items()}}
    if os.environ.get("ROOTAUDIT_WRITE_FINGERPRINT") == "1":
        RECORD.write_text(json.dumps(now, indent=2) + "\n", encoding="utf-8")
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    changed = [what for key, (what, _) in FINGERPRINTS.items() if recorded.get(key) != now[key]]
    if changed:
        assert recorded["rootaudit"] != __version__, (
            f"{' and '.join(changed)} changed, and the version is still {__version__}: its packs would "
            "fail verify, which re-performs and re-renders a pack as the version that made it. Bump the "
            "version (pyproject.toml, rootaudit/__init__.py), then run this test with "
            "ROOTAUDIT_WRITE_FINGERPRINT=1")
        raise AssertionError(f"version {__version__}: record its fingerprints (run this test "
                             "with ROOTAUDIT_WRITE_FINGERPRINT=1)")
    assert recorded["rootaudit"] == __version__, (
        f"{RECORD.name} records {recorded['rootaudit']}, this is {__version__}: nothing changed, "
        "record the version (ROOTAUDIT_WRITE_FINGERPRINT=1)")


def test_the_rendered_fingerprint_sees_a_changed_text_limit(
        snapshot_of: Callable[..., Snapshot], helpers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The render guard can fail, and its history part reaches the report: a shorter limit on the
    "Since the last pack" detail gives another fingerprint."""
    from rootaudit.render import model

    before = rendered_fingerprint(snapshot_of, helpers)
    monkeypatch.setitem(model.TEXT_LIMITS, "detail", 100)
    assert rendered_fingerprint(snapshot_of, helpers) != before


def test_the_fingerprint_sees_a_changed_signal(snapshot_of: Callable[..., Snapshot], helpers: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard can fail: the same snapshots with one signal's rule changed give another fingerprint."""
    from rootaudit.controls import signals

    before = fingerprint(snapshot_of, helpers)
    monkeypatch.setattr(signals, "security_contact",
                        lambda account: signals.Signal(signals.PASS, "always registered"))
    assert fingerprint(snapshot_of, helpers) != before
