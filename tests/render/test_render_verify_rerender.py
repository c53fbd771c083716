"""verify renders report.html and evidence.xlsx again from the pack and compares them byte for byte: an
edit to their text that keeps the snapshot digest they carry (which the digest checks alone let through)
fails at the "rendered" step, naming the file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

import rootaudit
from rootaudit.render.pack import HISTORY_PART, PackPaths
from rootaudit.render.verify import verify_pack
from tests.support.packs import reseal
from tests.support.sample import sample_evaluate


def _rendered_problems(folder: Path) -> set[tuple[str, str]]:
    report = verify_pack(folder, sample_evaluate)
    assert not report.ok and report.failed_step == "rendered", report.lines()
    return {(p.file, p.step) for p in report.problems}


def test_an_honest_pack_renders_again_byte_for_byte(pack: PackPaths) -> None:
    report = verify_pack(pack.folder, sample_evaluate)
    assert report.ok, report.lines()
    assert any("rendered again from the pack: byte for byte" in n for n in report.notes), report.notes
    assert HISTORY_PART in pack.files


def test_an_edited_report_keeping_its_digest_is_caught(pack_copy: Path) -> None:
    html = (pack_copy / "report.html").read_text(encoding="utf-8")
    head, body = html.split("</head>", 1)
    assert "snapshot-sha256:" in head  # the digest mark stays as it was
    word = next(w for w in ("FAIL", "Fail") if w in body)
    edited = head + "</head>" + body.replace(word, "Pass", 1)
    (pack_copy / "report.html").write_text(edited, encoding="utf-8")
    reseal(pack_copy)
    assert _rendered_problems(pack_copy) == {("report.html", "rendered")}


def test_an_edited_workbook_keeping_its_digest_is_caught(pack_copy: Path) -> None:
    path = pack_copy / "evidence.xlsx"
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        members = [(i, zf.read(i)) for i in zf.infolist()]
    edited = False
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if not edited and info.filename.startswith("xl/worksheets/") and b">FAIL<" in data:
                data, edited = data.replace(b">FAIL<", b">PASS<", 1), True
            zf.writestr(info, data)
    assert edited
    path.write_bytes(out.getvalue())
    reseal(pack_copy)
    assert _rendered_problems(pack_copy) == {("evidence.xlsx", "rendered")}


def test_a_damaged_history_record_is_a_finding(pack_copy: Path) -> None:
    (pack_copy / HISTORY_PART).write_text("[1, 2", encoding="utf-8")
    reseal(pack_copy)
    assert _rendered_problems(pack_copy) == {(HISTORY_PART, "rendered")}


def test_another_version_says_it_did_not_render_again(pack: PackPaths,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rootaudit, "__version__", "0.0.0-other")
    report = verify_pack(pack.folder, sample_evaluate)
    assert report.ok, report.lines()
    rendered_by = json.loads((pack.folder / "manifest.json").read_text())["tool_version"]
    assert any(f"rendered by rootaudit {rendered_by}, this is 0.0.0-other" in n for n in report.notes)
