"""CloudTrail's own integrity, end to end against the simulated organization: the trail's digest files
prove every log file the run read, and a log file edited, deleted or emptied, a digest deleted or a chain
broken is named by file in `sources`, never validates, and leaves the account's activity controls
NOT_ASSESSED (exit 2), never PASS."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from rootaudit.collectors.cloudtrail.integrity import INTEGRITY_GAPS
from rootaudit.collectors.cloudtrail.layout import log_delivery_time
from rootaudit.simulate.trail_digests import region_key, signing_string

ACTIVITY = "NO_ROOT_CONSOLE_LOGIN|NO_ROOT_API_CALLS"


def _clean_account(sim: Any) -> str:
    return next(a.account_id for a in sim.scenario.members() if a.kind == "clean" and a.state == "ACTIVE")


class Bucket:
    """The organization trail's bucket, with every change undone afterwards."""

    def __init__(self, sim: Any) -> None:
        self.s3 = sim.client("s3")
        self.name = sim.scenario.trail.bucket
        self.saved: dict[str, tuple[bytes, dict[str, str]]] = {}

    def keys(self, contains: str) -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name):
            out += [o["Key"] for o in page.get("Contents", []) if contains in o["Key"]]
        return sorted(out)

    def get(self, key: str) -> tuple[bytes, dict[str, str]]:
        answer = self.s3.get_object(Bucket=self.name, Key=key)
        return answer["Body"].read(), answer.get("Metadata") or {}

    def _save(self, key: str) -> None:
        if key not in self.saved:
            self.saved[key] = self.get(key)

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self._save(key)
        self.s3.put_object(Bucket=self.name, Key=key, Body=body, Metadata=metadata or {})

    def delete(self, key: str) -> None:
        self._save(key)
        self.s3.delete_object(Bucket=self.name, Key=key)

    def restore(self) -> None:
        for key, (body, metadata) in self.saved.items():
            self.s3.put_object(Bucket=self.name, Key=key, Body=body, Metadata=metadata)


def _digest_of(bucket: Bucket, log_key: str) -> tuple[str, dict[str, Any]]:
    account_region = log_key.split("/CloudTrail/")[0]
    region = log_key.split("/CloudTrail/")[1].split("/")[0]
    for key in bucket.keys(f"{account_region}/CloudTrail-Digest/{region}/"):
        doc = json.loads(gzip.decompress(bucket.get(key)[0]))
        if any(f["s3Object"] == log_key for f in doc["logFiles"]):
            return key, doc
    raise AssertionError(f"no digest lists {log_key}")


def _edit(bucket: Bucket, log_key: str) -> str:
    records = json.loads(gzip.decompress(bucket.get(log_key)[0]))
    records["Records"][0]["sourceIPAddress"] = "203.0.113.66"
    bucket.put(log_key, gzip.compress(json.dumps(records).encode()))
    return log_key


def _delete(bucket: Bucket, log_key: str) -> str:
    bucket.delete(log_key)
    return log_key


def _empty(bucket: Bucket, log_key: str) -> str:
    bucket.put(log_key, gzip.compress(b'{"Records":[]}'))
    return log_key


def _delete_digest(bucket: Bucket, log_key: str) -> str:
    key, _ = _digest_of(bucket, log_key)
    bucket.delete(key)
    return key


def _break_chain(bucket: Bucket, log_key: str) -> str:
    """The digest after the file's, re-signed with the region's own key, recording another hash for the
    file's digest: a signature that verifies on a chain that does not hold."""
    key, _ = _digest_of(bucket, log_key)
    region = log_key.split("/CloudTrail/")[1].split("/")[0]
    after = next(k for k in bucket.keys(key.rsplit("/", 4)[0]) if k > key)
    nxt = json.loads(gzip.decompress(bucket.get(after)[0]))
    assert nxt["previousDigestS3Object"] == key
    nxt["previousDigestHashValue"] = hashlib.sha256(b"another digest").hexdigest()
    content = json.dumps(nxt, separators=(",", ":")).encode()
    signature = region_key(region).sign(signing_string(nxt["digestEndTime"], nxt["digestS3Bucket"], after,
                                                       content, nxt["previousDigestSignature"]))
    bucket.put(after, gzip.compress(content),
               {"signature": signature, "signature-algorithm": "SHA256withRSA"})
    return key


CASES: dict[str, tuple[Callable[[Bucket, str], str], set[str]]] = {
    "edited log file": (_edit, {"hash_mismatch"}),
    "deleted log file": (_delete, {"file_missing"}),
    "log file replaced by empty Records": (_empty, {"hash_mismatch"}),
    "deleted digest": (_delete_digest, {"digest_missing"}),
    "broken chain": (_break_chain, {"chain_broken"}),
}


@pytest.mark.slow  # a whole run
def test_every_log_file_of_the_simulated_trail_validates(baseline: Any) -> None:
    sources = baseline.snapshot["sources"]
    files = sources[sources["source"].str.startswith("s3://") & (sources["item"] == "*")]
    assert len(files) > 0
    assert not sources["status"].isin(INTEGRITY_GAPS).any(), sources[sources["status"].isin(INTEGRITY_GAPS)]
    assert (files["files_validated"] == files["files_read"]).all()
    assert (files["digests_validated"] == files["digests_read"]).all() and files["digests_read"].sum() > 0
    assert (files["read_end"] > files["period_end"]).all()  # the grace window, stated
    activity = baseline.snapshot["root_activity"]
    assert len(activity) > 0 and set(activity["log_file_integrity"]) == {"validated"}


@pytest.mark.slow  # one whole run per case
@pytest.mark.parametrize("case", sorted(CASES))
def test_case_trail_tampered(case: str, pipeline: Any, baseline: Any) -> None:
    tamper, statuses = CASES[case]
    sim = pipeline.sim
    target = _clean_account(sim)
    base = baseline.control_results
    mine = base[(base["account_id"] == target) & base["rationale"].str.contains(ACTIVITY, regex=True)]
    assert "PASS" in set(mine["status"])  # what the tampering must not leave standing
    bucket = Bucket(sim)
    log_key = next(k for k in bucket.keys(f"/{target}/CloudTrail/us-east-1/")
                   if pipeline.period.contains(log_delivery_time(k)))
    try:
        named = tamper(bucket, log_key)
        run = pipeline.run(render=False)
    finally:
        bucket.restore()
    sources = run.snapshot["sources"]
    rows = sources[(sources["account_id"] == target) & (sources["item"] == named)]
    shown = sources[sources["account_id"] == target][["item", "status", "reason"]]
    assert set(rows["status"]) == statuses, shown
    assert rows["reason"].str.len().min() > 20
    if named != log_key:  # the file whose digest is gone or untrusted does not validate either
        file_rows = sources[(sources["account_id"] == target) & (sources["item"] == log_key)]
        assert len(file_rows) == 1 and file_rows.iloc[0]["status"] in INTEGRITY_GAPS
    cr = run.control_results
    activity = cr[(cr["account_id"] == target) & cr["rationale"].str.contains(ACTIVITY, regex=True)]
    assert "PASS" not in set(activity["status"]), activity[["control_id", "status"]]
    assert "NOT_ASSESSED" in set(activity["status"])
    org = cr[cr["account_id"].isna() & cr["rationale"].str.contains(ACTIVITY, regex=True)]
    assert "PASS" not in set(org["status"])
    # The log-integrity signal (NIST AU-9 and the like) finds the change, where the setting alone would pass.
    def coverage(outcome: Any) -> Any:
        signals = outcome.results.signals
        return signals[(signals["account_id"] == target) & (signals["signal"] == "CLOUDTRAIL_COVERAGE")]

    after, before = coverage(run), coverage(baseline)
    assert list(after["value"]) == ["FAIL"] and "validation" in after["evidence"].iloc[0]
    assert list(before["value"]) == ["PASS"] and "validated against" in before["evidence"].iloc[0]
    assert run.status == 2
