"""The history store: keyed by pack digest, versioned, refuses foreign or damaged files unchanged, and
two recorders at once both land. Records come from the sample pack in samples/ (a real pack)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path

import pytest

from rootaudit.history.record import PackReadError, read_pack, record_from_files
from rootaudit.history.store import APPLICATION_ID, SCHEMA_VERSION, HistoryError, HistoryStore

SAMPLE_ZIP = next((Path(__file__).resolve().parents[2] / "samples").glob("rootaudit-*.zip"))


@pytest.fixture(scope="module")
def record():
    return record_from_files(read_pack(SAMPLE_ZIP), str(SAMPLE_ZIP))


def test_record_reads_the_pack(record) -> None:
    assert record.organization_id.startswith("o-") and record.period == "2026-Q3"
    assert len(record.digest) == 64 and len(record.snapshot_digest) == 64
    members = [a for a in record.accounts if not a.is_management]
    assert record.headline["member_accounts"] == len(members)
    assert record.headline["with_active_root_credentials"] == sum(a.root == "active" for a in members)
    assert record.headline["not_assessed"] == sum(a.root == "not_assessed" for a in members)
    assert any(c.account_id == "" for c in record.controls)
    assert {e.status for e in record.exceptions} == {"active", "expired"}
    # every control's rule, from the pack's own mapping files (inputs/mappings/)
    assert {(c.framework, c.version, c.control_id) for c in record.controls} <= set(record.rules)
    au9 = record.rules[("NIST SP 800-53", "Rev. 5", "AU-9")]
    assert au9.startswith("LOG_FILE_INTEGRITY and PACK_INTEGRITY"), au9


def test_a_pack_recorded_twice_is_stored_once(tmp_path: Path, record) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        assert store.add(record) is True
        assert store.add(record) is False
        assert store.digests() == [record.digest]
        back = store.get(record.digest)
    assert back == record


def test_the_history_rebuilt_from_the_folder_or_the_zip_is_the_same(tmp_path: Path, record) -> None:
    import zipfile

    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        zf.extractall(tmp_path / "unzipped")
    [folder] = (tmp_path / "unzipped").iterdir()
    from_folder = record_from_files(read_pack(folder), str(SAMPLE_ZIP))
    assert from_folder == record


def test_previous_is_the_latest_earlier_pack_of_the_same_organization(tmp_path: Path, record) -> None:
    q2 = dataclasses.replace(record, digest="a" * 64, period="2026-Q2", period_start="2026-04-01T00:00:00Z")
    q1 = dataclasses.replace(record, digest="b" * 64, period="2026-Q1", period_start="2026-01-01T00:00:00Z")
    other = dataclasses.replace(q2, digest="c" * 64, organization_id="o-other")
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        for r in (record, q2, q1, other):
            store.add(r)
        assert store.previous(record).digest == q2.digest
        assert store.previous(q2).digest == q1.digest
        assert store.previous(q1) is None
        assert store.digests(record.organization_id) == [q1.digest, q2.digest, record.digest]
        assert store.organizations() == sorted({record.organization_id, "o-other"})


def _unchanged_after_refusal(path: Path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(HistoryError, match=match) as info:
        HistoryStore.open(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert not Path(f"{path}-journal").exists()


def test_a_text_file_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("my notes\n")
    _unchanged_after_refusal(path, "not a rootaudit history")


def test_another_applications_database_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    _unchanged_after_refusal(path, "not a rootaudit history")


def test_a_damaged_history_is_refused_and_left_unchanged(tmp_path: Path, record) -> None:
    path = tmp_path / "h.sqlite"
    with HistoryStore.open(path) as store:
        store.add(record)
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # every page after the first overwritten
    path.write_bytes(bytes(data))
    _unchanged_after_refusal(path, "damaged")


def test_a_history_from_a_newer_rootaudit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    _unchanged_after_refusal(path, "newer rootaudit")


def test_a_new_file_gets_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "h.sqlite"
    HistoryStore.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    with pytest.raises(HistoryError, match="no history here yet"):
        HistoryStore.open(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


def test_two_recorders_at_once_both_land(tmp_path: Path, record) -> None:
    path = tmp_path / "h.sqlite"
    HistoryStore.open(path).close()
    records = [dataclasses.replace(record, digest=d * 64) for d in "de"]
    # A third connection holds the write lock while both recorders start: each must wait for it and
    # for the other, then land.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = threading.Barrier(3)
    errors: list[BaseException] = []

    def record_one(r) -> None:
        try:
            with HistoryStore.open(path) as store:
                started.wait()
                store.add(r)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=record_one, args=(r,)) for r in records]
    for t in threads:
        t.start()
    started.wait()
    holder.execute("COMMIT")
    holder.close()
    for t in threads:
        t.join()
    assert errors == []
    with HistoryStore.open(path) as store:
        assert sorted(store.digests()) == sorted(r.digest for r in records)
        assert all(len(store.get(r.digest).controls) == len(record.controls) for r in records)


def test_a_folder_that_is_not_a_pack_is_named(tmp_path: Path) -> None:
    with pytest.raises(PackReadError, match=str(tmp_path)):
        read_pack(tmp_path)
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(PackReadError, match=r"x\.zip"):
        read_pack(tmp_path / "x.zip")


def test_a_version_1_history_is_migrated_on_open_and_keeps_its_packs(tmp_path: Path, record) -> None:
    from rootaudit.history.store import MIGRATIONS

    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO packs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                 (record.digest, record.snapshot_digest, record.organization_id, record.period,
                  record.period_start, record.period_end, record.collected_at, record.tool_version, "{}",
                  "{}", "v1"))
    account = record.accounts[0]
    conn.execute("INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (record.digest, account.account_id, account.name, account.state, account.ou_path,
                  account.joined_method, int(account.is_management), account.root, account.detail, "[]"))
    conn.close()
    with HistoryStore.open(path) as store:
        [back] = store.records()
        assert back.digest == record.digest and back.accounts[0].method == ""  # not recorded by version 1
        assert back.rules == {}  # nor the controls' rules (version 3): of those, a diff says nothing
        assert store.add(record) is False  # the same pack, already there; recording it again (as
        assert store.get(record.digest).rules == record.rules  # history --rebuild does) adds its rules
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    conn.close()


def test_a_summary_read_leaves_the_account_rows_out(tmp_path: Path, record) -> None:
    with HistoryStore.open(tmp_path / "h.sqlite") as store:
        store.add(record)
        [summary] = store.records(summary=True)
    assert summary.accounts == ()
    assert summary.controls == tuple(record.organization_controls())
    assert summary.headline == record.headline
