"""Bad input is counted and named in `sources`; the rest of the scan goes on."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from rootaudit.collectors.cloudtrail.local import collect_local
from rootaudit.collectors.cloudtrail.results import collected
from rootaudit.collectors.cloudtrail.scan import scan_bytes
from rootaudit.period import parse_period
from rootaudit.simulate import events as ev
from rootaudit.simulate.trail_files import TrailLayout, log_file_key, trail_objects, write_objects_to_dir
from rootaudit.simulate.trail_records import record_for

PERIOD = parse_period("2026-Q3")
ORG = "o-test000001"
ACCOUNT = "222222222222"
WHEN = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)


def _login(event_id: str, when: datetime = WHEN) -> dict:
    return record_for(ev.RootConsoleLogin(event_id, when, ACCOUNT, success=True, mfa_used=True))


def _good_tree(root: Path) -> None:
    objects = trail_objects(
        TrailLayout(ORG, "bucket"),
        [_login("good-1"), _login("good-2", WHEN + timedelta(days=1))],
        seed=1,
        noise_per_file=30,
    )
    write_objects_to_dir(objects, root)


def _put(root: Path, name: str, data: bytes) -> str:
    key = log_file_key(TrailLayout(ORG, "bucket"), ACCOUNT, "us-east-1", WHEN + timedelta(minutes=5), name)
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


def _scan(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    tallies, extra = collect_local(root, PERIOD, ORG, [ACCOUNT], None)
    result = collected(tallies, PERIOD, extra)
    return result.frames["sources"], result.frames["root_activity"]


def _file(records: list[dict]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode(), mtime=0)


def test_each_bad_file_is_named_and_the_rest_is_read(tmp_path: Path) -> None:
    _good_tree(tmp_path)
    whole = _file([_login("in-truncated-file")] * 1 + [_login(f"x{i}") for i in range(400)])
    bad = {
        _put(tmp_path, "truncated", whole[: len(whole) // 2]): ("partial", "truncated gzip"),
        _put(tmp_path, "notjson", gzip.compress(b"this is not json at all", mtime=0)): (
            "skipped",
            "not JSON",
        ),
        _put(tmp_path, "plaintext", b"hello, not gzip either"): ("skipped", "not JSON"),
        _put(tmp_path, "digestlike", gzip.compress(json.dumps({"awsAccountId": ACCOUNT}).encode())): (
            "skipped",
            "not a CloudTrail log file",
        ),
        _put(
            tmp_path,
            "nofields",
            _file(
                [
                    {"userIdentity": {"type": "Root"}, "eventName": "ConsoleLogin"},
                    _login("beside-the-bad-record"),
                ]
            ),
        ): ("partial", "record without the expected fields (eventTime, eventID, eventSource)"),
        _put(tmp_path, "corrupt", whole[:40] + b"\x00" * 64 + whole[104:]): ("skipped", "corrupt gzip"),
    }
    sources, activity = _scan(tmp_path)
    rows = sources.set_index("item")
    for key, (status, reason) in bad.items():
        assert rows.loc[key, "status"] == status, key
        assert reason in rows.loc[key, "reason"], (key, rows.loc[key, "reason"])
    total = sources[sources["item"] == "*"].iloc[0]
    assert total["status"] == "partial" and "6 item(s)" in total["reason"]
    ids = set(activity["event_id"])
    assert {"good-1", "good-2", "beside-the-bad-record", "in-truncated-file"} <= ids


def test_truncated_gzip_keeps_the_complete_records_before_the_cut() -> None:
    records = [_login(f"r{i}") for i in range(400)]
    data = _file(records)
    scan = scan_bytes("cut.json.gz", data[: int(len(data) * 0.6)])
    assert scan.status == "partial" and "truncated gzip" in scan.reason
    got = [r["eventID"] for r in scan.records]
    assert 0 < len(got) < 400 and got == [f"r{i}" for i in range(len(got))]


def test_truncated_file_without_root_markers_is_still_partial() -> None:
    noise = json.loads(
        gzip.decompress(
            next(
                iter(
                    v
                    for k, v in trail_objects(
                        TrailLayout(ORG, "b"), [_login("a")], noise_per_file=200
                    ).items()
                    if "/CloudTrail/" in k
                )
            )
        )
    )["Records"]
    noise = [r for r in noise if r["eventID"] != "a"]
    data = _file(noise)
    scan = scan_bytes("noise.json.gz", data[: len(data) // 2])
    assert scan.status == "partial" and scan.records == []


def test_records_in_another_key_order_are_found_by_the_slow_path() -> None:
    shuffled = [dict(reversed(list(_login(f"s{i}").items()))) for i in range(3)]
    scan = scan_bytes("reordered.json.gz", _file(shuffled))
    assert scan.status == "read" and sorted(r["eventID"] for r in scan.records) == ["s0", "s1", "s2"]


def test_pretty_printed_log_file_is_read_whole() -> None:
    data = gzip.compress(json.dumps({"Records": [_login("pretty")]}, indent=2).encode())
    scan = scan_bytes("pretty.json.gz", data)
    assert scan.status == "read" and [r["eventID"] for r in scan.records] == ["pretty"]


def test_marker_in_a_non_root_record_is_not_a_finding() -> None:
    record = record_for(
        ev.RootKeyCall("k", WHEN, "us-east-1", ACCOUNT, "AKIAX", "s3.amazonaws.com", "Get", "r")
    )
    record["userIdentity"] = {
        "type": "IAMUser",
        "arn": "arn:aws:iam::1:user/a",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAUSER",
    }
    record["requestParameters"] = {"note": "Root"}
    scan = scan_bytes("f.json.gz", _file([record]))
    assert scan.status == "read" and scan.records == [] and scan.events_read == 1
