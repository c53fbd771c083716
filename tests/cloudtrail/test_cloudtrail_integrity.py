"""CloudTrail's own integrity check (`integrity.check_stream`) on AWS's documented digest file and on the
simulator's digests written hourly, as AWS writes them (the end-to-end cases against the simulated
organization are in tests/reliability/test_reliability_trail_integrity.py)."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta

from rootaudit.collectors.cloudtrail.integrity import (
    DIGEST_INVALID,
    NO_DIGEST,
    VALIDATED,
    DigestObject,
    PublicKey,
    ReadFile,
    check_stream,
    signing_string,
)
from rootaudit.simulate.trail_digests import region_key
from rootaudit.simulate.trail_files import TrailLayout, trail_objects
from rootaudit.simulate.trail_records import noise_record
from tests.support.aws_documents import example

DOC = "cloudtrail-digest-file.json"


def _documented_keys() -> dict[str, PublicKey]:
    listed = example(DOC, "list_public_keys")["publicKeyList"]
    return {k["Fingerprint"]: PublicKey(base64.b64decode(k["Value"]),
                                        datetime.fromtimestamp(float(k["ValidityStartTime"]), UTC),
                                        datetime.fromtimestamp(float(k["ValidityEndTime"]), UTC))
            for k in listed}


def test_the_documented_digest_is_read_and_its_example_signature_refused() -> None:
    """AWS's sample digest parses, its key is found by fingerprint (the SubjectPublicKeyInfo one of the
    sample keys) and loads; the sample signature is not a real one, so it must not verify, and the log
    file it lists is not validated."""
    digest = example(DOC, "digest")
    meta = example(DOC, "signature_metadata")
    documented = _documented_keys()
    assert digest["digestPublicKeyFingerprint"] in documented
    log = digest["logFiles"][0]

    def check(keys: dict[str, PublicKey]) -> tuple[dict[str, str], object]:
        result = check_stream(
            digest["digestS3Bucket"],
            [DigestObject(digest["digestS3Object"], gzip.compress(json.dumps(digest).encode()),
                          meta["signature"], meta["signature-algorithm"])],
            keys,
            [ReadFile(log["s3Object"], log["hashValue"])],
            (datetime(2015, 8, 17, 14, 30, tzinfo=UTC), datetime(2015, 8, 17, 15, 0, tzinfo=UTC)),
        )
        (row,) = result.rows
        assert row["status"] == DIGEST_INVALID and row["item"] == digest["digestS3Object"]
        assert result.files[log["s3Object"]][0] == DIGEST_INVALID
        assert result.digests_read == 1 and result.digests_validated == 0 and result.files_validated == 0
        return row, result

    # The sample key's documented validity (June to July 2015) ends before the sample digest (August).
    row, _ = check(documented)
    assert "was not valid at the digest's end time" in row["reason"]
    # Without the validity, the key loads and the sample signature is checked, and refused.
    row, _ = check({fp: PublicKey(k.der) for fp, k in documented.items()})
    assert "signature verification failed" in row["reason"]


def test_the_documented_empty_digest_is_read() -> None:
    """An 'empty' digest (no log files, null event times) is a digest like any other: it covers its hour."""
    digest = example(DOC, "empty_digest")
    start, end = datetime(2015, 8, 20, 17, 1, 31, tzinfo=UTC), datetime(2015, 8, 20, 18, 1, 31, tzinfo=UTC)
    body = gzip.compress(json.dumps(digest).encode())
    keys = {fp: PublicKey(k.der) for fp, k in _documented_keys().items()}
    result = check_stream(digest["digestS3Bucket"], [DigestObject(digest["digestS3Object"], body)], keys, [],
                          (start, end))
    statuses = {r["status"] for r in result.rows}
    assert statuses == {DIGEST_INVALID}  # no signature in the metadata, none recorded by a next digest
    assert "not available" in result.rows[0]["reason"]


def test_the_signing_string_is_the_documented_one() -> None:
    digest = example(DOC, "digest")
    content = json.dumps(digest).encode()
    lines = signing_string(digest, content).decode().split("\n")
    assert lines[0] == "2015-08-17T15:01:31Z"
    assert lines[1] == f"{digest['digestS3Bucket']}/{digest['digestS3Object']}"
    assert len(lines[2]) == 64 and lines[3] == digest["previousDigestSignature"]
    starting = {**digest, "previousDigestSignature": None}
    assert signing_string(starting, content).decode().endswith("\nnull")  # as the AWS CLI writes it


def _hourly(hours: int = 30) -> tuple[dict[str, bytes], dict[str, dict[str, str]], tuple[datetime, datetime]]:
    import random

    start = datetime(2026, 8, 3, 0, 0, tzinfo=UTC)
    rng = random.Random(5)
    records = [noise_record(rng, "222222222222", "us-east-1", start + timedelta(hours=h, minutes=7))
               for h in range(0, hours, 5)]
    window = (start, start + timedelta(hours=hours))
    objects = trail_objects(TrailLayout("o-test000001", "trail-bucket"), records, noise_per_file=3,
                            digest_window=(window[0] - timedelta(hours=1), window[1] + timedelta(hours=3)),
                            hourly_digests=True)
    return dict(objects), objects.metadata, window


def _check(objects: dict[str, bytes], metadata: dict[str, dict[str, str]], window: tuple[datetime, datetime],
           local: bool = False) -> object:
    key = region_key("us-east-1")
    digests = [DigestObject(k, v, None if local else metadata[k]["signature"])
               for k, v in sorted(objects.items()) if "/CloudTrail-Digest/" in k]
    files = [ReadFile(k, __import__("hashlib").sha256(gzip.decompress(v)).hexdigest())
             for k, v in sorted(objects.items()) if "/CloudTrail/" in k]
    return check_stream(None if local else "trail-bucket", digests, {key.fingerprint: PublicKey(key.der)},
                        files, window)


def test_hourly_digests_validate_every_file_and_every_hour() -> None:
    objects, metadata, window = _hourly()
    digests = [k for k in objects if "/CloudTrail-Digest/" in k]
    assert len(digests) >= 30  # one an hour, empty hours included
    for local in (False, True):
        result = _check(objects, metadata, window, local=local)
        assert result.rows == [], result.rows  # type: ignore[attr-defined]
        assert {s for s, _ in result.files.values()} == {VALIDATED}  # type: ignore[attr-defined]


def test_an_hour_without_its_digest_is_a_gap_in_a_local_copy_too() -> None:
    objects, metadata, window = _hourly()
    digests = sorted(k for k in objects if "/CloudTrail-Digest/" in k)
    del objects[digests[10]]
    result = _check(objects, metadata, window, local=True)
    found = {r["item"]: r["status"] for r in result.rows}  # type: ignore[attr-defined]
    # The one before it cannot be checked either: in a local copy its signature is known only from the
    # digest that followed it.
    assert found == {digests[10]: "digest_missing", digests[9]: "digest_invalid"}


def test_digests_that_cover_only_part_of_the_window_leave_the_rest_uncovered() -> None:
    objects, metadata, window = _hourly()
    later = (window[0] - timedelta(hours=6), window[1])
    result = _check(objects, metadata, later)
    gaps = [r for r in result.rows if r["status"] == NO_DIGEST]  # type: ignore[attr-defined]
    assert len(gaps) == 1 and "2026-08-02T18:00:00Z" in gaps[0]["reason"]


def _source_row(item: str, status: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {"source": "s3://trail-bucket/org", "account_id": "222222222222",
                               "region": "us-east-1", "item": item, "status": status,
                               "reason": f"{status} reason", "files_read": None, "files_validated": None,
                               "digests_validated": None}
    return {**base, **values}


def test_log_file_integrity_rests_on_the_validation_of_the_files_read() -> None:
    from rootaudit.controls.signals import FAIL, NOT_ASSESSED, PASS, LogIntegrity, Signal

    setting = Signal(PASS, "organization trail with log file validation")
    totals = _source_row("*", "read", files_read=4, files_validated=4, digests_validated=3)
    assert LogIntegrity([totals]).of("222222222222", setting).value == PASS
    assert "4 of 4 log file(s)" in LogIntegrity([totals]).of("222222222222", setting).evidence
    changed = [totals, _source_row("a.json.gz", "hash_mismatch")]
    assert LogIntegrity(changed).of("222222222222", setting).value == FAIL
    unchecked = [totals, _source_row("digests 1..2", "no_digest")]
    assert LogIntegrity(unchecked).of("222222222222", setting).value == NOT_ASSESSED
    # A trail without log file validation fails whatever the files say.
    assert LogIntegrity([totals]).of("222222222222", Signal(FAIL, "no validation")).value == FAIL
    # No file source read the account's files: the setting alone supports no PASS.
    lookup = LogIntegrity([]).of("222222222222", setting)
    assert lookup.value == NOT_ASSESSED and "not checked by rootaudit" in lookup.evidence
