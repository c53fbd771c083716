"""Re-derivation of every frame: a row edited in a pack (its raw responses left as they were) fails
verify at the re-derivation step, naming the file and the row; a pack without the raw responses a
frame rests on says so, naming the frame."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from rootaudit.collectors.rederive import rederive
from rootaudit.snapshot import SIGNATURE_FILE, load_snapshot
from tests.signing.conftest import SignedRun
from tests.signing.test_verify_signed import report, verify

Row = dict[str, str]


def edit_csv(path: Path, choose: Callable[[Row], bool], change: Callable[[Row], None]) -> Row:
    """Change the first row `choose` accepts, in place; that row as it was."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    [row] = [r for r in rows if choose(r)][:1]
    before = dict(row)
    change(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue())
    return before


def unsigned_copy(signed: SignedRun, target: Path) -> Path:
    shutil.copytree(signed.snapshot, target)
    (target / SIGNATURE_FILE).unlink()
    return target


def flip(column: str) -> Callable[[Row], None]:
    def change(row: Row) -> None:
        row[column] = {"true": "false", "false": "true"}.get(row[column], "true")
    return change


def bump(column: str) -> Callable[[Row], None]:
    def change(row: Row) -> None:
        row[column] = str(int(row[column] or 0) + 1)
    return change


# frame, which row, what is changed, the column named, the key the row is named by
EDITS: list[tuple[str, Callable[[Row], bool], Callable[[Row], None], str, str]] = [
    ("privileged_sessions", lambda r: not r["error_code"], bump("member_action_count"), "member_action_count",
     "event_id"),
    ("root_activity", lambda r: r["mfa_used"] in ("true", "false"), flip("mfa_used"), "mfa_used", "event_id"),
    ("sources", lambda r: r["item"] == "*" and r["files_validated"] not in ("", "0"), bump("files_validated"),
     "files_validated", "account_id"),
    ("monitoring", lambda r: r["status"] == "assessed", bump("alarm_subscribers"), "alarm_subscribers",
     "trail_arn"),
    ("accounts", lambda r: r["security_contact"] == "registered", lambda r: r.update(security_contact="none"),
     "security_contact", "account_id"),
    ("accounts", lambda r: bool(r["ou_path"]), lambda r: r.update(ou_path="Root/Sandbox"), "ou_path",
     "account_id"),
]


@pytest.mark.parametrize(("frame", "choose", "change", "column", "key"), EDITS,
                         ids=[f"{e[0]}-{e[3]}" for e in EDITS])
def test_an_edited_row_fails_verify_at_the_re_derivation_step(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path, frame: str,
        choose: Callable[[Row], bool], change: Callable[[Row], None], column: str, key: str) -> None:
    snapshot = unsigned_copy(signed, tmp_path / "snapshot")
    before = edit_csv(snapshot / "data" / f"{frame}.csv", choose, change)
    doc = verify(signed, capsys, report(snapshot, tmp_path / "out"))
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "derivation"), doc["details"]
    named = [p for p in doc["details"]["problems"] if p.startswith("[derivation]")]
    assert any(f"data/{frame}.csv" in p and f"{key} {before[key]}" in p and f"{column} is " in p
               for p in named), named


def test_a_snapshot_of_another_version_that_does_not_re_derive_names_that_version(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A pack whose snapshot another rootaudit collected (its collectors may have kept other raw
    responses) and whose frames this one cannot re-derive still fails; the finding says which version
    collected it, to re-perform with."""
    from rootaudit import __version__

    snapshot = unsigned_copy(signed, tmp_path / "snapshot")
    meta_path = snapshot / "snapshot.json"
    meta = json.loads(meta_path.read_text())
    meta["tool_version"] = "0.1.0"
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    frame, choose, change, _, _ = EDITS[0]
    edit_csv(snapshot / "data" / f"{frame}.csv", choose, change)
    doc = verify(signed, capsys, report(snapshot, tmp_path / "out"))
    assert doc["details"]["failed_step"] == "derivation", doc["details"]
    named = [p for p in doc["details"]["problems"] if p.startswith("[derivation]")]
    assert named and all(f"collected by rootaudit 0.1.0, this is {__version__}" in p for p in named), named


def test_the_honest_collection_is_re_derived_whole(signed: SignedRun) -> None:
    snapshot = load_snapshot(signed.snapshot)
    for frame in ("accounts", "privileged_sessions", "root_activity", "sources", "monitoring"):
        assert len(snapshot[frame]), frame  # something to re-derive
    assert (snapshot["sources"]["files_validated"].fillna(0) > 0).any()
    assert rederive(snapshot) == []


def _raw(folder: Path, key: str) -> Path:
    return folder / "data" / "raw" / f"{key}.json.gz"


def test_a_log_file_hash_kept_that_no_digest_lists_is_not_validated(signed: SignedRun,
                                                                    tmp_path: Path) -> None:
    """The file hashes are the scan's, but a hash CloudTrail's signed digest does not list cannot be
    shown as validated: change one kept hash and the sources row claiming it validated is named."""
    folder = unsigned_copy(signed, tmp_path / "snapshot")
    path = _raw(folder, "cloudtrail/streams")
    kept = json.loads(gzip.decompress(path.read_bytes()))
    stream = next(s for s in kept["streams"] if s["read_files"])
    stream["read_files"][0][1] = "0" * 64
    path.write_bytes(gzip.compress(json.dumps(kept).encode()))
    problems = [p for p in rederive(load_snapshot(folder)) if p.file == "data/sources.csv"]
    assert any(f"account_id {stream['account_id']}" in p.detail and "files_validated is" in p.detail
               for p in problems), problems
    assert any("hash_mismatch" in p.detail for p in problems), problems


def test_a_digest_kept_altered_no_longer_validates(signed: SignedRun, tmp_path: Path) -> None:
    """A digest's signature is AWS's: the kept digest edited (a log file's hash in it changed), its
    signature fails, and the sources rows that rest on it are named."""
    folder = unsigned_copy(signed, tmp_path / "snapshot")
    path = _raw(folder, "cloudtrail/streams")
    kept = json.loads(gzip.decompress(path.read_bytes()))
    stream = next(s for s in kept["streams"] if any("logFiles" in (d.get("content") or "") for d in
                                                     s.get("digests") or []))
    digest = next(d for d in stream["digests"] if json.loads(d["content"]).get("logFiles"))
    doc = json.loads(digest["content"])
    doc["logFiles"][0]["hashValue"] = "0" * 64
    digest["content"] = json.dumps(doc)
    path.write_bytes(gzip.compress(json.dumps(kept).encode()))
    problems = [p for p in rederive(load_snapshot(folder)) if p.file == "data/sources.csv"]
    assert any(f"account_id {stream['account_id']}" in p.detail and "digests_validated is" in p.detail
               for p in problems), problems


@pytest.mark.parametrize(("raw", "frames"), [
    ("cloudtrail/streams", ("privileged_sessions", "root_activity", "sources")),
    ("cloudtrail/describe_trails", ("monitoring",)),
    ("organizations/list_accounts", ("accounts",)),
])
def test_a_pack_without_the_raw_a_frame_rests_on_says_so(signed: SignedRun, tmp_path: Path, raw: str,
                                                         frames: tuple[str, ...]) -> None:
    folder = unsigned_copy(signed, tmp_path / "snapshot")
    _raw(folder, raw).unlink()
    problems = {p.file: p.detail for p in rederive(load_snapshot(folder))}
    for frame in frames:
        assert raw in problems[f"data/{frame}.csv"], problems
        assert "rest on nothing the pack can show" in problems[f"data/{frame}.csv"]


def test_verify_names_each_frame_whose_raw_the_pack_lacks(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    snapshot = unsigned_copy(signed, tmp_path / "snapshot")
    for raw in ("cloudtrail/streams", "cloudtrail/describe_trails"):
        _raw(snapshot, raw).unlink()
    doc = verify(signed, capsys, report(snapshot, tmp_path / "out"))
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "derivation"), doc["details"]
    named = [p for p in doc["details"]["problems"] if p.startswith("[derivation]")]
    for frame, raw in (("privileged_sessions", "cloudtrail/streams"), ("root_activity", "cloudtrail/streams"),
                       ("sources", "cloudtrail/streams"), ("monitoring", "cloudtrail/describe_trails")):
        assert any(f"data/{frame}.csv" in p and raw in p and "rest on nothing" in p for p in named), frame
