"""CloudTrail's own integrity and completeness check for the file sources (S3 or a local copy).

CloudTrail writes, every hour, for each account and region, a digest file naming every log file it
delivered in that hour with the SHA-256 of the file's uncompressed content, chained to the previous
digest (its key, content hash and signature) and signed SHA256withRSA with the region's private key
(AWS CloudTrail User Guide: "CloudTrail digest file structure", "Custom implementations of CloudTrail
log file integrity validation"). This module checks, for one account and region, as `aws cloudtrail
validate-logs` does and more:

- each digest: it parses, it sits where it says it was delivered, its signature (from the object's
  S3 metadata, or in a local copy from the next digest's previousDigestSignature) verifies with the
  public key ListPublicKeys gives for its fingerprint in its region;
- the chain: each digest names the one before it, with that digest's content hash and signature;
- coverage: validated digests cover every delivery time of the read window (an hour no validated digest
  covers is a gap: a digest deleted, never written, or not trusted);
- each log file read: a validated digest lists it with the same SHA-256 (else hash mismatch, not covered
  by a digest, digest missing, chain broken or digest invalid); each file a validated digest lists for
  the window was read (else missing).

Pure: it takes what was downloaded and returns statuses; the collectors do the I/O.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from rootaudit.aws import error_text
from rootaudit.collectors.cloudtrail.classify import parse_time
from rootaudit.collectors.cloudtrail.layout import digest_end_time, log_delivery_time

SIGNATURE_ALGORITHM = "SHA256withRSA"
# The members a digest must have before it is checked (the AWS CLI's validate-logs requires these).
REQUIRED = ("digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature",
            "digestEndTime", "digestStartTime")

VALIDATED = "validated"
# Statuses of a log file, a digest or an hour; every one but VALIDATED is a gap in `sources`.
HASH_MISMATCH = "hash_mismatch"  # the file's content is not what its digest lists
NOT_IN_DIGEST = "not_in_digest"  # no digest lists the file (not delivered by CloudTrail, or no digest)
FILE_MISSING = "file_missing"  # a validated digest lists a file that is not there
DIGEST_MISSING = "digest_missing"  # the chain names a digest that is not there
CHAIN_BROKEN = "chain_broken"  # a digest's link to the one before it does not match
DIGEST_INVALID = "digest_invalid"  # unreadable, moved, or its signature does not verify (or cannot be)
NO_DIGEST = "no_digest"  # delivery time that no digest covers
INTEGRITY_GAPS = frozenset({HASH_MISMATCH, NOT_IN_DIGEST, FILE_MISSING, DIGEST_MISSING, CHAIN_BROKEN,
                            DIGEST_INVALID, NO_DIGEST})


def not_checked(source: str) -> str:
    """Why CloudTrail's validation was not done for a source rootaudit reads no log files from: said in
    its `sources` rows and in LOG_FILE_INTEGRITY, so that nothing claims the files were validated."""
    if source.startswith("athena://"):
        how = ("the Athena query reads the delivered log files, but rootaudit does not see them and did not "
               "check them against CloudTrail's digests")
    elif source == "lookup":
        how = "LookupEvents returns events, not the log files CloudTrail delivered, so no digest was checked"
    else:
        how = "no log file was read"
    return f"log-file integrity was not checked by rootaudit for this source: {how}"


def from_awslogs(key: str) -> str:
    """A key or local path from its `AWSLogs/` on: the same object in a bucket and in a local copy."""
    key = key.replace("\\", "/")
    at = key.find("AWSLogs/")
    return key[at:] if at >= 0 else key


@dataclass(frozen=True)
class PublicKey:
    der: bytes  # DER, PKCS#1 RSAPublicKey (or SubjectPublicKeyInfo)
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True)
class DigestObject:
    """A digest as downloaded: its key (or local path), body and S3 signature metadata."""

    key: str
    data: bytes | None
    signature: str | None = None  # x-amz-meta-signature; None in a local copy
    signature_algorithm: str | None = None
    error: str = ""  # why it could not be downloaded


@dataclass(frozen=True)
class ReadFile:
    """A log file the scan read: its key (or local path) and the SHA-256 of its uncompressed content."""

    key: str
    sha256: str
    readable: bool = True


@dataclass
class _Digest:
    key: str
    doc: dict[str, Any]
    sha256: str
    start: datetime
    end: datetime
    signature: str | None
    status: str = VALIDATED
    reason: str = ""


@dataclass
class StreamIntegrity:
    """The outcome for one account and region."""

    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # read file key -> (status, reason)
    rows: list[dict[str, Any]] = field(default_factory=list)  # digests, hours and missing files at fault
    digests_read: int = 0
    digests_validated: int = 0

    @property
    def files_validated(self) -> int:
        return sum(1 for status, _ in self.files.values() if status == VALIDATED)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signing_string(doc: Mapping[str, Any], content: bytes) -> bytes:
    """The data-signing string CloudTrail signs (user guide, "Recreate the data signing string"); a
    starting digest's absent previous signature is written "null", as the AWS CLI does."""
    previous = doc.get("previousDigestSignature")
    return (f"{doc['digestEndTime']}\n{doc['digestS3Bucket']}/{doc['digestS3Object']}\n"
            f"{hashlib.sha256(content).hexdigest()}\n{previous if previous is not None else 'null'}").encode()


def verify_signature(key: PublicKey, doc: Mapping[str, Any], content: bytes, signature_hex: str) -> str:
    """"" when the signature verifies, else why not."""
    try:
        public = load_der_public_key(key.der)
    except ValueError as exc:
        return f"the public key for fingerprint {doc.get('digestPublicKeyFingerprint')} does not load ({exc})"
    if not isinstance(public, rsa.RSAPublicKey):
        return "the public key is not an RSA key"
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return "the signature is not hexadecimal"
    try:
        public.verify(signature, signing_string(doc, content), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "signature verification failed"
    return ""


def _parse(obj: DigestObject) -> tuple[_Digest | None, str]:
    if obj.data is None:
        return None, obj.error or "could not be read"
    try:
        content = zlib.decompress(obj.data, wbits=47)  # gzip or zlib, by its header
        doc = json.loads(content)
    except (zlib.error, ValueError) as exc:
        return None, f"not a digest file (gzipped JSON): {exc}"
    if not isinstance(doc, dict):
        return None, "not a digest file (not a JSON object)"
    lacking = [k for k in REQUIRED if k not in doc]
    start, end = parse_time(doc.get("digestStartTime")), parse_time(doc.get("digestEndTime"))
    if lacking or start is None or end is None:
        return None, f"not a digest file: lacks {', '.join(lacking) or 'readable start and end times'}"
    return _Digest(obj.key, doc, hashlib.sha256(content).hexdigest(), start, end, obj.signature), ""


def _check_digest(d: _Digest, bucket: str | None, keys: Mapping[str, PublicKey] | str,
                  successor_signature: str | None, content_of: Mapping[str, bytes]) -> str:
    doc = d.doc
    if from_awslogs(str(doc["digestS3Object"])) != from_awslogs(d.key) or (
            bucket is not None and doc["digestS3Bucket"] != bucket):
        return (f"moved from its original location (it names s3://{doc['digestS3Bucket']}/"
                f"{doc['digestS3Object']})")
    if doc.get("digestSignatureAlgorithm") != SIGNATURE_ALGORITHM:
        return f"unknown signature algorithm {doc.get('digestSignatureAlgorithm')!r}"
    if isinstance(keys, str):
        return f"its signature cannot be checked: {keys}"
    fingerprint = str(doc["digestPublicKeyFingerprint"])
    key = keys.get(fingerprint)
    if key is None:
        return f"no public key with fingerprint {fingerprint} in the region (ListPublicKeys)"
    if (key.valid_from and d.end < key.valid_from) or (key.valid_to and d.end > key.valid_to):
        return f"the public key {fingerprint} was not valid at the digest's end time {_iso(d.end)}"
    signature = d.signature
    if signature is None:
        signature = successor_signature
    elif successor_signature is not None and successor_signature != signature:
        return "its signature differs from the one the next digest records for it"
    if signature is None:
        return ("its signature is not available (a local copy keeps no S3 metadata, and no later digest "
                "in the copy names this one)")
    return verify_signature(key, doc, content_of[d.key], signature)


def check_stream(
    bucket: str | None,
    digest_objects: Sequence[DigestObject],
    keys: Mapping[str, PublicKey] | str,
    read_files: Sequence[ReadFile],
    window: tuple[datetime, datetime],
) -> StreamIntegrity:
    """Check one account and region: `digest_objects` are the digests listed for the window (and its
    look-ahead), `keys` the region's public keys by fingerprint (or why they could not be had),
    `read_files` the log files read, `window` [start, end) of their delivery times. `bucket` is None
    for a local copy (the digests' own bucket is then taken as given)."""
    out = StreamIntegrity()
    start, end = window
    digests: list[_Digest] = []
    content_of: dict[str, bytes] = {}
    for obj in digest_objects:
        parsed, why = _parse(obj)
        if parsed is None:
            moment = digest_end_time(obj.key)
            hour = f" (hour ending {_iso(moment)})" if moment else ""
            out.rows.append({"item": obj.key, "status": DIGEST_INVALID, "reason": f"digest {why}{hour}"})
            continue
        content_of[obj.key] = zlib.decompress(obj.data or b"", wbits=47)
        digests.append(parsed)
    digests.sort(key=lambda d: (d.end, d.key))
    out.digests_read = sum(1 for d in digests if d.start < end) + len(out.rows)

    # Signatures, with each digest's signature as recorded by the digest after it.
    by_name = {from_awslogs(d.key): d for d in digests}
    recorded: dict[str, str] = {}
    for d in digests:
        named = d.doc.get("previousDigestS3Object")
        if isinstance(named, str) and isinstance(d.doc.get("previousDigestSignature"), str):
            recorded[from_awslogs(named)] = d.doc["previousDigestSignature"]
    for d in digests:
        why = _check_digest(d, bucket, keys, recorded.get(from_awslogs(d.key)), content_of)
        if why:
            d.status, d.reason = DIGEST_INVALID, why

    # The chain: each digest against the one before it.
    missing: list[tuple[str, datetime, datetime]] = []  # named digest, its hour
    for n, cur in enumerate(digests):
        prev = digests[n - 1] if n else None
        named = cur.doc.get("previousDigestS3Object")
        if named is None:
            continue  # a starting digest: logging or validation restarted; coverage shows any gap
        named = from_awslogs(str(named))
        named_end = digest_end_time(named)
        if named not in by_name and named_end is not None and named_end > start and (
                prev is None or prev.end < named_end <= cur.end):
            missing.append((str(cur.doc["previousDigestS3Object"]), prev.end if prev else start, cur.start))
            continue
        if prev is None:
            continue  # its previous digest lies before the window
        if named != from_awslogs(prev.key):
            why = f"the next digest names {named} as its previous digest, not this one"
        elif cur.doc.get("previousDigestHashValue") != prev.sha256:
            why = (f"the next digest records its SHA-256 as {cur.doc.get('previousDigestHashValue')}, "
                   f"its content hashes to {prev.sha256}")
        elif prev.signature is not None and cur.doc.get("previousDigestSignature") != prev.signature:
            why = "the next digest records another signature for it than its S3 metadata holds"
        else:
            continue
        for d, text in ((prev, why), (cur, f"its link to the previous digest {prev.key} does not match")):
            if d.status == VALIDATED:
                d.status, d.reason = CHAIN_BROKEN, text

    for d in digests:
        if d.start >= end:
            continue  # read ahead only for the signature it records of the one before it
        if d.status == VALIDATED:
            out.digests_validated += 1
        else:
            out.rows.append({"item": d.key, "status": d.status,
                             "reason": f"digest for deliveries {_iso(d.start)} to {_iso(d.end)}: {d.reason}"})
    for named, gap_start, gap_end in missing:
        out.rows.append({"item": named, "status": DIGEST_MISSING,
                         "reason": f"the digest chain names this digest, which is not there: deliveries "
                                   f"{_iso(gap_start)} to {_iso(gap_end)} cannot be checked"})

    # Coverage of the window by digests that are there (trusted or not: an untrusted one has its own row).
    spans = sorted([(d.start, d.end) for d in digests] + [(s, e) for _, s, e in missing])
    cursor = start
    for s, e in spans:
        if s > cursor and cursor < end:
            _gap(out, cursor, min(s, end))
        cursor = max(cursor, e)
    if cursor < end:
        _gap(out, cursor, end)

    # Log files against the digests that list them.
    listed: dict[str, list[tuple[_Digest, Mapping[str, Any]]]] = {}
    for d in digests:
        for entry in d.doc.get("logFiles") or []:
            if isinstance(entry, Mapping) and isinstance(entry.get("s3Object"), str):
                listed.setdefault(from_awslogs(entry["s3Object"]), []).append((d, entry))
    read_names = set()
    for f in read_files:
        name = from_awslogs(f.key)
        read_names.add(name)
        out.files[f.key] = _file_status(f, listed.get(name, []), digests, missing)
    for name, entries in sorted(listed.items()):
        if name in read_names:
            continue
        d, entry = entries[0]
        if d.status != VALIDATED:
            continue  # that digest has its own row
        delivered = log_delivery_time(name)
        inside = start <= delivered < end if delivered else (d.start < end and d.end > start)
        if inside:
            out.rows.append({"item": str(entry["s3Object"]), "status": FILE_MISSING,
                             "reason": f"digest {d.key} lists this log file (SHA-256 "
                                       f"{entry.get('hashValue')}), which is not there: its events cannot "
                                       "be read"})
    return out


def _gap(out: StreamIntegrity, start: datetime, end: datetime) -> None:
    out.rows.append({"item": f"digests {_iso(start)}..{_iso(end)}", "status": NO_DIGEST,
                     "reason": f"no digest covers deliveries from {_iso(start)} to {_iso(end)}: whether log "
                               "files were delivered, deleted or added then cannot be checked"})


def _file_status(f: ReadFile, entries: list[tuple[_Digest, Mapping[str, Any]]], digests: Sequence[_Digest],
                 missing: Sequence[tuple[str, datetime, datetime]]) -> tuple[str, str]:
    trusted = [(d, e) for d, e in entries if d.status == VALIDATED]
    if trusted:
        d, entry = trusted[0]
        if entry.get("hashAlgorithm") not in (None, "SHA-256"):
            return DIGEST_INVALID, f"digest {d.key} lists it with hash algorithm {entry['hashAlgorithm']!r}"
        if f.readable and f.sha256 == entry.get("hashValue"):
            return VALIDATED, f"SHA-256 matches digest {d.key}"
        return HASH_MISMATCH, (f"its content hashes to {f.sha256 or '(unreadable)'}, digest {d.key} lists "
                               f"{entry.get('hashValue')}: the file was changed after delivery")
    if entries:
        d = entries[0][0]
        return d.status, f"listed by digest {d.key}, which is not trusted: {d.reason}"
    delivered = log_delivery_time(f.key)
    if delivered is not None:
        for named, s, e in missing:
            if s <= delivered < e:
                return DIGEST_MISSING, f"delivered {_iso(delivered)}, in the hour of missing digest {named}"
        for d in digests:
            if d.start <= delivered < d.end:
                return NOT_IN_DIGEST, (f"delivered {_iso(delivered)}, but digest {d.key} for that hour does "
                                       "not list it: not a file CloudTrail delivered")
    return NOT_IN_DIGEST, "no digest covers this file's delivery"


class RegionKeys:
    """The public keys of each region for a time range (cloudtrail ListPublicKeys, one call per region),
    by fingerprint, or the reason they could not be had. `client_for(region)` gives a CloudTrail client."""

    def __init__(self, client_for: Any, start: datetime, end: datetime) -> None:
        self._client_for = client_for
        self._range = (start, end)
        self._cache: dict[str, Mapping[str, PublicKey] | str] = {}

    def __call__(self, region: str) -> Mapping[str, PublicKey] | str:
        if region not in self._cache:
            self._cache[region] = self._fetch(region)
        return self._cache[region]

    def _fetch(self, region: str) -> Mapping[str, PublicKey] | str:
        found: dict[str, PublicKey] = {}
        try:
            client = self._client_for(region)
            params: dict[str, Any] = {"StartTime": self._range[0], "EndTime": self._range[1]}
            while True:
                page = client.list_public_keys(**params)
                for key in page.get("PublicKeyList") or []:
                    value, fingerprint = key.get("Value"), key.get("Fingerprint")
                    if isinstance(value, bytes | bytearray) and isinstance(fingerprint, str):
                        found[fingerprint] = PublicKey(bytes(value), key.get("ValidityStartTime"),
                                                       key.get("ValidityEndTime"))
                if not page.get("NextToken"):
                    break
                params["NextToken"] = page["NextToken"]
        except Exception as exc:  # named in every digest's row: no key, no validation
            return f"cloudtrail ListPublicKeys in {region} failed ({error_text(exc)})"
        return found or f"cloudtrail ListPublicKeys in {region} returned no keys for the period"
