"""The organization trail's objects: AWS's key layout, gzipped Records, chained digests, determinism."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re

from rootaudit.simulate.trail import scenario_objects
from rootaudit.simulate.trail_sample import MiniScenario, history, recent_period

ORG = "o-layout0001"
LOG_KEY = re.compile(
    r"^org/AWSLogs/o-layout0001/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/"
    r"\1_CloudTrail_\2_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$"
)
DIGEST_KEY = re.compile(
    r"^org/AWSLogs/o-layout0001/(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/"
    r"\1_CloudTrail-Digest_\2_organization-trail_us-east-1_\d{8}T\d{6}Z\.json\.gz$"
)


def _objects() -> dict[str, bytes]:
    period = recent_period()
    return scenario_objects(MiniScenario(period=period, history=history(period)), ORG)


def test_keys_follow_aws_layout_and_files_hold_records() -> None:
    objects = _objects()
    logs = [k for k in objects if "/CloudTrail/" in k]
    digests = [k for k in objects if "/CloudTrail-Digest/" in k]
    assert logs and digests and len(logs) + len(digests) == len(objects)
    for key in logs:
        m = LOG_KEY.match(key)
        assert m, key
        assert m[6] == f"{m[3]}{m[4]}{m[5]}"  # the file's time is in its day folder
        body = objects[key]
        assert body[:2] == b"\x1f\x8b"
        records = json.loads(gzip.decompress(body))["Records"]
        assert records and all(r["recipientAccountId"] == m[1] and r["awsRegion"] == m[2] for r in records)
    assert all(DIGEST_KEY.match(k) for k in digests)


def test_digests_hash_their_files_and_chain() -> None:
    objects = _objects()
    streams: dict[str, list[dict]] = {}
    for key in sorted(k for k in objects if "/CloudTrail-Digest/" in k):
        digest = json.loads(gzip.decompress(objects[key]))
        assert digest["digestS3Object"] == key
        for entry in digest["logFiles"]:
            # the SHA-256 of the uncompressed content, as the user guide defines hashValue
            content = gzip.decompress(objects[entry["s3Object"]])
            assert hashlib.sha256(content).hexdigest() == entry["hashValue"]
        streams.setdefault(key.split("/CloudTrail-Digest/")[0] + key.split("/")[5], []).append(digest)
    chained = 0
    for digests in streams.values():
        for before, after in itertools.pairwise(digests):
            assert after["previousDigestS3Object"] == before["digestS3Object"]
            expected = hashlib.sha256(gzip.decompress(objects[before["digestS3Object"]])).hexdigest()
            assert after["previousDigestHashValue"] == expected
            chained += 1
    assert chained > 0
    listed = {e["s3Object"] for ds in streams.values() for d in ds for e in d["logFiles"]}
    assert listed == {k for k in objects if "/CloudTrail/" in k}


def test_same_seed_same_bytes() -> None:
    assert _objects() == _objects()


def test_files_are_read_for_the_period_and_its_stated_grace_window() -> None:
    from datetime import UTC, datetime

    from rootaudit.collectors.cloudtrail.layout import (
        DELIVERY_GRACE,
        digest_end_time,
        in_read_window,
        log_delivery_time,
        read_window,
    )
    from rootaudit.period import parse_period

    period = parse_period("2026-Q3")
    start, end = read_window(period)
    assert (start, end) == (period.start, period.end + DELIVERY_GRACE)

    def key(stamp: str) -> str:
        return (f"AWSLogs/o-a/111122223333/CloudTrail/us-east-1/2026/10/01/"
                f"111122223333_CloudTrail_us-east-1_{stamp}_9nYN7gp2eWAJHIfT.json.gz")

    assert log_delivery_time(key("20261001T0545Z")) == datetime(2026, 10, 1, 5, 45, tzinfo=UTC)
    assert in_read_window(key("20261001T0555Z"), period)  # late, inside the grace window
    assert not in_read_window(key("20261001T0600Z"), period)  # past it: not read, and sources says so
    assert not in_read_window(key("20260630T2355Z"), period)  # delivered before the period began
    assert in_read_window("AWSLogs/o-a/111122223333/CloudTrail/us-east-1/2026/10/01/stray.json.gz", period)
    digest = ("AWSLogs/o-a/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/"  # the user guide's example
              "111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz")
    assert digest_end_time(digest) == datetime(2015, 8, 17, 15, 1, 31, tzinfo=UTC)
