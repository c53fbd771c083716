"""An organization trail's objects, laid out as CloudTrail writes them to S3, built without moto.

    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<rand>.json.gz      gzipped {"Records": [...]}
    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
        <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHmmssZ>.json.gz

Records are grouped by account, region and 5-minute delivery window (CloudTrail delivers about every 5
minutes); each file is named by its delivery time and foldered by that day, so an event just before
midnight can sit in the next day's folder, as on AWS. Noise records surround the root events. Digest
files (one per account, region and hour that has log files) list each file's SHA-256 and chain to the
previous digest; the simulation has no private key, so the signature is a stand-in that proves nothing.
Everything is deterministic from the seed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import string
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rootaudit.simulate.trail_records import noise_record

DELIVERY_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class TrailLayout:
    organization_id: str
    bucket: str
    prefix: str = ""
    trail_name: str = "organization-trail"
    home_region: str = "us-east-1"

    def base(self) -> str:
        return f"{self.prefix.strip('/')}/AWSLogs/" if self.prefix.strip("/") else "AWSLogs/"


def _record_time(record: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))


def _delivery_time(moment: datetime) -> datetime:
    """The end of the 5-minute window the event falls in: when its file is delivered."""
    floor = moment.replace(second=0, microsecond=0, minute=moment.minute - moment.minute % 5)
    return floor + DELIVERY_WINDOW


def gzip_bytes(data: bytes, level: int = 6) -> bytes:
    return gzip.compress(data, compresslevel=level, mtime=0)


def log_file_key(layout: TrailLayout, account: str, region: str, delivered: datetime, rand: str) -> str:
    return (
        f"{layout.base()}{layout.organization_id}/{account}/CloudTrail/{region}/"
        f"{delivered:%Y/%m/%d}/{account}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{rand}.json.gz"
    )


def digest_key(layout: TrailLayout, account: str, region: str, end: datetime) -> str:
    return (
        f"{layout.base()}{layout.organization_id}/{account}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/"
        f"{account}_CloudTrail-Digest_{region}_{layout.trail_name}_{layout.home_region}_"
        f"{end:%Y%m%dT%H%M%SZ}.json.gz"
    )


def trail_objects(
    layout: TrailLayout,
    records: Iterable[Mapping[str, Any]],
    seed: int = 0,
    noise_per_file: int = 20,
    noise_files: Iterable[tuple[str, str, datetime]] = (),
) -> dict[str, bytes]:
    """Key -> object bytes for every log and digest file holding `records` (plus noise).

    `noise_files` adds files of noise alone, one per (account, region, time)."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        when = _record_time(record)
        groups[(str(record["recipientAccountId"]), str(record["awsRegion"]), _delivery_time(when))].append(
            dict(record)
        )
    for account, region, when in noise_files:
        groups.setdefault((account, region, _delivery_time(when)), [])

    objects: dict[str, bytes] = {}
    files_by_stream: dict[tuple[str, str], list[tuple[datetime, str, bytes, datetime, datetime]]] = (
        defaultdict(list)
    )
    for account, region, delivered in sorted(groups):
        batch = groups[(account, region, delivered)]
        window_start = delivered - DELIVERY_WINDOW
        for _ in range(noise_per_file):
            when = window_start + timedelta(seconds=rng.randrange(int(DELIVERY_WINDOW.total_seconds())))
            batch.append(noise_record(rng, account, region, when))
        batch.sort(key=lambda r: (r["eventTime"], r["eventID"]))
        rand = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
        key = log_file_key(layout, account, region, delivered, rand)
        body = gzip_bytes(json.dumps({"Records": batch}, separators=(",", ":")).encode("utf-8"))
        objects[key] = body
        times = [_record_time(r) for r in batch] or [window_start]
        files_by_stream[(account, region)].append((delivered, key, body, min(times), max(times)))
    objects.update(_digests(layout, files_by_stream))
    return objects


def _digests(
    layout: TrailLayout,
    files_by_stream: Mapping[tuple[str, str], list[tuple[datetime, str, bytes, datetime, datetime]]],
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for (account, region), files in sorted(files_by_stream.items()):
        by_hour: dict[datetime, list[tuple[datetime, str, bytes, datetime, datetime]]] = defaultdict(list)
        for item in files:
            by_hour[item[0].replace(minute=0, second=0) + timedelta(hours=1)].append(item)
        previous: tuple[str, str] | None = None  # (key, sha256 of the previous digest)
        for end in sorted(by_hour):
            items = sorted(by_hour[end])
            digest: dict[str, Any] = {
                "awsAccountId": account,
                "digestStartTime": (end - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "digestEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "digestS3Bucket": layout.bucket,
                "digestS3Object": digest_key(layout, account, region, end),
                "digestPublicKeyFingerprint": "simulated-no-key",
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": max(i[4] for i in items).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "oldestEventTime": min(i[3] for i in items).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "previousDigestS3Bucket": layout.bucket if previous else None,
                "previousDigestS3Object": previous[0] if previous else None,
                "previousDigestHashValue": previous[1] if previous else None,
                "previousDigestHashAlgorithm": "SHA-256" if previous else None,
                "previousDigestSignature": "simulated" if previous else None,
                "logFiles": [
                    {
                        "s3Bucket": layout.bucket,
                        "s3Object": key,
                        "hashValue": hashlib.sha256(body).hexdigest(),
                        "hashAlgorithm": "SHA-256",
                        "newestEventTime": new.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "oldestEventTime": old.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                    for _, key, body, old, new in items
                ],
            }
            body = gzip_bytes(json.dumps(digest, separators=(",", ":")).encode("utf-8"))
            out[digest["digestS3Object"]] = body
            previous = (digest["digestS3Object"], hashlib.sha256(body).hexdigest())
    return out


def write_objects_to_dir(objects: Mapping[str, bytes], root: Path) -> Path:
    """The same layout in a local directory (keys become relative paths)."""
    root = Path(root)
    for key, body in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def put_objects_to_s3(s3: Any, bucket: str, objects: Mapping[str, bytes], workers: int = 1) -> None:
    def put(item: tuple[str, bytes]) -> None:
        s3.put_object(Bucket=bucket, Key=item[0], Body=item[1])

    if workers <= 1:
        for item in objects.items():
            put(item)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(put, objects.items()))
