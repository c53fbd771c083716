"""The faster inflate (the `fast` extra: python-isal's ISA-L) gives exactly what zlib gives, on whole,
multi-member, truncated, corrupt and padded files; without it, the scan falls back to zlib (and without
StringZilla, to CPython's searches)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from typing import Any

import pytest

from rootaudit.collectors.cloudtrail import scan
from rootaudit.collectors.cloudtrail.scan import ISAL, ZLIB, Inflater, inflate, scan_bytes


def _login(event_id: str) -> dict[str, Any]:
    return {"eventVersion": "1.08", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::222222222222:root",
            "accountId": "222222222222", "accessKeyId": ""}, "eventTime": "2026-07-04T10:00:00Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn", "eventID": event_id,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {"MFAUsed": "Yes"}, "recipientAccountId": "222222222222"}


def _noise(i: int) -> dict[str, Any]:
    return {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "userName": f"u{i}"},
            "eventTime": "2026-07-04T10:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "ListBuckets", "eventID": f"n{i}", "requestParameters": {"padding": "x" * (i % 97)}}


def _file(records: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode(), mtime=0)


WHOLE = _file([_noise(i) if i % 50 else _login(f"r{i}") for i in range(3000)])
CASES = {
    "whole": WHOLE,
    "two members": WHOLE + _file([_login("second-member")]),
    "truncated": WHOLE[: int(len(WHOLE) * 0.6)],
    "corrupt": WHOLE[:40] + b"\x00" * 64 + WHOLE[104:],
    "corrupt late": WHOLE[: len(WHOLE) // 2] + bytes(b ^ 0xFF for b in WHOLE[len(WHOLE) // 2:][:64])
                    + WHOLE[len(WHOLE) // 2 + 64:],
    "trailing bytes": WHOLE + b"\x00garbage",
    "not gzip": json.dumps({"Records": [_login("plain")]}).encode(),
}

needs_isal = pytest.mark.skipif(ISAL is None, reason="the fast extra (isal) is not installed")


@needs_isal
def test_the_faster_inflate_is_used_when_installed() -> None:
    assert scan.INFLATER is ISAL and ISAL is not None and ISAL.name == "isal"


@needs_isal
@pytest.mark.parametrize("case", sorted(CASES))
def test_isal_gives_what_zlib_gives(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = CASES[case]
    assert ISAL is not None
    fast, slow = inflate(data, ISAL), inflate(data, ZLIB)
    assert fast.records_counted == slow.records_counted and fast.marker_seen == slow.marker_seen
    assert bool(fast.problem) == bool(slow.problem)
    assert fast.problem.split(" (")[0] == slow.problem.split(" (")[0]  # the kind of problem, not the wording
    scans = {}
    for inflater in (ISAL, ZLIB):
        monkeypatch.setattr(scan, "INFLATER", inflater)
        scans[inflater.name] = scan_bytes(case, data)
    a, b = scans["isal"], scans["zlib"]
    assert (a.status, a.events_read, a.records, a.bad_records) == (b.status, b.events_read, b.records,
                                                                    b.bad_records)
    if case == "whole":
        assert fast.content() == slow.content() == gzip.decompress(data)


@pytest.mark.parametrize(("module", "chosen", "fast", "fallback"), [
    ("isal", "INFLATER", "ISAL", "zlib"), ("stringzilla", "SEARCHER", "SZ_SEARCH", "python")])
def test_without_the_fast_extra_the_scan_falls_back(module: str, chosen: str, fast: str,
                                                    fallback: str) -> None:
    """Each module of the `fast` extra, absent, leaves the scan with its fallback."""
    code = (f"import sys; sys.modules[{module!r}] = None\n"
            "from rootaudit.collectors.cloudtrail import scan\n"
            f"print(scan.{chosen}.name, scan.{fast})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [fallback, "None"]


def test_zlib_reads_every_case() -> None:
    assert isinstance(ZLIB, Inflater)
    results = {case: scan_bytes(case, data) for case, data in CASES.items()}
    assert results["whole"].status == "read" and len(results["whole"].records) == 60
    assert results["two members"].records[-1]["eventID"] == "second-member"
    assert results["truncated"].status == "partial" and "truncated gzip" in results["truncated"].reason
    assert results["corrupt"].status == "skipped" and "corrupt gzip" in results["corrupt"].reason
    assert "trailing bytes" in results["trailing bytes"].reason
