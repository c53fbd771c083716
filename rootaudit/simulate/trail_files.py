"""An organization trail's objects, laid out as CloudTrail writes them to S3, built without moto.

    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
        <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<rand>.json.gz      gzipped {"Records": [...]}
    [prefix/]AWSLogs/<o-id>/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
        <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHmmssZ>.json.gz

Records are grouped by account, region and 5-minute delivery window (CloudTrail delivers about every 5
minutes); each file is named by its delivery time and foldered by that day, so an event just before
midnight can sit in the next day's folder, as on AWS. Noise records surround the root events. Digest
files list each file's SHA-256 (of its uncompressed content), chain to the previous digest and are
signed with the region's key, as CloudTrail does (`trail_digests`; the signature travels in the S3
object's metadata, `TrailObjects.metadata`). Everything but the signing keys is deterministic from the
seed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import string
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rootaudit.simulate.trail_digests import DigestLayout, LogFile, all_digests
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
    return DigestLayout(f"{layout.base()}{layout.organization_id}/", layout.bucket, layout.trail_name,
                        layout.home_region).key(account, region, end)


class TrailObjects(dict[str, bytes]):
    """Key -> object bytes, with each object's S3 user metadata (the digests' signatures) beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.metadata: dict[str, dict[str, str]] = {}


def trail_objects(
    layout: TrailLayout,
    records: Iterable[Mapping[str, Any]],
    seed: int = 0,
    noise_per_file: int = 20,
    noise_files: Iterable[tuple[str, str, datetime]] = (),
    digest_window: tuple[datetime, datetime] | None = None,
    hourly_digests: bool = False,
) -> TrailObjects:
    """Key -> object bytes for every log and digest file holding `records` (plus noise).

    `noise_files` adds files of noise alone, one per (account, region, time). Digests cover the log
    files delivered in `digest_window` (default: from an hour before the first delivery to two hours
    after the last), hourly or only for the hours with files (`trail_digests`)."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        when = _record_time(record)
        groups[(str(record["recipientAccountId"]), str(record["awsRegion"]), _delivery_time(when))].append(
            dict(record)
        )
    for account, region, when in noise_files:
        groups.setdefault((account, region, _delivery_time(when)), [])

    objects = TrailObjects()
    files_by_stream: dict[tuple[str, str], list[LogFile]] = defaultdict(list)
    for account, region, delivered in sorted(groups):
        batch = groups[(account, region, delivered)]
        window_start = delivered - DELIVERY_WINDOW
        for _ in range(noise_per_file):
            when = window_start + timedelta(seconds=rng.randrange(int(DELIVERY_WINDOW.total_seconds())))
            batch.append(noise_record(rng, account, region, when))
        batch.sort(key=lambda r: (r["eventTime"], r["eventID"]))
        rand = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(16))
        key = log_file_key(layout, account, region, delivered, rand)
        content = json.dumps({"Records": batch}, separators=(",", ":")).encode("utf-8")
        objects[key] = gzip_bytes(content)
        times = [_record_time(r) for r in batch] or [window_start]
        files_by_stream[(account, region)].append(
            LogFile(key, delivered, hashlib.sha256(content).hexdigest(), min(times), max(times))
        )
    if files_by_stream:
        deliveries = [f.delivered for files in files_by_stream.values() for f in files]
        start, end = digest_window or (min(deliveries) - timedelta(hours=1),
                                       max(deliveries) + timedelta(hours=2))
        digest_layout = DigestLayout(f"{layout.base()}{layout.organization_id}/", layout.bucket,
                                     layout.trail_name, layout.home_region)
        for key, body, metadata in all_digests(digest_layout, files_by_stream, start, end, hourly_digests):
            objects[key] = body
            objects.metadata[key] = metadata
    return objects


def write_objects_to_dir(objects: Mapping[str, bytes], root: Path) -> Path:
    """The same layout in a local directory (keys become relative paths)."""
    root = Path(root)
    for key, body in objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root
