"""Fixtures for the renderers: one sample organization (tests.support.sample) and its pack,
written once per test session because the PDF takes seconds."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from rootaudit.controls.results import Results
from rootaudit.render.pack import PackPaths, write_pack
from rootaudit.snapshot import Snapshot
from tests.support.sample import sample_results, sample_snapshot


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    return sample_snapshot(accounts=40, with_credentials=4, not_assessed=1, sessions=6)


@pytest.fixture(scope="session")
def results(snapshot: Snapshot) -> Results:
    return sample_results(snapshot)


@pytest.fixture(scope="session")
def pack(tmp_path_factory: pytest.TempPathFactory, snapshot: Snapshot, results: Results) -> PackPaths:
    return write_pack(snapshot, results, tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="session")
def pdf(pack: PackPaths) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO((pack.folder / "evidence.pdf").read_bytes()))


@pytest.fixture(scope="session")
def pdf_text(pdf: pypdf.PdfReader) -> str:
    # Table cells may wrap: compare on text with line breaks removed as well.
    return "\n".join(page.extract_text() for page in pdf.pages)


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="session")
def pdf_flat(pdf_text: str) -> str:
    return flat(pdf_text)


@pytest.fixture()
def pack_copy(tmp_path: Path, pack: PackPaths) -> Path:
    import shutil

    target = tmp_path / pack.folder.name
    shutil.copytree(pack.folder, target)
    return target
