"""verify ties the rendered files to the evidence and reads zips defensively (issue 15's "Tried:" list):
each forgery fails, naming the file or member."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.render.verify import verify_pack
from rootaudit.snapshot import Snapshot
from tests.support.packs import reseal
from tests.support.sample import sample_evaluate, sample_results

RENDERED = ("evidence.pdf", "evidence.xlsx", "report.html")


@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory, snapshot: Snapshot) -> PackPaths:
    """A pack rendered from the sample snapshot with every root credential edited to none."""
    frames = dict(snapshot.frames)
    creds = frames["root_credentials"].copy()
    for column in ("access_keys_active", "signing_certificates_active", "mfa_devices"):
        creds[column] = creds[column].where(creds[column].isna(), 0)
    creds["password_present"] = creds["password_present"].where(creds["password_present"].isna(), False)
    frames["root_credentials"] = creds
    edited = Snapshot(meta=dict(snapshot.meta), frames=frames, raw=dict(snapshot.raw))
    return write_pack(edited, sample_results(edited), tmp_path_factory.mktemp("forged"))


def problems(path: Path) -> set[tuple[str, str, str]]:
    return {(p.step, p.file, p.kind) for p in verify_pack(path, sample_evaluate).problems}


def test_the_forged_pack_is_a_different_rendering(forged: PackPaths, pack: PackPaths) -> None:
    for rel in RENDERED:
        assert (forged.folder / rel).read_bytes() != (pack.folder / rel).read_bytes(), rel


def test_rendered_files_of_a_forged_pack_copied_into_an_honest_one_fail(pack_copy: Path,
                                                                        forged: PackPaths) -> None:
    for rel in RENDERED:
        shutil.copy(forged.folder / rel, pack_copy / rel)
    reseal(pack_copy)
    report = verify_pack(pack_copy, sample_evaluate)
    named = {(p.step, p.file) for p in report.problems}
    assert named >= {("rendered", rel) for rel in RENDERED}, report.lines()
    assert report.failed_step == "rendered"
    details = " ".join(p.detail for p in report.problems)
    assert "rendered from another snapshot" in details


def test_one_forged_file_is_enough(pack_copy: Path, forged: PackPaths) -> None:
    for rel in RENDERED:
        original = (pack_copy / rel).read_bytes()
        shutil.copy(forged.folder / rel, pack_copy / rel)
        reseal(pack_copy)
        assert ("rendered", rel, "rendered") in problems(pack_copy), rel
        (pack_copy / rel).write_bytes(original)
    reseal(pack_copy)
    assert verify_pack(pack_copy, sample_evaluate).ok


def test_a_pdf_whose_attachments_are_not_the_data_files_fails(pack_copy: Path) -> None:
    """The PDF's digest is right, but it carries other results than the pack (re-attached by a forger)."""
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO((pack_copy / "evidence.pdf").read_bytes()))
    writer = pypdf.PdfWriter(clone_from=reader)
    results = zipfile.ZipFile(io.BytesIO(reader.attachments["results.zip"][0]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in results.namelist():
            data = results.read(name)
            out.writestr(name, data.replace(b",FAIL,", b",PASS,") if name.endswith("control_results.csv")
                         else data)
    writer._root_object.pop("/Names", None)  # drop the embedded files, then attach the forged ones
    writer.add_attachment("snapshot.zip", reader.attachments["snapshot.zip"][0])
    writer.add_attachment("results.zip", buf.getvalue())
    out_pdf = io.BytesIO()
    writer.write(out_pdf)
    (pack_copy / "evidence.pdf").write_bytes(out_pdf.getvalue())
    reseal(pack_copy)
    report = verify_pack(pack_copy, sample_evaluate)
    [problem] = [p for p in report.problems if p.file == "evidence.pdf"]
    assert "results.zip holds other data/control_results.csv than the pack" in problem.detail


def test_a_pack_without_its_pdf_workbook_and_report_fails_naming_each(pack_copy: Path) -> None:
    for rel in RENDERED:
        (pack_copy / rel).unlink()
    reseal(pack_copy)  # the manifest no longer lists them
    found = problems(pack_copy)
    for rel in RENDERED:
        assert ("files", rel, "missing") in found, found


def test_a_manifest_with_another_organization_period_and_time_fails(pack_copy: Path) -> None:
    manifest = json.loads((pack_copy / "manifest.json").read_text())
    manifest.update(organization_id="o-other0000", period="2025-Q1", collected_at="2025-04-01T00:00:00Z")
    (pack_copy / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    reseal(pack_copy)
    report = verify_pack(pack_copy, sample_evaluate)
    metadata = [p.detail for p in report.problems if (p.step, p.kind) == ("manifest", "metadata")]
    assert len(metadata) == 3 and report.failed_step == "manifest", report.lines()
    assert any("o-other0000" in d and "o-sample12345" in d for d in metadata)


def rezip(source: Path, target: Path, rename: Callable[[str], str] = lambda n: n,
          extra: Sequence[tuple[str, bytes]] = ()) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for name, data in extra:
            dst.writestr(name, data)
        for info in src.infolist():
            dst.writestr(rename(info.filename), src.read(info))


def test_a_zip_whose_folder_names_another_organization_fails(tmp_path: Path, pack: PackPaths) -> None:
    target = tmp_path / "rootaudit-o-other0000-2026-Q3.zip"
    rezip(pack.zip, target, lambda n: n.replace("o-sample12345", "o-other0000"))
    found = problems(target)
    assert ("files", "rootaudit-o-other0000-2026-Q3/", "zip") in found, found


def test_a_zip_holding_the_pdf_twice_fails(tmp_path: Path, pack: PackPaths, forged: PackPaths) -> None:
    """The forged copy first, which `unzip` extracts."""
    name = f"{pack.folder.name}/evidence.pdf"
    target = tmp_path / pack.zip.name
    with pytest.warns(UserWarning, match="Duplicate name"):
        rezip(pack.zip, target, extra=[(name, (forged.folder / "evidence.pdf").read_bytes())])
    found = problems(target)
    assert ("files", name, "zip") in found, found
    assert ("files", "evidence.pdf", "missing") in found  # neither copy is trusted


def test_a_zip_of_absolute_or_escaping_paths_fails_naming_each_member(tmp_path: Path,
                                                                      pack: PackPaths) -> None:
    for label, rename in (("absolute", lambda n: "/" + n), ("dotdot", lambda n: "../" + n)):
        target = tmp_path / f"{label}.zip"
        rezip(pack.zip, target, rename)
        report = verify_pack(target, sample_evaluate)
        members = {p.file for p in report.problems if p.kind == "zip"}
        with zipfile.ZipFile(target) as zf:
            assert members == set(zf.namelist()), (label, report.lines()[:3])
        assert not report.ok


def test_a_corrupt_raw_response_is_a_mismatch_naming_its_file(pack_copy: Path) -> None:
    rel = "data/raw/organizations/list_accounts.json.gz"
    data = (pack_copy / rel).read_bytes()
    (pack_copy / rel).write_bytes(data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:])
    with pytest.raises(Exception):  # noqa: B017 - whichever error gzip or zlib raises for this file
        json.loads(gzip.decompress((pack_copy / rel).read_bytes()))
    reseal(pack_copy)  # even with the hashes recomputed
    report = verify_pack(pack_copy, sample_evaluate)
    assert ("files", rel, "unreadable") in {(p.step, p.file, p.kind) for p in report.problems}, report.lines()
