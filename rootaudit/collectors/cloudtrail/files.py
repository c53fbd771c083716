"""Scanning many log files at once: on both cores (processes) when there are enough to be worth it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from rootaudit.collectors.cloudtrail.scan import FileScan, scan_bytes, scan_path

# Below this many files, starting processes costs more than it saves.
PROCESS_THRESHOLD = 8
# Processes that scan files; None: one per CPU (at most 8). The benchmark sets 1 to show one core's cost.
SCAN_PROCESSES: int | None = None


def scan_workers() -> int:
    return max(1, SCAN_PROCESSES or min(os.cpu_count() or 1, 8))


def scan_paths(paths: list[str]) -> Iterator[FileScan]:
    """Scan local files, results in the order given."""
    if len(paths) < PROCESS_THRESHOLD or scan_workers() == 1:
        yield from (scan_path(p) for p in paths)
        return
    with ProcessPoolExecutor(max_workers=scan_workers()) as pool:
        yield from pool.map(scan_path, paths, chunksize=max(1, min(16, len(paths) // (4 * scan_workers()))))


def scan_downloads(
    items: Iterable[tuple[str, Callable[[], bytes]]], fetch_map: Callable[..., Iterator[Any]], many: bool
) -> Iterator[FileScan]:
    """Scan objects as they are downloaded (downloads run through `fetch_map`, e.g. a thread pool's map).

    A download that fails gives a skipped FileScan naming the error; the others go on."""

    def fetch(item: tuple[str, Callable[[], bytes]]) -> tuple[str, bytes | None, str]:
        key, get = item
        try:
            return key, get(), ""
        except Exception as exc:  # one unreadable object must not end the scan; it is named instead
            return key, None, f"could not download: {type(exc).__name__}: {exc}"

    if not many or scan_workers() == 1:
        for key, data, error in fetch_map(fetch, items):
            yield (
                FileScan(item=key, status="skipped", reason=error) if data is None else scan_bytes(key, data)
            )
        return
    with ProcessPoolExecutor(max_workers=scan_workers()) as pool:
        pending: list[Future[FileScan] | FileScan] = []
        for key, data, error in fetch_map(fetch, items):
            pending.append(
                FileScan(item=key, status="skipped", reason=error)
                if data is None
                else pool.submit(scan_bytes, key, data)
            )
        for entry in pending:
            yield entry if isinstance(entry, FileScan) else entry.result()
