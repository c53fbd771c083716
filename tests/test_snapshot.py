from pathlib import Path

import pytest

from rootaudit.snapshot import (
    SchemaError,
    Snapshot,
    load_snapshot,
    make_frame,
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
