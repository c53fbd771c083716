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
