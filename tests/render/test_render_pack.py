from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from rootaudit.controls.results import Results
from rootaudit.render import pack as pack_module
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.snapshot import Snapshot, frame_to_csv_bytes
from tests.support.sample import sample_results, sample_snapshot

LAYOUT = {
    "evidence.pdf",
    "evidence.xlsx",
    "report.html",
    "snapshot.json",
    "manifest.json",
    "SHA256SUMS",
    "data/accounts.csv",
    "data/signals.csv",
    "data/control_results.csv",
    "data/exceptions.csv",
    "inputs/exceptions.yaml",
    "inputs/justifications.yaml",
    "inputs/mappings/sample-1.0.yaml",
}


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_pack_layout_and_names(pack: PackPaths) -> None:
    assert pack.folder.name == "rootaudit-o-sample12345-2026-Q3"
    assert pack.zip == pack.folder.with_name(pack.folder.name + ".zip") and pack.zip.is_file()
    assert set(files_of(pack.folder)) >= LAYOUT
    assert set(pack.files) == set(files_of(pack.folder))


def test_data_files_are_the_snapshot_and_result_bytes(
    pack: PackPaths, snapshot: Snapshot, results: Results
) -> None:
    on_disk = files_of(pack.folder)
    for rel, data in snapshot.files().items():
        assert on_disk[rel] == data, rel
    for name in ("signals", "control_results", "exceptions"):
        assert on_disk[f"data/{name}.csv"] == frame_to_csv_bytes(name, getattr(results, name))
    for rel, data in results.inputs.items():
        assert on_disk[f"inputs/{rel}"] == data


def test_manifest_lists_every_file_with_its_hash(pack: PackPaths, snapshot: Snapshot) -> None:
    on_disk = files_of(pack.folder)
    manifest = json.loads(on_disk["manifest.json"])
    listed = {e["path"]: e for e in manifest["files"]}
    assert set(listed) == set(on_disk) - {"manifest.json", "SHA256SUMS"}
    for rel, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(on_disk[rel]).hexdigest() and entry["size"] == len(
            on_disk[rel]
        )
    assert manifest["snapshot_digest"] == snapshot.digest()
    assert manifest["tool_version"]


def test_sha256sum_checks_the_pack(pack: PackPaths) -> None:
    # coreutils' sha256sum is what the pack's README tells an auditor to run: without it this check
    # fails (a skip would hide it).
    assert shutil.which("sha256sum"), "sha256sum is not installed (Debian: coreutils)"
    run = subprocess.run(
        ["sha256sum", "-c", "--strict", "SHA256SUMS"],
        cwd=pack.folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "manifest.json: OK" in run.stdout


def test_zip_holds_the_folder(pack: PackPaths) -> None:
    with zipfile.ZipFile(pack.zip) as zf:
        inside = {n.split("/", 1)[1]: zf.read(n) for n in zf.namelist()}
    assert inside == files_of(pack.folder)


def test_same_evidence_gives_the_same_pack(tmp_path: Path, pack: PackPaths, snapshot: Snapshot) -> None:
    again = write_pack(snapshot, sample_results(snapshot), tmp_path)
    first, second = files_of(pack.folder), files_of(again.folder)
    assert first.keys() == second.keys()
    differing = sorted(k for k in first if first[k] != second[k])
    assert differing == []  # the PDF too: its dates are the collection time and its id follows the evidence
    assert pack.zip.read_bytes() == again.zip.read_bytes()


def test_hostile_org_and_period_cannot_leave_the_output_folder(tmp_path: Path) -> None:
    snap = sample_snapshot(accounts=3, with_credentials=1, not_assessed=0, sessions=1)
    snap.meta["organization_id"] = "../../etc/o-evil"
    snap.meta["period"] = {
        "label": "2026/../Q3",
        "start": "2026-07-01T00:00:00Z",
        "end": "2026-10-01T00:00:00Z",
    }
    out = tmp_path / "out"
    paths = write_pack(snap, sample_results(snap), out)
    assert paths.folder.parent == out and paths.zip.parent == out
    assert "/" not in paths.folder.name and ".." not in paths.folder.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_full_disk_leaves_no_pack_that_looks_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: Snapshot, results: Results
) -> None:
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 6:  # the zip is synced first, then the folder's files, several at once
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left"):
        write_pack(snapshot, results, out)
    assert calls["n"] >= 6  # the failing call was made (others already under way may have ended too)
    assert list(out.iterdir()) == []  # no folder, no zip, no temporary leftovers


def test_pack_name_parts_are_sanitised() -> None:
    assert pack_module.safe_name_part("../..", "org") == "org"
    assert pack_module.safe_name_part("o-abc/../x", "org") == "o-abc_x"
    assert pack_module.safe_name_part("2026-Q3", "period") == "2026-Q3"
