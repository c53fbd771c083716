from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from rootaudit.render import verify as verify_module
from rootaudit.render.pack import PackPaths
from rootaudit.render.verify import verify_pack
from tests.support.sample import sample_evaluate

PACK_FILES = [
    "evidence.pdf",
    "evidence.xlsx",
    "report.html",
    "snapshot.json",
    "manifest.json",
    "SHA256SUMS",
    "data/accounts.csv",
    "data/root_credentials.csv",
    "data/privileged_sessions.csv",
    "data/control_results.csv",
    "data/signals.csv",
    "data/raw/organizations/list_accounts.json.gz",
    "inputs/exceptions.yaml",
    "inputs/mappings/sample-1.0.yaml",
]


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] = (data[i] + 1) % 256
    path.write_bytes(bytes(data))


def test_an_untouched_pack_verifies_as_folder_and_zip(pack: PackPaths) -> None:
    for path in (pack.folder, pack.zip):
        report = verify_pack(path, sample_evaluate)
        assert report.ok, report.lines()
        assert report.re_evaluated and report.files_checked == len(pack.files)


def test_one_changed_byte_in_any_file_fails_and_names_the_file(pack_copy: Path, pack: PackPaths) -> None:
    assert set(PACK_FILES) <= set(pack.files)  # every kind of file is in the pack being tampered with
    # every file, but of the raw responses (hundreds, all alike) the first and the last of each folder
    raw = sorted(p for p in pack.files if p.startswith("data/raw/"))
    folders = {p.rsplit("/", 2)[0] for p in raw}
    sampled = {next(p for p in raw if p.startswith(f + "/")) for f in folders} | {
        [p for p in raw if p.startswith(f + "/")][-1] for f in folders}
    for rel in [p for p in pack.files if not p.startswith("data/raw/")] + sorted(sampled):
        original = (pack_copy / rel).read_bytes()
        flip_one_byte(pack_copy / rel)
        report = verify_pack(pack_copy, sample_evaluate)
        assert not report.ok, rel
        assert rel in {p.file for p in report.problems}, (rel, report.lines())
        assert any(rel in line for line in report.lines()), rel
        (pack_copy / rel).write_bytes(original)
    assert verify_pack(pack_copy, sample_evaluate).ok  # restored: the checks above were about the byte


def test_a_changed_byte_inside_the_zip_is_found(tmp_path: Path, pack: PackPaths) -> None:
    tampered = tmp_path / pack.zip.name
    with zipfile.ZipFile(pack.zip) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data/accounts.csv"):
                data = data.replace(b"workload-00010", b"workload-00011", 1)
            dst.writestr(info, data)
    report = verify_pack(tampered, sample_evaluate)
    assert not report.ok and "data/accounts.csv" in {p.file for p in report.problems}


def test_missing_and_extra_files_are_named(pack_copy: Path) -> None:
    (pack_copy / "report.html").unlink()
    (pack_copy / "data" / "planted.csv").write_text("x\n")
    report = verify_pack(pack_copy, sample_evaluate)
    kinds = {(p.file, p.kind) for p in report.problems}
    assert ("report.html", "missing") in kinds and ("data/planted.csv", "extra") in kinds


def rehash(folder: Path, rel: str) -> None:
    """Make manifest.json and SHA256SUMS agree with a changed file, as a careful forger would."""
    data = (folder / rel).read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == rel:
            entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    lines = []
    for p in sorted(x.relative_to(folder).as_posix() for x in folder.rglob("*") if x.is_file()):
        if p != "SHA256SUMS":
            lines.append(f"{hashlib.sha256((folder / p).read_bytes()).hexdigest()}  {p}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))


def test_rehashed_results_are_caught_by_re_evaluation(pack_copy: Path) -> None:
    rel = "data/control_results.csv"
    text = (pack_copy / rel).read_text()
    assert ",FAIL," in text
    (pack_copy / rel).write_text(text.replace(",FAIL,", ",PASS,", 1))
    rehash(pack_copy, rel)
    report = verify_pack(pack_copy, sample_evaluate)
    # the results no longer follow from the snapshot, and the PDF's attached results are not these
    assert {(p.file, p.kind) for p in report.problems} == {(rel, "result"), ("evidence.pdf", "rendered")}, (
        report.lines())
    assert not report.ok and report.failed_step == "rendered"


def test_rehashed_snapshot_data_is_caught_by_the_digest(pack_copy: Path) -> None:
    rel = "data/root_credentials.csv"
    text = (pack_copy / rel).read_text()
    (pack_copy / rel).write_text(text.replace("true", "false"))
    rehash(pack_copy, rel)
    report = verify_pack(pack_copy, sample_evaluate)
    files = {p.file for p in report.problems}
    assert "snapshot.json" in files  # the digest recorded in the manifest no longer matches
    assert "data/control_results.csv" in files  # and the results no longer follow from the data


def test_without_an_evaluator_the_pack_is_not_ok(pack: PackPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "_default_evaluator", lambda: None)
    report = verify_pack(pack.folder)
    assert not report.ok and not report.re_evaluated
    assert any(p.kind == "evaluation" for p in report.problems)


def test_an_evaluator_that_crashes_is_reported(pack: PackPaths) -> None:
    def broken(snapshot, inputs):
        raise RuntimeError("mapping file unreadable")

    report = verify_pack(pack.folder, broken)
    assert not report.ok and "mapping file unreadable" in report.lines()[1]


def test_not_a_pack_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"not a zip")
    with pytest.raises(verify_module.PackError, match="not a zip"):
        verify_pack(bogus, sample_evaluate)
    with pytest.raises(verify_module.PackError, match="no such pack"):
        verify_pack(tmp_path / "missing", sample_evaluate)


def test_a_raw_response_inflating_past_the_limit_is_named_not_read(pack_copy: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from rootaudit import snapshot as snapshot_module
    from tests.support.packs import reseal

    rel = "data/raw/organizations/list_accounts.json.gz"
    (pack_copy / rel).write_bytes(gzip.compress(b"[" + b" " * (16 << 20) + b"]", compresslevel=9))
    reseal(pack_copy)
    monkeypatch.setattr(snapshot_module, "PACK_LIMIT", 1 << 20)
    report = verify_pack(pack_copy, sample_evaluate)
    assert not report.ok
    [problem] = [p for p in report.problems if p.file == rel]
    assert problem.kind == "unreadable" and "refused" in problem.detail, report.lines()
