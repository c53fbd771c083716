"""Scanning one CloudTrail log file for the few records that matter, fast, and saying what went wrong.

Real trails are large and root records rare, so the scan works on the decompressed bytes: it looks
for the markers any relevant record must contain (`"Root"`, the identity type, and `"AssumeRoot"`, the
event name; one search for their common end, `Root"`) and parses nothing in a file that has neither.
The records a file holds are counted by their `"eventVersion"` keys, not parsed. In a file that
has a marker, it decodes only the records around each marker (CloudTrail writes `eventVersion` first
in each record; when that hint does not hold, it falls back to reading the records one by one).
The exact test, `classify.is_relevant`, is applied to every parsed record, so the markers only decide
what is worth parsing.

Bad input is named, never fatal: a corrupt or truncated gzip, a file that is not JSON, a JSON document
that is not a CloudTrail log file, records without the expected fields.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rootaudit.collectors.cloudtrail.classify import is_relevant, missing_fields

try:  # the `fast` extra: ISA-L's inflate (python-isal), several times zlib's speed on these files
    from isal import isal_zlib as _isal
except ImportError:  # zlib, always there, gives the same bytes
    _isal = None
try:  # the `fast` extra: StringZilla's SIMD substring search, about 4x CPython's on these files
    import stringzilla as _sz
except ImportError:  # CPython's own searches, always there, give the same counts
    _sz = None


@dataclass(frozen=True)
class Inflater:
    """A zlib-compatible inflate: its name, `decompressobj` and the error it raises on corrupt input."""

    name: str
    decompressobj: Any
    error: type[Exception]


ZLIB = Inflater("zlib", zlib.decompressobj, zlib.error)
ISAL = Inflater("isal", _isal.decompressobj, _isal.error) if _isal is not None else None
INFLATER = ISAL or ZLIB  # what the scans use: the faster one when it is installed

MARKERS = ('"Root"', '"AssumeRoot"')
# Both markers end in `Root"`: one pass over the bytes finds either (and is cheaper than two).
QUICK_MARKER = b'Root"'
# CloudTrail writes eventVersion in every record: counting it counts the records without parsing.
RECORD_COUNTER = b'"eventVersion"'
RECORD_HINT = '{"eventVersion"'
# CPython's searches: `re` finds the marker about 1.5x faster than `bytes.__contains__`, whose skip
# test stops at every `"` of the JSON (bench/cloudtrail.py).
_QUICK = re.compile(re.escape(QUICK_MARKER))


@dataclass(frozen=True)
class Searcher:
    """Counts the records of decompressed bytes and says whether they hold the marker."""

    name: str
    count_records: Callable[[bytes], int]
    has_marker: Callable[[bytes], bool]


PYTHON_SEARCH = Searcher("python", lambda data: data.count(RECORD_COUNTER),
                         lambda data: _QUICK.search(data) is not None)
SZ_SEARCH = (Searcher("stringzilla", lambda data: _sz.count(data, RECORD_COUNTER),
                      lambda data: _sz.contains(data, QUICK_MARKER))
             if _sz is not None else None)
SEARCHER = SZ_SEARCH or PYTHON_SEARCH  # what the scans use: the faster one when it is installed
_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:\s*\[')
_TAIL = re.compile(rb"\]\s*\}\s*$")
_CHUNK = 1 << 16  # compressed bytes per step: their output stays in the CPU cache


@dataclass
class FileScan:
    """What one file gave: its relevant, well-formed records and how the reading went."""

    item: str
    status: str = "read"  # read | skipped | partial
    reason: str = ""
    events_read: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    bad_records: int = 0
    # SHA-256 of the uncompressed content, as a CloudTrail digest lists it ("" when unread); taken in
    # the decompression pass, so checking it costs no second read.
    sha256: str = ""
    size: int = 0  # bytes of the object as stored


@dataclass
class Inflated:
    """A file's content in pieces, with what the streaming pass already learnt about it."""

    parts: list[bytes]
    problem: str = ""  # a corrupt or truncated gzip, trailing bytes
    records_counted: int = 0
    marker_seen: bool = False
    sha256: str = ""  # of the uncompressed content

    def content(self) -> bytes:
        return b"".join(self.parts)

    def head(self, size: int = 256) -> bytes:
        out = b""
        for part in self.parts:
            out += part[: size - len(out)]
            if len(out) >= size:
                break
        return out

    def tail(self, size: int = 256) -> bytes:
        out = b""
        for part in reversed(self.parts):
            out = part[-(size - len(out)) :] + out
            if len(out) >= size:
                break
        return out


class _Watch:
    """Counts records and looks for the marker in each decompressed piece while it is still in the CPU
    cache (one pass over memory instead of three); needles cut by a piece boundary are caught too."""

    def __init__(self) -> None:
        self.count = 0
        self.seen = False
        self._tail = b""
        self.hash = hashlib.sha256()
        self._search = SEARCHER

    def feed(self, piece: bytes) -> None:
        if not piece:
            return
        self.hash.update(piece)
        seam = self._tail + piece[: len(RECORD_COUNTER) - 1]
        self.count += self._search.count_records(piece) + seam.count(RECORD_COUNTER)
        if not self.seen:
            self.seen = (self._search.has_marker(piece)
                         or QUICK_MARKER in self._tail[-4:] + piece[:4])
        # the last bytes of all content so far, not of this piece alone: a piece shorter than a needle
        # (the last of a gzip member may be a few bytes) must not hide one that spans three pieces
        self._tail = (self._tail + piece)[-(len(RECORD_COUNTER) - 1) :]


def inflate(data: bytes, inflater: Inflater | None = None) -> Inflated:
    """Decompress (gzip detected by its magic bytes, member after member; other bytes are taken as they
    are), keeping what decompressed before a corruption or a cut, and watching for the markers.
    `inflater`: the implementation (default `INFLATER`); every one gives the same result."""
    inflater = inflater or INFLATER
    watch = _Watch()
    if data[:2] != b"\x1f\x8b":
        watch.feed(data)
        return Inflated([data], "", watch.count, watch.seen, watch.hash.hexdigest())
    parts: list[bytes] = []
    problem = ""
    rest = data
    while rest and not problem:
        stream = inflater.decompressobj(wbits=31)
        for i in range(0, len(rest), _CHUNK):
            try:
                piece = stream.decompress(rest[i : i + _CHUNK])
            except inflater.error as exc:
                problem = f"corrupt gzip ({_error_text(exc)}); {sum(map(len, parts))} bytes before it read"
                break
            parts.append(piece)
            watch.feed(piece)
            if stream.eof:
                break
        if problem:
            break
        if not stream.eof:
            problem = f"truncated gzip: the file ends inside the compressed stream ({len(data)} bytes)"
            break
        rest = stream.unused_data
        if rest and rest[:2] != b"\x1f\x8b":
            problem = f"{len(rest)} trailing bytes after the gzip stream ignored"
    return Inflated(parts, problem, watch.count, watch.seen, watch.hash.hexdigest())


def _error_text(exc: Exception) -> str:
    # zlib says "Error -3 while decompressing data: invalid distance too far back"; isal "Error -6 …"
    return str(exc) or type(exc).__name__


def scan_bytes(item: str, data: bytes) -> FileScan:
    """Scan one object's bytes (gzipped or not)."""
    inflated = inflate(data)
    if (
        not inflated.marker_seen
        and not inflated.problem
        and _HEAD.match(inflated.head())
        and _TAIL.search(inflated.tail())
    ):
        # The common case: a whole, well-formed log file with nothing that could be root activity.
        return FileScan(item=item, events_read=inflated.records_counted, sha256=inflated.sha256,
                        size=len(data))
    scan = scan_content(item, inflated.content(), inflated.problem)
    scan.sha256, scan.size = inflated.sha256, len(data)
    return scan


def scan_path(path: str) -> FileScan:
    """Scan one local file; for a process pool (takes and returns picklable values)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileScan(item=path, status="skipped", reason=f"unreadable: {exc}")
    return scan_bytes(path, data)


def scan_content(item: str, content: bytes, problem: str = "") -> FileScan:
    scan = FileScan(item=item)
    head_ok = bool(_HEAD.match(content[:256]))
    tail_ok = bool(_TAIL.search(content[-256:]))
    if not head_ok:
        return _not_a_log_file(scan, content, problem)
    complete = tail_ok and not problem
    scan.events_read = SEARCHER.count_records(content)
    if not SEARCHER.has_marker(content):
        if not complete:
            _mark_partial(scan, problem or "the file ends before its Records array closes")
        return scan
    text = content.decode("utf-8", errors="replace")
    records = _records_at_markers(text) if complete else None
    if records is None:
        records, cut = _records_one_by_one(text)
        if complete:
            scan.events_read = len(records)
        if cut:
            _mark_partial(scan, problem or "the file ends before its Records array closes")
    for record in records:
        if not is_relevant(record):
            continue
        lacking = missing_fields(record)
        if lacking:
            scan.bad_records += 1
            _mark_partial(scan, f"record without the expected fields ({', '.join(lacking)})")
            continue
        scan.records.append(record)
    if problem and scan.status == "read":
        _mark_partial(scan, problem)
    return scan


def _mark_partial(scan: FileScan, reason: str) -> None:
    scan.status = "partial"
    if reason and reason not in scan.reason:
        scan.reason = f"{scan.reason}; {reason}" if scan.reason else reason


def _not_a_log_file(scan: FileScan, content: bytes, problem: str) -> FileScan:
    scan.status = "skipped"
    if problem and not content:
        scan.reason = problem
        return scan
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        scan.reason = "not JSON" + (f" ({problem})" if problem else "")
        return scan
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        # A log file written with unusual spacing: read it whole.
        records = [r for r in doc["Records"] if isinstance(r, dict)]
        rescan = scan_content(
            scan.item, json.dumps({"Records": records}, separators=(",", ":")).encode(), problem
        )
        rescan.events_read = len(doc["Records"])
        return rescan
    scan.reason = "not a CloudTrail log file (JSON without a Records array)"
    return scan


def _records_at_markers(text: str) -> list[dict[str, Any]] | None:
    """The records holding a marker, decoded one each; None when the eventVersion-first hint fails."""
    decoder = json.JSONDecoder()
    spans: dict[int, dict[str, Any]] = {}
    for marker in MARKERS:
        pos = text.find(marker)
        while pos != -1:
            start = text.rfind(RECORD_HINT, 0, pos)
            if start == -1:
                return None
            if start in spans:
                pos = text.find(marker, pos + 1)
                continue
            try:
                record, end = decoder.raw_decode(text, start)
            except ValueError:
                return None
            if end <= pos or not isinstance(record, dict):
                return None  # the marker lies outside what was decoded: the hint does not hold here
            spans[start] = record
            pos = text.find(marker, end)
    return [spans[k] for k in sorted(spans)]


def _records_one_by_one(text: str) -> tuple[list[dict[str, Any]], bool]:
    """Every complete record of the Records array, and whether the array was cut short."""
    decoder = json.JSONDecoder()
    start = text.find("[") + 1
    records: list[dict[str, Any]] = []
    pos, size = start, len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= size:
            return records, True
        if text[pos] == "]":
            return records, False
        try:
            record, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return records, True
        if isinstance(record, dict):
            records.append(record)
