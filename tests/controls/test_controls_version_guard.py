"""Packs name the rootaudit version that evaluated them, and `verify` re-performs the evaluation with its
own signals: a pack of a version whose signals or mappings gave other results fails there, and the
finding names that version, to re-perform with. That only helps if a version never changes its
evaluation. Version 0.1.0 did, several times, so its packs name no version that gives their results.

This test evaluates fixed snapshots (every kind of account the controls' tests know, a gap in the
trail, root activity, an unknown monitoring answer) for every framework, and keeps the SHA-256 of the
result files, as a pack writes them, beside the version that gave them. When the results change and the
version did not, it fails: bump the version (pyproject.toml and rootaudit/__init__.py), then record the
new fingerprint with `ROOTAUDIT_WRITE_FINGERPRINT=1 pytest tests/controls/test_controls_version_guard.py`.
What it cannot see: a change of a collector's derivation of frames from raw responses (verify's
derivation step), which the snapshots here do not go through."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rootaudit import __version__, controls
from rootaudit.render.pack import result_files
from rootaudit.snapshot import Snapshot

RECORD = Path(__file__).parent / "data" / "evaluation_fingerprint.json"


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


def test_results_change_only_with_the_version(snapshot_of: Callable[..., Snapshot], helpers: Any) -> None:
    now = {"rootaudit": __version__, "sha256": fingerprint(snapshot_of, helpers)}
    if os.environ.get("ROOTAUDIT_WRITE_FINGERPRINT") == "1":
        RECORD.write_text(json.dumps(now, indent=2) + "\n", encoding="utf-8")
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))
    if recorded["sha256"] != now["sha256"]:
        assert recorded["rootaudit"] != __version__, (
            f"the evaluation's results changed, and the version is still {__version__}: its packs would "
            "fail verify with no version to re-perform them with. Bump the version (pyproject.toml, "
            "rootaudit/__init__.py), then run this test with ROOTAUDIT_WRITE_FINGERPRINT=1")
        raise AssertionError(f"version {__version__}: record its results' fingerprint (run this test "
                             "with ROOTAUDIT_WRITE_FINGERPRINT=1)")
    assert recorded["rootaudit"] == __version__, (
        f"{RECORD.name} records {recorded['rootaudit']}, this is {__version__}: the results did not change, "
        "record the version (ROOTAUDIT_WRITE_FINGERPRINT=1)")


def test_the_fingerprint_sees_a_changed_signal(snapshot_of: Callable[..., Snapshot], helpers: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard can fail: the same snapshots with one signal's rule changed give another fingerprint."""
    from rootaudit.controls import signals

    before = fingerprint(snapshot_of, helpers)
    monkeypatch.setattr(signals, "security_contact",
                        lambda account: signals.Signal(signals.PASS, "always registered"))
    assert fingerprint(snapshot_of, helpers) != before
