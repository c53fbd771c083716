"""Tampering with the simulated organization trail's bucket, every change undone afterwards: for the
fault matrix's CloudTrail integrity case (tests/reliability/test_reliability_faults.py) and its
neighbours (tests/reliability/test_reliability_trail_integrity.py)."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from typing import Any

from rootaudit.simulate.trail_digests import region_key, signing_string


def clean_account(sim: Any) -> str:
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


def digest_of(bucket: Bucket, log_key: str) -> tuple[str, dict[str, Any]]:
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
    key, _ = digest_of(bucket, log_key)
    bucket.delete(key)
    return key


def _break_chain(bucket: Bucket, log_key: str) -> str:
    """The digest after the file's, re-signed with the region's own key, recording another hash for the
    file's digest: a signature that verifies on a chain that does not hold."""
    key, _ = digest_of(bucket, log_key)
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
    "emptied log file": (_empty, {"hash_mismatch"}),
    "deleted digest": (_delete_digest, {"digest_missing"}),
    "broken chain": (_break_chain, {"chain_broken"}),
}
