"""Deterministic zip archives: sorted entries, one fixed timestamp, fixed permissions."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Members that are compressed already (the raw responses) are stored as they are: deflating them again
# gains nothing and, with thousands of accounts' responses, was a fifth of the pack's time.
STORED_SUFFIXES = (".gz",)


def zip_time(iso: str) -> tuple[int, int, int, int, int, int]:
    """A zip entry time from an ISO-8601 UTC text; zip cannot hold times before 1980."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return ZIP_EPOCH
    if moment.year < 1980:
        return ZIP_EPOCH
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def zip_bytes(
    files: Mapping[str, bytes],
    when: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
    order: list[str] | None = None,
) -> bytes:
    """A zip of `files` (path -> bytes) whose bytes depend only on the files, their order and `when`."""
    names = order if order is not None else sorted(files)
    return zip_entries(((name, files.__getitem__) for name in names), when)


def zip_entries(
    entries: Iterable[tuple[str, Callable[[str], bytes | Iterable[bytes]]]],
    when: tuple[int, int, int, int, int, int] = ZIP_EPOCH,
) -> bytes:
    """A zip of (path, make the content from the path), in the order given: each entry's content is made
    just before it is written and can be freed after, so only one is in memory at a time; content given
    as pieces (an iterable of bytes) is compressed piece by piece, never whole."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, make in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            stored = name.endswith(STORED_SUFFIXES)
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            content = make(name)
            if isinstance(content, bytes):
                zf.writestr(info, content)
                continue
            with zf.open(info, "w") as dest:
                for piece in content:
                    dest.write(piece)
    return buf.getvalue()


def restamp_zip(data: bytes, when: tuple[int, int, int, int, int, int] = ZIP_EPOCH) -> bytes:
    """The same archive (entry order kept) with every entry's timestamp fixed, e.g. an .xlsx."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [i.filename for i in zf.infolist()]
        files = {n: zf.read(n) for n in names}
    return zip_bytes(files, when, order=names)
