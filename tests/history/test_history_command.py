"""`rootaudit history`: the headline of each recorded pack, oldest first, and each control's status per
pack, as a table, CSV or JSON; --rebuild makes the same history again from the packs."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from rootaudit.cli import main
from rootaudit.history.record import read_pack, record_from_files
from rootaudit.history.render import render_history
from rootaudit.history.store import HistoryStore

SAMPLE_ZIP = next((Path(__file__).resolve().parents[2] / "samples").glob("rootaudit-*.zip"))


def _dump(path: Path) -> list[tuple]:
    """Every row of every table, without where each pack was recorded from."""
    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")]
    rows = []
    for table in tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "source"]
        rows += [(table, *r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2")]
    conn.close()
    return rows


def test_rebuild_from_the_folder_gives_the_history_recorded_from_the_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        zf.extractall(tmp_path)
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    with HistoryStore.open(tmp_path / "recorded.sqlite") as store:
        store.add(record_from_files(read_pack(SAMPLE_ZIP), str(SAMPLE_ZIP)))
    assert main(["history", "--history", str(tmp_path / "rebuilt.sqlite"), "--rebuild", str(folder),
                 str(SAMPLE_ZIP), "--quiet"]) == 0
    assert _dump(tmp_path / "rebuilt.sqlite") == _dump(tmp_path / "recorded.sqlite")


def test_a_pack_that_cannot_be_read_changes_nothing(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "not-a-pack").mkdir()
    status = main(["history", "--history", str(tmp_path / "h.sqlite"), "--rebuild", str(SAMPLE_ZIP),
                   str(tmp_path / "not-a-pack")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 3 and len(err) == 1 and "not-a-pack" in err[0]
    assert not (tmp_path / "h.sqlite").exists()


def test_views_list_every_pack_and_every_control() -> None:
    record = record_from_files(read_pack(SAMPLE_ZIP))
    org_controls = record.organization_controls()
    rows = list(csv.DictReader(io.StringIO(render_history([record], "csv"))))
    assert len(rows) == len(org_controls)
    assert {(r["control_id"], r["status"]) for r in rows} == {(c.control_id, c.shown_status)
                                                              for c in org_controls}
    assert {r["with_active_root_credentials"] for r in rows} == {
        str(record.headline["with_active_root_credentials"])}

    data = json.loads(render_history([record], "json"))
    [org] = data["organizations"]
    assert org["packs"][0]["pack_digest"] == record.digest
    assert len(org["controls"]) == len(org_controls)

    table = render_history([record], "table").splitlines()
    assert table[0] == f"{record.organization_id}: 1 pack(s), oldest first"
    assert record.digest[:12] in table[2]
    frameworks = ("AICPA", "AWS", "CIS", "HIPAA", "ISO", "NIST", "PCI")
    assert sum(1 for line in table if line.startswith(frameworks)) == len(org_controls)


def test_an_unknown_organization_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["history", "--history", str(tmp_path / "h.sqlite"), "--rebuild", str(SAMPLE_ZIP), "--quiet"])
    capsys.readouterr()
    assert main(["history", "--history", str(tmp_path / "h.sqlite"), "--org", "o-nosuchorg"]) == 3
    err = capsys.readouterr().err
    assert "--org o-nosuchorg" in err and "o-ujzde8gxd6" in err


def test_json_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["history", "--history", str(tmp_path / "h.sqlite"), "--rebuild", str(SAMPLE_ZIP), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "history" and document["exit_status"] == 0
    assert document["details"]["organizations"][0]["organization_id"] == "o-ujzde8gxd6"
