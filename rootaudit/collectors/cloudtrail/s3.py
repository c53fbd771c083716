"""Event source: an organization trail's S3 bucket, `s3://bucket/prefix`.

Objects are listed by key prefix, per account, region and day of the read window (the period and its
grace window; per month for a month it covers whole), never the whole bucket; listed and downloaded
concurrently, scanned as they arrive. The digest files of the same accounts, regions and days are then
read and every log file checked against them (`integrity.check_stream`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rootaudit import progress
from rootaudit.aws import error_code, whole_pages
from rootaudit.collectors.cloudtrail.files import PROCESS_THRESHOLD, scan_downloads
from rootaudit.collectors.cloudtrail.integrity import DigestObject, PublicKey
from rootaudit.collectors.cloudtrail.layout import (
    digest_end_time,
    digest_period,
    in_read_window,
    listing_prefixes,
    org_base,
    read_window,
    region_base,
    window_period,
)
from rootaudit.collectors.cloudtrail.results import StreamTally, period_bounds
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValueError(f"not an s3:// source: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


# A page that says IsTruncated and gives no NextContinuationToken raises IncompleteAnswer (`whole_pages`):
# the callers name the prefix as not read, rather than take its first pages for all of it.
def _common_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in whole_pages(s3, "list_objects_v2", Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return out


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in whole_pages(s3, "list_objects_v2", Bucket=bucket, Prefix=prefix):
        out.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(out)


def collect_s3(
    s3: Any,
    uri: str,
    period: Period,
    organization_id: str,
    accounts: list[str],
    regions: list[str] | None,
    workers: int = 16,
    region_keys: Callable[[str], Mapping[str, PublicKey] | str] | None = None,
) -> tuple[list[StreamTally], list[dict[str, Any]]]:
    """`region_keys(region)`: the region's public keys (`integrity.RegionKeys`); without it no digest
    can be checked and every file shows as not validated."""
    bucket, prefix = parse_s3_uri(uri)
    window = read_window(period)
    keys_for = region_keys or (lambda region: "no public keys were looked up")
    bounds = period_bounds(period)
    base = org_base(prefix, organization_id)

    def row(
        status: str, reason: str, account: str = "*", region: str = "*", item: str = "*"
    ) -> dict[str, Any]:
        return {
            "source": uri,
            "account_id": account,
            "region": region,
            "item": item,
            "status": status,
            "reason": reason,
            **bounds,
        }

    extra: list[dict[str, Any]] = []
    try:
        present = {p[len(base) :].strip("/") for p in _common_prefixes(s3, bucket, base)}
    except Exception as exc:  # the whole source is unreadable: say so, with the code to act on
        return [], [row("failed", f"cannot list s3://{bucket}/{base}: {error_code(exc)}: {exc}")]
    wanted = accounts or sorted(p for p in present if p.isdigit() and len(p) == 12)
    for account in sorted(p for p in present if p.isdigit() and len(p) == 12 and p not in wanted):
        extra.append(row("skipped", "account not in the organization's account list; not read", account))

    def regions_of(account: str) -> tuple[str, list[str], str]:
        # A region with digests and no log files still has its hours to show (CloudTrail writes a digest
        # every hour, even when nothing was delivered).
        try:
            found = _common_prefixes(s3, bucket, region_base(base, account))
            found += _common_prefixes(s3, bucket, region_base(base, account, folder="CloudTrail-Digest"))
        except Exception as exc:
            return account, [], f"cannot list regions: {error_code(exc)}: {exc}"
        return account, sorted({p.rstrip("/").rsplit("/", 1)[-1] for p in found}), ""

    def keys_of(prefix: str) -> tuple[list[str], str]:
        try:
            return _keys(s3, bucket, prefix), ""
        except Exception as exc:
            return [], f"cannot list: {error_code(exc)}: {exc}"

    for account in (a for a in wanted if a not in present):
        extra.append(row("not_covered", "no log files for this account in the trail", account))
    jobs: list[tuple[StreamTally, list[str]]] = []
    digest_keys: dict[int, list[str]] = {}
    digest_span = digest_period(period)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
        # Listing is many small calls (accounts x regions x days): they run concurrently too.
        listings: list[tuple[StreamTally, str, bool]] = []
        for account, found_regions, error in threads.map(regions_of, [a for a in wanted if a in present]):
            if error:
                extra.append(row("failed", error, account))
                continue
            for region in (r for r in found_regions if regions is None or r in regions):
                tally = StreamTally(source=uri, account_id=account, region=region,
                                    read_window=(utc_iso(window[0]) or "", utc_iso(window[1]) or ""))
                jobs.append((tally, []))
                listings.extend((tally, p, False)
                                for p in listing_prefixes(base, account, region, window_period(period)))
                listings.extend((tally, p, True) for p in listing_prefixes(
                    base, account, region, digest_span, folder="CloudTrail-Digest"))
        keys_by_tally: dict[int, list[str]] = {}
        for (tally, prefix, is_digest), (keys, error) in zip(
            listings, threads.map(keys_of, [p for _, p, _ in listings]), strict=True
        ):
            if is_digest:
                digest_keys.setdefault(id(tally), []).extend(
                    k for k in keys if _digest_in_span(k, digest_span.start, digest_span.end))
            else:
                keys_by_tally.setdefault(id(tally), []).extend(k for k in keys if in_read_window(k, period))
            if error:
                tally.problems.append({"item": prefix, "status": "failed", "reason": error})
        jobs = [(tally, keys_by_tally.get(id(tally), [])) for tally, _ in jobs]

    with progress.task("CloudTrail files", total=sum(len(keys) for _, keys in jobs), unit="files") as task:

        def getter(key: str) -> Callable[[], bytes]:
            def get() -> bytes:
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                task.advance(0, nbytes=len(body))
                return body

            return get

        items = [(key, getter(key)) for _, keys in jobs for key in keys]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
            scans = iter(scan_downloads(items, threads.map, many=len(items) >= PROCESS_THRESHOLD))
            for tally, keys in jobs:
                for _ in keys:
                    tally.add_file(next(scans), period)
                    task.advance()

    def digest(key: str) -> DigestObject:
        try:
            answer = s3.get_object(Bucket=bucket, Key=key)
            metadata = {k.lower(): v for k, v in (answer.get("Metadata") or {}).items()}
            return DigestObject(key, answer["Body"].read(), metadata.get("signature"),
                                metadata.get("signature-algorithm"))
        except Exception as exc:  # named in the digest's row; the file it lists is then not validated
            return DigestObject(key, None, error=f"could not download: {error_code(exc)}: {exc}")

    all_digests = [k for tally, _ in jobs for k in digest_keys.get(id(tally), [])]
    with progress.task("CloudTrail digests", total=len(all_digests), unit="files") as task, \
            ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
        fetched = iter(threads.map(digest, all_digests))
        for tally, _ in jobs:
            objects = [next(fetched) for _ in digest_keys.get(id(tally), [])]
            task.advance(len(objects))
            tally.digests, tally.bucket, tally.keys = objects, bucket, keys_for(tally.region)
    return [t for t, _ in jobs], extra


def _digest_in_span(key: str, start: Any, end: Any) -> bool:
    moment = digest_end_time(key)
    return moment is not None and start < moment <= end
