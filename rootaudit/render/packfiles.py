"""Reading a pack folder or zip into memory, refusing what a zip can hide.

A zip can hold a name twice (one tool extracts the first copy, another the last), members with absolute
paths or `..` that land outside the folder, or members beside the pack's one folder. Each is a problem
naming the member, never silently resolved: what is read is only what cannot be mistaken.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from rootaudit.bounded import InputTooLarge, check_folder_files, check_zip_members


class PackError(ValueError):
    """The path is not a pack that can be read at all."""


@dataclass
class PackRead:
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> bytes
    top: str | None = None  # a zip's folder (None for a folder pack)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (member, what is wrong)


def _unsafe(name: str) -> str | None:
    """Why a member name cannot be extracted safely, or None."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "an absolute path: it would be extracted outside the pack folder"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "a path with '..': it would be extracted outside the pack folder"
    return None


def read_pack(path: Path) -> PackRead:
    path = Path(path)
    try:
        if path.is_dir():
            found = [p for p in sorted(path.rglob("*")) if p.is_file()]
            check_folder_files(path, found)  # sizes first: nothing is read past the stated limit
            return PackRead(files={p.relative_to(path).as_posix(): p.read_bytes() for p in found})
        if not path.is_file():
            raise PackError(f"{path}: no such pack folder or zip")
        with zipfile.ZipFile(path) as zf:
            check_zip_members(path, [i for i in zf.infolist() if not i.is_dir()])
            return _read_zip(zf)
    except InputTooLarge as exc:
        raise PackError(str(exc)) from None
    except zipfile.BadZipFile as exc:
        raise PackError(f"{path}: not a zip file ({exc})") from exc


def _read_zip(zf: zipfile.ZipFile) -> PackRead:
    read = PackRead()
    entries = [i for i in zf.infolist() if not i.is_dir()]
    counts = Counter(i.filename for i in entries)
    for name, n in sorted(counts.items()):
        if n > 1:
            read.problems.append((name, f"the zip holds this name {n} times: unzip tools disagree on which "
                                  "copy they extract, so none is trusted"))
    safe = []
    for info in entries:
        why = _unsafe(info.filename)
        if why:
            read.problems.append((info.filename, why))
        elif counts[info.filename] == 1:
            safe.append(info)
    tops = Counter(parts[0] for parts in (PurePosixPath(i.filename).parts for i in safe) if len(parts) > 1)
    read.top = tops.most_common(1)[0][0] if tops else None
    for info in safe:
        parts = PurePosixPath(info.filename).parts
        if read.top is None or len(parts) < 2 or parts[0] != read.top:
            read.problems.append((info.filename, f"outside the pack's folder {read.top or '(none)'}/: a pack "
                                  "zip holds one folder"))
            continue
        try:
            read.files[PurePosixPath(*parts[1:]).as_posix()] = zf.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # a corrupt member, a bad CRC
            read.problems.append((info.filename, f"cannot be read from the zip ({exc})"))
    return read
