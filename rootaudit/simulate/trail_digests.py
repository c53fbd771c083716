"""CloudTrail digest files for the simulated organization trail, written and signed as CloudTrail does.

AWS CloudTrail User Guide, "CloudTrail digest file structure" and "Custom implementations of CloudTrail
log file integrity validation":
- one digest per account, region and hour, at
  `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
  <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>.json.gz` (the digest's end);
- each lists the log files delivered in [digestStartTime, digestEndTime) with the SHA-256 of each file's
  uncompressed content, and chains to the previous digest (its key, the SHA-256 of its uncompressed
  content, its signature); the first ("starting") digest has those fields null;
- the signature is SHA256withRSA over the data-signing string
  `<digestEndTime>\\n<bucket>/<digest key>\\n<hex sha256 of this digest's uncompressed content>\\n<previous
  digest's signature, or "null">`, hex-encoded, in the object's metadata `signature`, with
  `signature-algorithm` SHA256withRSA;
- the private key is unique to the region; ListPublicKeys gives the public key (DER, PKCS#1), its
  fingerprint and validity.

Where AWS does not document something the simulation chooses, and says so: the fingerprint is the MD5 of
the DER public key (AWS's are 32 hex digits too); one key per region, valid for `KEY_VALIDITY`; digests
end at minute 1, second 31 past the hour (the user guide's example: `20150817T150131Z`).

`hourly=False` (the default scenario's trail) writes a digest only for the hours in which log files were
delivered, each starting where the previous one ended, so that a quarter of a large organization stays
cheap to simulate and to read; the chain, the coverage and the signatures are the same as AWS's.
`hourly=True` writes every hour, empty ones included ("CloudTrail will deliver a digest file even when
there has been no API activity"), as AWS does.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SIGNATURE_ALGORITHM = "SHA256withRSA"
HASH_ALGORITHM = "SHA-256"
# Digests end at hh:01:31 (the user guide's example digest ends at 15:01:31).
DIGEST_OFFSET = timedelta(minutes=1, seconds=31)
KEY_VALIDITY = (datetime(2015, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class RegionKey:
    region: str
    private_key: rsa.RSAPrivateKey
    der: bytes  # the public key, DER, PKCS#1 RSAPublicKey (ListPublicKeys' Value)
    fingerprint: str
    valid_from: datetime
    valid_to: datetime

    def sign(self, data: bytes) -> str:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


_keys: dict[str, RegionKey] = {}
_keys_lock = threading.Lock()


def region_key(region: str) -> RegionKey:
    """The region's signing key pair, made once per process (the private key never leaves memory)."""
    with _keys_lock:
        key = _keys.get(region)
        if key is None:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            der = private.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.PKCS1)
            key = RegionKey(region, private, der, hashlib.md5(der).hexdigest(), *KEY_VALIDITY)
            _keys[region] = key
        return key


def public_keys(region: str, start: datetime, end: datetime) -> list[RegionKey]:
    """The region's keys whose validity overlaps [start, end] (ListPublicKeys)."""
    key = region_key(region)
    return [key] if key.valid_from <= end and start <= key.valid_to else []


def signing_string(end_time: str, bucket: str, key: str, content: bytes,
                   previous_signature: str | None) -> bytes:
    """The data-signing string of a digest (user guide: "Recreate the data signing string"; the AWS CLI
    writes "null" for a starting digest's missing previous signature)."""
    return (f"{end_time}\n{bucket}/{key}\n{hashlib.sha256(content).hexdigest()}\n"
            f"{previous_signature if previous_signature is not None else 'null'}").encode()


@dataclass(frozen=True)
class LogFile:
    key: str
    delivered: datetime
    sha256: str  # of the uncompressed content
    oldest: datetime
    newest: datetime


@dataclass(frozen=True)
class DigestLayout:
    base: str  # "[prefix/]AWSLogs/[o-id/]"
    bucket: str
    trail_name: str
    home_region: str

    def key(self, account: str, region: str, end: datetime) -> str:
        return (f"{self.base}{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
                f"{account}_CloudTrail-Digest_{region}_{self.trail_name}_{self.home_region}_"
                f"{end:%Y%m%dT%H%M%SZ}.json.gz")


def _ends(files: Sequence[LogFile], start: datetime, end: datetime, hourly: bool) -> list[datetime]:
    """The digests' end times covering deliveries in [start, end)."""
    first = start.replace(minute=0, second=0, microsecond=0) + DIGEST_OFFSET
    if first <= start:
        first += timedelta(hours=1)
    if hourly:
        ends, moment = [], first
        while moment - timedelta(hours=1) < end:
            ends.append(moment)
            moment += timedelta(hours=1)
        return ends
    wanted = set()
    for f in files:
        if start <= f.delivered < end:
            moment = f.delivered.replace(minute=0, second=0, microsecond=0) + DIGEST_OFFSET
            wanted.add(moment if moment > f.delivered else moment + timedelta(hours=1))
    last = first
    while last - timedelta(hours=1) < end:
        last += timedelta(hours=1)
    # The digest that closes the window, and one after it: a reader of a local copy takes a digest's
    # signature from the next digest's previousDigestSignature (S3 metadata does not travel).
    wanted.update({last - timedelta(hours=1), last})
    return sorted(wanted)


def stream_digests(layout: DigestLayout, account: str, region: str, files: Sequence[LogFile],
                   start: datetime, end: datetime, hourly: bool) -> list[tuple[str, bytes, dict[str, str]]]:
    """(key, gzipped body, S3 metadata) of the digests of one account and region for deliveries in
    [start, end): a starting digest first, each next chained to the one before."""
    key_pair = region_key(region)
    out: list[tuple[str, bytes, dict[str, str]]] = []
    previous: tuple[str, str, str] | None = None  # key, sha256 of its content, signature
    digest_start = start
    for digest_end in _ends(files, start, end, hourly):
        listed = sorted((f for f in files if digest_start <= f.delivered < digest_end),
                        key=lambda f: (f.delivered, f.key))
        key = layout.key(account, region, digest_end)
        end_text = digest_end.strftime(TIME_FORMAT)
        digest: dict[str, Any] = {
            "awsAccountId": account,
            "digestStartTime": digest_start.strftime(TIME_FORMAT),
            "digestEndTime": end_text,
            "digestS3Bucket": layout.bucket,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": key_pair.fingerprint,
            "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
            "newestEventTime": max(f.newest for f in listed).strftime(TIME_FORMAT) if listed else None,
            "oldestEventTime": min(f.oldest for f in listed).strftime(TIME_FORMAT) if listed else None,
            "previousDigestS3Bucket": layout.bucket if previous else None,
            "previousDigestS3Object": previous[0] if previous else None,
            "previousDigestHashValue": previous[1] if previous else None,
            "previousDigestHashAlgorithm": HASH_ALGORITHM if previous else None,
            "previousDigestSignature": previous[2] if previous else None,
            "logFiles": [
                {
                    "s3Bucket": layout.bucket,
                    "s3Object": f.key,
                    "hashValue": f.sha256,
                    "hashAlgorithm": HASH_ALGORITHM,
                    "newestEventTime": f.newest.strftime(TIME_FORMAT),
                    "oldestEventTime": f.oldest.strftime(TIME_FORMAT),
                }
                for f in listed
            ],
        }
        content = json.dumps(digest, separators=(",", ":")).encode("utf-8")
        signature = key_pair.sign(signing_string(end_text, layout.bucket, key, content,
                                                 previous[2] if previous else None))
        out.append((key, gzip.compress(content, mtime=0),
                    {"signature": signature, "signature-algorithm": SIGNATURE_ALGORITHM}))
        previous = (key, hashlib.sha256(content).hexdigest(), signature)
        digest_start = digest_end
    return out


def all_digests(layout: DigestLayout, files_by_stream: Mapping[tuple[str, str], Sequence[LogFile]],
                start: datetime, end: datetime, hourly: bool) -> list[tuple[str, bytes, dict[str, str]]]:
    out: list[tuple[str, bytes, dict[str, str]]] = []
    for (account, region), files in sorted(files_by_stream.items()):
        out += stream_digests(layout, account, region, files, start, end, hourly)
    return out
