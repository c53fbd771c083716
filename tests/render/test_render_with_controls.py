"""The renderers with the project's own evaluator (rootaudit.controls), end to end: pack, then verify
re-performs the evaluation with the default evaluator."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from rootaudit.controls import evaluate
from rootaudit.controls.results import Results
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.render.verify import verify_pack
from rootaudit.snapshot import Snapshot
from tests.support.sample import sample_snapshot

FRAMEWORKS = ["cis-aws-5.0.0", "soc2-2017-tsc"]


@pytest.fixture(scope="module")
def evaluated() -> tuple[Snapshot, Results]:
    snapshot = sample_snapshot(accounts=25, with_credentials=3, not_assessed=1, sessions=4)
    return snapshot, evaluate(snapshot, frameworks=FRAMEWORKS)


@pytest.fixture(scope="module")
def real_pack(tmp_path_factory: pytest.TempPathFactory, evaluated: tuple[Snapshot, Results]) -> PackPaths:
    snapshot, results = evaluated
    return write_pack(snapshot, results, tmp_path_factory.mktemp("real"))


def test_verify_re_performs_the_evaluation_with_the_default_evaluator(real_pack: PackPaths) -> None:
    for path in (real_pack.folder, real_pack.zip):
        report = verify_pack(path)
        assert report.ok and report.re_evaluated, report.lines()


def test_a_changed_result_is_found_by_the_default_evaluator(real_pack: PackPaths, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "p"
    shutil.copytree(real_pack.folder, folder)
    path = folder / "data" / "control_results.csv"
    text = path.read_text()
    assert ",FAIL," in text
    path.write_text(text.replace(",FAIL,", ",PASS,", 1))
    report = verify_pack(folder)
    assert not report.ok
    assert {p.file for p in report.problems} >= {"data/control_results.csv"}
    assert any(p.kind == "result" for p in report.problems)


def test_the_evaluators_headline_and_matrices_are_in_the_report(
    real_pack: PackPaths, evaluated: tuple[Snapshot, Results]
) -> None:
    _, results = evaluated
    html = (real_pack.folder / "report.html").read_text(encoding="utf-8")
    assert results.headline["claim_made"] is False
    assert "No clean headline can be stated" in html
    for fw in results.frameworks:
        assert f"{fw['framework']} {fw['version']}" in html
    wb = openpyxl.load_workbook(io.BytesIO((real_pack.folder / "evidence.xlsx").read_bytes()))
    assert set(FRAMEWORKS) <= set(wb.sheetnames)  # the framework sheets are named by the mapping's id



def test_results_of_another_version_are_a_finding_that_names_both_versions(
        real_pack: PackPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pack evaluated by another rootaudit, whose signals gave other results, does not verify here
    (the mappings are the pack's own, its inputs); the finding says which version evaluated it, so that
    it reads as "re-perform with that version", not only as an edited result."""
    import json

    import rootaudit
    from rootaudit.controls import signals

    packed_by = json.loads((real_pack.folder / "manifest.json").read_text())["tool_version"]
    assert packed_by == rootaudit.__version__ and verify_pack(real_pack.folder).ok
    # this "version" reads every root password as present
    monkeypatch.setitem(signals.CREDENTIAL_SIGNALS, "ROOT_PASSWORD_ABSENT",
                        lambda creds: signals.Signal(signals.FAIL, "a password, says this version"))
    monkeypatch.setattr(rootaudit, "__version__", "9.9.9")
    report = verify_pack(real_pack.folder)
    results = [p for p in report.problems if p.kind == "result"]
    assert results and not report.ok, report.lines()
    assert all(f"evaluated by rootaudit {packed_by}, this is 9.9.9" in p.detail for p in results)
