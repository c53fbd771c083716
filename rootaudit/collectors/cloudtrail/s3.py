"""Event source: an organization trail's S3 bucket, `s3://bucket/prefix`.

Objects are listed by key prefix, per account, region and day of the period (per month for a month
the period covers whole), never the whole bucket; listed and downloaded concurrently, scanned as
they arrive."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rootaudit import progress
from rootaudit.aws import error_code
from rootaudit.collectors.cloudtrail.files import PROCESS_THRESHOLD, scan_downloads
from rootaudit.collectors.cloudtrail.layout import listing_prefixes, org_base, region_base
from rootaudit.collectors.cloudtrail.results import StreamTally, period_bounds
from rootaudit.period import Period


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValueError(f"not an s3:// source: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = uri[5:].partition("/")
    return bucket, prefix.strip("/")


def _common_prefixes(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        out.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return out


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
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
) -> tuple[list[StreamTally], list[dict[str, Any]]]:
    bucket, prefix = parse_s3_uri(uri)
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
        try:
            found = _common_prefixes(s3, bucket, region_base(base, account))
        except Exception as exc:
            return account, [], f"cannot list regions: {error_code(exc)}: {exc}"
        return account, sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in found), ""

    def keys_of(prefix: str) -> tuple[list[str], str]:
        try:
            return _keys(s3, bucket, prefix), ""
        except Exception as exc:
            return [], f"cannot list: {error_code(exc)}: {exc}"

    for account in (a for a in wanted if a not in present):
        extra.append(row("not_covered", "no log files for this account in the trail", account))
    jobs: list[tuple[StreamTally, list[str]]] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as threads:
        # Listing is many small calls (accounts x regions x days): they run concurrently too.
        listings: list[tuple[StreamTally, str]] = []
        for account, found_regions, error in threads.map(regions_of, [a for a in wanted if a in present]):
            if error:
                extra.append(row("failed", error, account))
                continue
            for region in (r for r in found_regions if regions is None or r in regions):
                tally = StreamTally(source=uri, account_id=account, region=region)
                jobs.append((tally, []))
                listings.extend((tally, p) for p in listing_prefixes(base, account, region, period))
        keys_by_tally: dict[int, list[str]] = {}
        for (tally, prefix), (keys, error) in zip(
            listings, threads.map(keys_of, [p for _, p in listings]), strict=True
        ):
            keys_by_tally.setdefault(id(tally), []).extend(keys)
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
    return [t for t, _ in jobs], extra
