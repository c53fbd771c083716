"""Benchmark: scanning a local organization trail for root activity.

    PYTHONPATH=. python bench/cloudtrail.py [--events 1000000] [--files 300] [--regenerate]

Generates (into bench/_work/cloudtrail, gitignored; reused when the parameters match) an organization
trail of realistic management events in AWS's layout, with a handful of root events among them, then
measures, in one run, on the same files with a warm page cache:
  1. decompress only with zlib, one process (the floor any scanner pays): the faster, in each round,
     of `zlib.decompress` on the whole file and the same inflate in 64 KiB steps (the whole-file call
     varies with the allocator's state, 1.0 to 1.7 s on these files; the steps do not);
  2. the naive baseline, one process: decompress, json.loads every file, filter the records;
  3. rootaudit's scan (collectors.cloudtrail.local.collect_local: marker scan, both cores, frames),
     and the same on one process, to show one core's cost;
  4. with the `fast` extra installed (python-isal, StringZilla): decompress only with ISA-L's inflate,
     and the one-process scan with zlib forced and with CPython's searches forced, beside the same
     with both fast ones (the scan's default then);
  5. the floor of a validating scan on one core: ISA-L's inflate plus the SHA-256 of the uncompressed
     content that CloudTrail's digests list, and nothing else;
and checks that rootaudit found exactly the events the naive baseline found. Timings are the best of
--rounds interleaved rounds (the machine may be shared); the naive baseline runs once. The trail has
its signed digest files (written afresh each run: the simulation's signing keys live in the process),
so rootaudit's scan includes CloudTrail's validation of every file (the SHA-256 of each file's content,
taken in the decompression pass, checked against its digest).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rootaudit.collectors.cloudtrail import files, scan
from rootaudit.collectors.cloudtrail.classify import build_findings, is_relevant
from rootaudit.collectors.cloudtrail.integrity import PublicKey
from rootaudit.collectors.cloudtrail.layout import DELIVERY_GRACE
from rootaudit.collectors.cloudtrail.local import collect_local
from rootaudit.collectors.cloudtrail.results import collected
from rootaudit.period import parse_period
from rootaudit.simulate.trail_digests import DigestLayout, LogFile, all_digests, region_key
from rootaudit.simulate.trail_files import TrailLayout, log_file_key
from rootaudit.simulate.trail_records import noise_record, record_for
from rootaudit.simulate.trail_sample import history

WORK = Path(__file__).resolve().parent / "_work" / "cloudtrail"
ORG = "o-bench00001"
PERIOD = parse_period("2026-Q3")
ACCOUNTS = [f"{100000000000 + 7919 * i:012d}" for i in range(25)]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
TEMPLATES = 64
_T, _E, _R = "@@TIME@@", "@@EVENTID@@", "@@REQUESTID@@"


def _templates(rng: random.Random, account: str, region: str) -> list[list[str]]:
    """Serialized noise records split at the values each event varies (time, request id, event id)."""
    out = []
    for _ in range(TEMPLATES):
        record = noise_record(rng, account, region, PERIOD.start)
        record["eventTime"], record["eventID"], record["requestID"] = _T, _E, _R
        text = json.dumps(record, separators=(",", ":"))
        pieces = []
        for marker in (_T, _R, _E):
            head, text = text.split(f'"{marker}"', 1)
            pieces.append(head)
        pieces.append(text)
        out.append(pieces)
    return out


def _write_file(job: tuple[str, str, str, int, int, list[dict[str, Any]]]) -> int:
    path, account, region, count, seed, extra = job
    rng = random.Random(seed)
    templates = _templates(rng, account, region)
    delivered = datetime.strptime(path.rsplit("_", 2)[-2], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    base = delivered - timedelta(minutes=5)
    parts: list[str] = []
    positions = {rng.randrange(count): r for r in extra}
    for i in range(count):
        if i in positions:
            parts.append(json.dumps(positions[i], separators=(",", ":")))
        t = (base + timedelta(seconds=i * 300 // count)).strftime("%Y-%m-%dT%H:%M:%SZ")
        a, b, c, d = templates[rng.randrange(TEMPLATES)]
        h = f"{rng.getrandbits(128):032x}"
        parts.append(f'{a}"{t}"{b}"{h[::-1]}"{c}"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"{d}')
    body = ('{"Records":[' + ",".join(parts) + "]}").encode()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
    return len(body)


def generate(events: int, files: int) -> tuple[int, int]:
    """The trail (reused when present with the same parameters): (files, decompressed bytes)."""
    marker = WORK / "params.json"
    params = {"events": events, "files": files, "version": 2}
    if marker.is_file() and json.loads(marker.read_text()).get("params") == params:
        return files, int(json.loads(marker.read_text())["bytes"])
    shutil.rmtree(WORK, ignore_errors=True)
    rng = random.Random(11)
    layout = TrailLayout(ORG, "bench-bucket")
    span = int((PERIOD.end - PERIOD.start).total_seconds()) // 300
    roots = [record_for(e) for e in history(PERIOD)]
    jobs = []
    per_file = events // files
    for n in range(files):
        account, region = ACCOUNTS[n % len(ACCOUNTS)], REGIONS[n % len(REGIONS)]
        delivered = PERIOD.start + timedelta(minutes=5 * (1 + rng.randrange(span)))
        rand = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(16))
        key = log_file_key(layout, account, region, delivered, rand)
        count = per_file + (1 if n < events % files else 0)
        jobs.append([str(WORK / key), account, region, count, rng.randrange(2**31), []])
    for record in roots:  # a handful of root events, in a few files
        jobs[rng.randrange(files)][5].append(record)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        total = sum(pool.map(_write_file, [tuple(j) for j in jobs], chunksize=4))
    marker.write_text(json.dumps({"params": params, "bytes": total}))
    return files, total


def _paths() -> list[Path]:
    return sorted(p for p in (WORK / "AWSLogs").rglob("*.json.gz") if "/CloudTrail/" in p.as_posix())


def _log_file(path: Path) -> tuple[str, str, LogFile]:
    key = path.relative_to(WORK).as_posix()
    account, region = key.split("/")[2], key.split("/")[4]
    delivered = datetime.strptime(key.rsplit("_", 2)[-2], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    digest = hashlib.sha256(zlib.decompress(path.read_bytes(), 31)).hexdigest()
    return account, region, LogFile(key, delivered, digest, delivered - timedelta(minutes=5), delivered)


def write_digests(paths: list[Path]) -> int:
    """The trail's digests, signed with this process's keys (untimed; a few hundred files)."""
    for old in (WORK / "AWSLogs").rglob("CloudTrail-Digest"):
        shutil.rmtree(old)
    by_stream: dict[tuple[str, str], list[LogFile]] = {}
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for account, region, log in pool.map(_log_file, paths, chunksize=8):
            by_stream.setdefault((account, region), []).append(log)
    window = (PERIOD.start - timedelta(hours=2), PERIOD.end + DELIVERY_GRACE + timedelta(hours=2))
    digests = all_digests(DigestLayout(f"AWSLogs/{ORG}/", "bench-bucket", "organization-trail", "us-east-1"),
                          by_stream, *window, hourly=False)
    for key, body, _ in digests:
        (WORK / key).parent.mkdir(parents=True, exist_ok=True)
        (WORK / key).write_bytes(body)
    return len(digests)


def _keys(region: str) -> dict[str, PublicKey]:
    key = region_key(region)
    return {key.fingerprint: PublicKey(key.der)}


def decompress_only(paths: list[Path], inflated_size: Any = None) -> tuple[float, int]:
    """Time `inflated_size` (default: `zlib.decompress` of the whole file) over every file."""
    inflated_size = inflated_size or (lambda data: len(zlib.decompress(data, 31)))
    started = time.perf_counter()
    total = 0
    for p in paths:
        total += inflated_size(p.read_bytes())
    return time.perf_counter() - started, total


def zlib_in_steps(data: bytes) -> int:
    """zlib's inflate fed 64 KiB at a time, as the scan feeds it, each piece dropped: its size."""
    stream = zlib.decompressobj(31)
    return sum(len(stream.decompress(data[i : i + (1 << 16)])) for i in range(0, len(data), 1 << 16))


def inflate_and_hash(decompress: Any) -> Any:
    """A decompress that also takes the SHA-256 of what it gives: the least a validating scan does."""

    def run(data: bytes) -> int:
        content = decompress(data, 31)
        hashlib.sha256(content).digest()
        return len(content)

    return run


def naive(paths: list[Path]) -> tuple[float, set[str], int]:
    started = time.perf_counter()
    found: list[tuple[dict[str, Any], str]] = []
    count = 0
    for p in paths:
        records = json.loads(zlib.decompress(p.read_bytes(), 31))["Records"]
        count += len(records)
        found.extend((r, "naive") for r in records if is_relevant(r))
    findings = build_findings(found, PERIOD)
    ids = {r["event_id"] for r in findings.sessions} | {r["event_id"] for r in findings.activity}
    return time.perf_counter() - started, ids, count


def rootaudit_scan(processes: int | None, inflater: Any = None, searcher: Any = None
                   ) -> tuple[float, set[str], int]:
    """collect_local and the frames, with `processes` scanning (None: one per CPU), `inflater` and
    `searcher` (None: the scan's defaults, the faster ones when installed)."""
    files.SCAN_PROCESSES = processes
    defaults = scan.INFLATER, scan.SEARCHER
    scan.INFLATER, scan.SEARCHER = inflater or defaults[0], searcher or defaults[1]
    try:
        started = time.perf_counter()
        tallies, extra = collect_local(WORK, PERIOD, ORG, ACCOUNTS, None, region_keys=_keys)
        result = collected(tallies, PERIOD, extra)
        elapsed = time.perf_counter() - started
    finally:
        files.SCAN_PROCESSES = None
        scan.INFLATER, scan.SEARCHER = defaults
    frames = result.frames
    bad = frames["sources"][frames["sources"]["status"] != "read"]
    if len(bad):
        raise SystemExit(f"rootaudit reported unread items: {bad.to_dict('records')}")
    ids = set(frames["privileged_sessions"]["event_id"]) | set(frames["root_activity"]["event_id"])
    return elapsed, ids, int(frames["sources"]["events_read"].sum())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best of each is kept")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.regenerate:
        shutil.rmtree(WORK, ignore_errors=True)
    started = time.perf_counter()
    _files, size = generate(args.events, args.files)
    generated = time.perf_counter() - started
    paths = _paths()
    digests = write_digests(paths)
    compressed = sum(p.stat().st_size for p in paths)
    for p in paths:  # warm the page cache so every measurement reads from memory
        p.read_bytes()
    print(
        f"trail: {len(paths)} files, {args.events:,} events, {size / 1e9:.2f} GB decompressed, "
        f"{compressed / 1e6:.0f} MB compressed (generated/reused in {generated:.1f} s), {digests} digests; "
        f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
    )
    t_naive, naive_ids, naive_events = naive(paths)
    times: dict[str, list[float]] = {k: [] for k in (
        "whole", "steps", "ours", "ours1", "dec_fast", "ours1_zlib", "ours1_python", "floor")}
    our_ids: set[str] = set()
    our_events = 0

    def same_as_default(t_ids_events: tuple[float, set[str], int]) -> float:
        assert t_ids_events[1:] == (our_ids, our_events)
        return t_ids_events[0]

    for _ in range(max(1, args.rounds)):  # interleaved, so a busy moment hits every measurement alike
        for name, inflated_size in (("whole", None), ("steps", zlib_in_steps)):
            t, dec_bytes = decompress_only(paths, inflated_size)
            assert dec_bytes == size, (name, dec_bytes, size)
            times[name].append(t)
        t, our_ids, our_events = rootaudit_scan(None)
        times["ours"].append(t)
        times["ours1"].append(same_as_default(rootaudit_scan(1)))
        if scan.ISAL is not None:
            from isal import isal_zlib

            t, fast_bytes = decompress_only(paths, lambda data: len(isal_zlib.decompress(data, 31)))
            assert fast_bytes == size
            times["dec_fast"].append(t)
            times["floor"].append(decompress_only(paths, inflate_and_hash(isal_zlib.decompress))[0])
            times["ours1_zlib"].append(same_as_default(rootaudit_scan(1, scan.ZLIB)))
        if scan.SZ_SEARCH is not None:
            times["ours1_python"].append(same_as_default(rootaudit_scan(1, None, scan.PYTHON_SEARCH)))
    # zlib's decompress-only, the baseline: the faster of the two ways in each round
    t_dec = min(min(w, st) for w, st in zip(times["whole"], times["steps"], strict=True))
    t_ours, t_one = min(times["ours"]), min(times["ours1"])
    fast = f"{scan.INFLATER.name} inflate, {scan.SEARCHER.name} search"
    rows = [
        ("zlib decompress only, whole file (1 process)", min(times["whole"])),
        ("zlib decompress only, 64 KiB steps (1 process)", min(times["steps"])),
        ("naive: decompress + json.loads + filter (1 process, 1 round)", t_naive),
        (f"rootaudit scan ({files.scan_workers()} processes, frames included)", t_ours),
        (f"rootaudit scan (1 process, {fast})", t_one),
    ]
    if scan.ISAL is not None:
        rows += [("decompress only (1 process, isal inflate)", min(times["dec_fast"])),
                 (f"rootaudit scan (1 process, zlib inflate, {scan.SEARCHER.name} search)",
                  min(times["ours1_zlib"])),
                 ("floor: isal inflate + SHA-256 of the content (1 process)", min(times["floor"]))]
    if scan.SZ_SEARCH is not None:
        rows.append((f"rootaudit scan (1 process, {scan.INFLATER.name} inflate, python search)",
                     min(times["ours1_python"])))
    print(f"  best of {args.rounds} interleaved rounds (naive: one run); x = time / zlib decompress-only "
          f"({t_dec:.2f} s, the faster way)")
    for name, seconds in rows:
        print(
            f"  {name:<66} {seconds:7.2f} s  {args.events / seconds:>12,.0f} events/s  "
            f"{seconds / t_dec:5.2f}x"
        )
    if scan.ISAL is not None:
        print(f"  one-process scan / zlib decompress-only: {t_one / t_dec:.2f}x (target <= 0.5x); "
              f"isal decompress / zlib decompress: {min(times['dec_fast']) / t_dec:.2f}x; "
              f"validation's floor (isal + SHA-256) / zlib decompress: {min(times['floor']) / t_dec:.2f}x")
    if scan.ISAL is None or scan.SZ_SEARCH is None:
        print("  the fast extra (isal, stringzilla) is not wholly installed: pip install 'rootaudit[fast]'")
    print(
        f"  rootaudit / decompress-only: {t_ours / t_dec:.2f}x (target <= 1.5x); "
        f"one process: {t_one / t_dec:.2f}x; naive / rootaudit: {t_naive / t_ours:.1f}x; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    same = naive_ids == our_ids
    print(
        f"  events found: naive {len(naive_ids)}, rootaudit {len(our_ids)}; identical: {same}; "
        f"events read: naive {naive_events:,}, rootaudit {our_events:,}"
    )
    return 0 if same and naive_events == our_events else 1


if __name__ == "__main__":
    raise SystemExit(main())
