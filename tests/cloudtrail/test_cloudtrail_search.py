"""The faster search (the `fast` extra: StringZilla) counts the records and finds the root marker exactly
as CPython's own searches do, in whole files and in the pieces the streaming inflate hands over, where a
needle may be cut by a piece's edge; without it, the scan falls back to CPython's (the fallback itself:
test_cloudtrail_inflate.py, with ISA-L's)."""

from __future__ import annotations

import gzip
import json

import pytest

from rootaudit.collectors.cloudtrail import scan
from rootaudit.collectors.cloudtrail.scan import PYTHON_SEARCH, SZ_SEARCH, Searcher, scan_bytes
from tests.cloudtrail.test_cloudtrail_inflate import CASES, _login, _noise

SEARCHERS = [PYTHON_SEARCH] + ([SZ_SEARCH] if SZ_SEARCH is not None else [])
needs_sz = pytest.mark.skipif(SZ_SEARCH is None, reason="the fast extra (stringzilla) is not installed")

# A short log file with one root record: small enough to be cut at every byte.
SMALL = json.dumps({"Records": [_noise(1), _login("cut"), _noise(2)]}, separators=(",", ":")).encode()


@needs_sz
def test_the_faster_search_is_used_when_installed() -> None:
    assert scan.SEARCHER is SZ_SEARCH and SZ_SEARCH is not None and SZ_SEARCH.name == "stringzilla"


@pytest.mark.parametrize("searcher", SEARCHERS, ids=lambda s: s.name)
@pytest.mark.parametrize("text", [b"", b"Root", b'Root"', b'"eventVersion"' * 3, b'x"eventVersion"Root"x',
                                  b'"eventVersion""eventVersion', b"\x00\xff" * 100, SMALL])
def test_each_search_counts_and_finds_what_bytes_does(searcher: Searcher, text: bytes) -> None:
    assert searcher.count_records(text) == text.count(b'"eventVersion"')
    assert searcher.has_marker(text) == (b'Root"' in text)


@pytest.mark.parametrize("searcher", SEARCHERS, ids=lambda s: s.name)
def test_a_needle_cut_by_a_piece_edge_is_counted_once(searcher: Searcher,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "SEARCHER", searcher)
    assert SMALL.count(b'"eventVersion"') == 3 and SMALL.count(b'Root"') == 1
    for cut in range(len(SMALL) + 1):
        # a middle piece that is empty, or shorter than either needle
        for second in (cut, min(len(SMALL), cut + 2), min(len(SMALL), cut + 5)):
            watch = scan._Watch()
            for piece in (SMALL[:cut], SMALL[cut:second], SMALL[second:]):
                watch.feed(piece)
            assert (watch.count, watch.seen) == (3, True), (cut, second)


@needs_sz
@pytest.mark.parametrize("case", sorted(CASES))
def test_stringzilla_scans_what_python_scans(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {}
    for searcher in SEARCHERS:
        monkeypatch.setattr(scan, "SEARCHER", searcher)
        got = scan_bytes(case, CASES[case])
        results[searcher.name] = (got.status, got.reason, got.events_read, got.records, got.bad_records,
                                  got.sha256)
    assert results["stringzilla"] == results["python"]


def test_the_fallback_search_reads_a_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "SEARCHER", PYTHON_SEARCH)
    got = scan_bytes("small", gzip.compress(SMALL, mtime=0))
    assert (got.status, got.events_read, [r["eventID"] for r in got.records]) == ("read", 3, ["cut"])
