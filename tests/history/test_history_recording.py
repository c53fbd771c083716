"""`report` records each pack it writes in the history: by default beside the packs, or in --history
FILE (or the configuration's `history`); the same pack twice is stored once; a history file that cannot
be used stops the report before any pack is written, with one line naming the file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rootaudit.cli import main
from rootaudit.history.store import DEFAULT_NAME, HistoryStore
from rootaudit.snapshot import save_snapshot
from tests.support.sample import sample_snapshot


@pytest.fixture(scope="module")
def snapshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_snapshot(sample_snapshot(accounts=6, with_credentials=2, not_assessed=1, sessions=2,
                                         hostile_names=False), tmp_path_factory.mktemp("snap") / "snapshot")


def test_report_records_the_pack_once(tmp_path: Path, snapshot_dir: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    documents = []
    for force in ([], ["--force"]):  # the second replaces the pack with the same one
        main(["report", str(snapshot_dir), "--out", str(out), "--json", "--quiet", *force])
        documents.append(json.loads(capsys.readouterr().out))
    assert [d["details"]["history"]["recorded"] for d in documents] == [True, False]
    manifest = next(out.glob("rootaudit-*/manifest.json"))
    with HistoryStore.open(out / DEFAULT_NAME, create=False) as store:
        assert store.digests() == [hashlib.sha256(manifest.read_bytes()).hexdigest()]
        assert documents[0]["details"]["history"]["pack_digest"] == store.digests()[0]


def test_history_from_the_configuration_file(tmp_path: Path, snapshot_dir: Path) -> None:
    (tmp_path / "rootaudit.toml").write_text('history = "records/h.sqlite"\n')
    main(["report", str(snapshot_dir), "--out", str(tmp_path / "out"), "--quiet",
          "--config", str(tmp_path / "rootaudit.toml")])
    with HistoryStore.open(tmp_path / "records" / "h.sqlite", create=False) as store:
        assert len(store.digests()) == 1
    assert not (tmp_path / "out" / DEFAULT_NAME).exists()


def test_a_foreign_history_file_stops_the_report_unchanged(tmp_path: Path, snapshot_dir: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    foreign = tmp_path / "budget.sqlite"
    foreign.write_text("quarterly budget, not a database\n")
    status = main(["report", str(snapshot_dir), "--out", str(tmp_path / "out"), "--history", str(foreign)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 3
    assert len(err) == 1 and str(foreign) in err[0] and "--history" in err[0]
    assert foreign.read_text() == "quarterly budget, not a database\n"
    assert not list(tmp_path.glob("out/rootaudit-*"))
