import gzip
from pathlib import Path

import pytest

import rootaudit.snapshot as snapshot_module
from rootaudit.bounded import InputTooLarge
from rootaudit.snapshot import (
    SchemaError,
    Snapshot,
    SnapshotFileError,
    SnapshotLoadError,
    SnapshotTooLarge,
    load_snapshot,
    make_frame,
    read_raw,
    safe_relpath,
    save_snapshot,
)


def test_round_trip_keeps_frames_raw_and_digest(tmp_path: Path) -> None:
    creds = make_frame("root_credentials", [
        {"account_id": "222222222222", "assessment": "assessed", "method": "assume_root_audit",
         "password_present": False, "access_keys_active": 0, "collected_at": "2026-10-01T00:00:00Z"},
        {"account_id": "111111111111", "assessment": "not_assessed", "method": "none",
         "reason": 'AccessDenied, "quoted"\nnewline'},
    ])
    snap = Snapshot(meta={"organization_id": "o-abc"}, frames={"root_credentials": creds},
                    raw={"organizations/list_accounts": [{"Id": "1"}]})
    save_snapshot(snap, tmp_path / "s")
    back = load_snapshot(tmp_path / "s")
    assert back["root_credentials"].equals(snap["root_credentials"])
    assert back.raw == snap.raw
    assert back.digest() == snap.digest()
    assert list(back["root_credentials"]["account_id"]) == ["111111111111", "222222222222"]


def test_unknown_column_is_refused() -> None:
    with pytest.raises(SchemaError, match="unknown column"):
        make_frame("accounts", [{"account_id": "1", "colour": "red"}])


def test_raw_keys_cannot_escape_the_folder() -> None:
    assert safe_relpath("../../etc/passwd") == "etc/passwd"
    assert safe_relpath("a/<b>/c") == "a/_b_/c"


def _saved(tmp_path: Path, raw: dict[str, object]) -> Path:
    folder = tmp_path / "s"
    save_snapshot(Snapshot(meta={"organization_id": "o-abc"}, frames={}, raw=raw), folder)
    return folder


def _inflating_to(size: int) -> bytes:
    """Valid gzipped JSON of `size` bytes, compressed to a few kilobytes (a gzip bomb, on a small scale)."""
    return gzip.compress(b"[" + b" " * (size - 3) + b"0]", compresslevel=9)


def test_a_raw_response_inflating_past_the_limit_is_refused_naming_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "PACK_LIMIT", 1 << 20)
    folder = _saved(tmp_path, {"organizations/list_accounts": [{"Id": "1"}]})
    bomb = folder / "data" / "raw" / "organizations" / "list_accounts.json.gz"
    bomb.write_bytes(_inflating_to(16 << 20))
    assert bomb.stat().st_size < 64 << 10  # small on disk: only inflating it shows what it holds
    with pytest.raises(SnapshotTooLarge) as caught:
        load_snapshot(folder)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{bomb}: refused: ")
    assert f"more than {1 << 20:,} bytes" in message
    # what the commands catch for a snapshot that cannot be read, and for a file past its limit
    assert isinstance(caught.value, SnapshotLoadError) and isinstance(caught.value, InputTooLarge)


def test_the_limit_holds_for_all_raw_responses_together(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "PACK_LIMIT", 1 << 20)
    folder = _saved(tmp_path, {"a/one": [], "b/two": []})
    for name in ("a/one", "b/two"):  # each under the limit alone, over it together
        (folder / "data" / "raw" / f"{name}.json.gz").write_bytes(_inflating_to(600 << 10))
    with pytest.raises(SnapshotTooLarge, match=r"b/two\.json\.gz: refused"):
        load_snapshot(folder)
    monkeypatch.setattr(snapshot_module, "PACK_LIMIT", 2 << 20)
    assert load_snapshot(folder).raw["b/two"] == [0]  # within the limit, read whole


def test_read_raw_stops_at_its_limit() -> None:
    with pytest.raises(SnapshotTooLarge, match=r"^data/raw/x\.json\.gz: refused"):
        read_raw("data/raw/x.json.gz", _inflating_to(4096), limit=4095)
    assert read_raw("data/raw/x.json.gz", _inflating_to(4096), limit=4096) == [0]
    with pytest.raises(SnapshotFileError, match="not a gzipped JSON response"):
        read_raw("data/raw/x.json.gz", b"not gzip")


def test_report_refuses_the_snapshot_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit.cli import main

    monkeypatch.setattr(snapshot_module, "PACK_LIMIT", 1 << 20)
    folder = _saved(tmp_path, {"organizations/list_accounts": []})
    bomb = folder / "data" / "raw" / "organizations" / "list_accounts.json.gz"
    bomb.write_bytes(_inflating_to(16 << 20))
    assert main(["report", str(folder), "--out", str(tmp_path / "packs")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bomb) in err[0] and "refused" in err[0]
    assert not (tmp_path / "packs").exists() or not any((tmp_path / "packs").iterdir())
