"""`rootaudit verify PACK`: check a pack's hashes, then re-perform its evaluation and compare.

A pack is a folder or its zip. The checks, each naming the file it is about:
1. every file listed in manifest.json is present with that SHA-256 and size, and no file is unlisted;
2. the same against SHA256SUMS (which also covers manifest.json);
3. the snapshot inside the pack (snapshot.json, data/) still has the digest the manifest records;
4. evaluating that snapshot again from the pack's inputs/ gives byte-identical result frames.
`ok` is true only when every check ran and passed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TypeVar

from rootaudit.bounded import InputTooLarge, check_folder_files, check_zip_members
from rootaudit.controls.results import Results
from rootaudit.render.pack import CHECKSUMS, INPUTS_DIR, MANIFEST, result_files
from rootaudit.snapshot import Snapshot, load_snapshot

Evaluator = Callable[[Snapshot, dict[str, bytes]], Results]


@dataclass(frozen=True)
class Problem:
    file: str  # the pack file the problem is about ("" for the pack as a whole)
    kind: str  # missing | extra | hash | size | unreadable | digest | result | evaluation
    detail: str

    def __str__(self) -> str:
        return f"{self.file or '(pack)'}: {self.kind}: {self.detail}"


@dataclass
class VerifyReport:
    pack: Path
    files_checked: int = 0
    re_evaluated: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.re_evaluated and not self.problems

    def lines(self) -> list[str]:
        if self.ok:
            return [f"{self.pack}: OK ({self.files_checked} files; hashes and re-evaluated results match)"]
        return [f"{self.pack}: FAILED ({len(self.problems)} problem(s))", *(f"  {p}" for p in self.problems)]


class PackError(ValueError):
    """The path is not a pack that can be read at all."""


_Member = TypeVar("_Member")


def _bounded(check: Callable[[Path, Iterable[_Member]], None], path: Path,
             members: Iterable[_Member]) -> None:
    try:
        check(path, members)
    except InputTooLarge as exc:
        raise PackError(str(exc)) from None


def read_pack_files(path: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file in a pack folder or zip."""
    path = Path(path)
    if path.is_dir():
        found = [p for p in sorted(path.rglob("*")) if p.is_file()]
        _bounded(check_folder_files, path, found)
        return {p.relative_to(path).as_posix(): p.read_bytes() for p in found}
    if not path.is_file():
        raise PackError(f"{path}: no such pack folder or zip")
    try:
        with zipfile.ZipFile(path) as zf:
            entries = [i for i in zf.infolist() if not i.is_dir()]
            _bounded(check_zip_members, path, entries)
            tops = {PurePosixPath(i.filename).parts[0] for i in entries if PurePosixPath(i.filename).parts}
            if len(tops) != 1:
                raise PackError(
                    f"{path}: a pack zip holds one folder; this one holds {len(tops)} top entries"
                )
            files: dict[str, bytes] = {}
            for info in entries:
                rel = PurePosixPath(info.filename).relative_to(next(iter(tops)))
                if rel.is_absolute() or ".." in rel.parts or not rel.parts:
                    raise PackError(f"{path}: entry {info.filename!r} would leave the pack folder")
                files[rel.as_posix()] = zf.read(info)
            return files
    except zipfile.BadZipFile as exc:
        raise PackError(f"{path}: not a zip file ({exc})") from exc


def _check_listing(
    files: Mapping[str, bytes], listed: Mapping[str, tuple[str, int | None]], source: str, exempt: set[str]
) -> list[Problem]:
    problems = []
    for rel, (digest, size) in sorted(listed.items()):
        if rel not in files:
            problems.append(Problem(rel, "missing", f"listed in {source} but not in the pack"))
            continue
        data = files[rel]
        if size is not None and len(data) != size:
            problems.append(Problem(rel, "size", f"{len(data)} bytes, {source} says {size}"))
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(Problem(rel, "hash", f"SHA-256 differs from {source}"))
    for rel in sorted(set(files) - set(listed) - exempt):
        problems.append(Problem(rel, "extra", f"in the pack but not listed in {source}"))
    return problems


def _manifest_listing(
    files: Mapping[str, bytes],
) -> tuple[dict[str, tuple[str, int | None]], dict, list[Problem]]:
    if MANIFEST not in files:
        return {}, {}, [Problem(MANIFEST, "missing", "the pack has no manifest")]
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
        listing = {e["path"]: (e["sha256"], int(e["size"])) for e in manifest["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        return {}, {}, [Problem(MANIFEST, "unreadable", f"not a valid manifest: {exc}")]
    return listing, manifest, []


def _checksum_listing(files: Mapping[str, bytes]) -> tuple[dict[str, tuple[str, int | None]], list[Problem]]:
    if CHECKSUMS not in files:
        return {}, [Problem(CHECKSUMS, "missing", "the pack has no SHA256SUMS")]
    listing: dict[str, tuple[str, int | None]] = {}
    try:
        lines = files[CHECKSUMS].decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return {}, [Problem(CHECKSUMS, "unreadable", "not UTF-8 text")]
    for n, line in enumerate(lines, start=1):
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            return {}, [Problem(CHECKSUMS, "unreadable", f"line {n} is not '<sha256>  <path>'")]
        listing[rel.lstrip("*")] = (digest.lower(), None)
    return listing, []


def _compare_listings(
    manifest: Mapping[str, tuple[str, int | None]], sums: Mapping[str, tuple[str, int | None]]
) -> list[Problem]:
    """SHA256SUMS must record the same hash as manifest.json for every file: where they disagree and the
    file itself matches the manifest, it is SHA256SUMS that was changed."""
    wrong = sorted(p for p in set(manifest) & set(sums) if manifest[p][0] != sums[p][0])
    if not wrong:
        return []
    return [
        Problem(
            CHECKSUMS,
            "hash",
            f"records other hashes than manifest.json for {', '.join(wrong[:5])}"
            + (f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""),
        )
    ]


def _default_evaluator() -> Evaluator | None:
    try:
        from rootaudit.controls import evaluate_inputs  # the controls stage, when installed
    except ImportError:
        return None
    return evaluate_inputs


def verify_pack(path: Path, evaluate: Evaluator | None = None) -> VerifyReport:
    """Check a pack (folder or zip). `evaluate` defaults to `rootaudit.controls.evaluate_inputs`."""
    report = VerifyReport(pack=Path(path))
    files = read_pack_files(Path(path))
    report.files_checked = len(files)

    listing, manifest, problems = _manifest_listing(files)
    report.problems += problems
    if listing:
        report.problems += _check_listing(files, listing, MANIFEST, {MANIFEST, CHECKSUMS})
    sums, problems = _checksum_listing(files)
    report.problems += problems
    if sums:
        report.problems += _check_listing(files, sums, CHECKSUMS, {CHECKSUMS})
    if sums and listing:
        report.problems += _compare_listings(listing, sums)

    with tempfile.TemporaryDirectory(prefix="rootaudit-verify-") as tmp:
        folder = Path(tmp) / "pack"
        for rel, data in files.items():  # a scratch copy: no need for the atomic, synced writer
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            snapshot = load_snapshot(folder)
        except (OSError, ValueError) as exc:
            report.problems.append(
                Problem("snapshot.json", "unreadable", f"the snapshot cannot be loaded: {exc}")
            )
            return report
    if manifest and manifest.get("snapshot_digest") != snapshot.digest():
        report.problems.append(
            Problem(
                "snapshot.json",
                "digest",
                "the snapshot's digest (snapshot.json, data/) differs from manifest.json",
            )
        )

    evaluate = evaluate or _default_evaluator()
    if evaluate is None:
        report.problems.append(
            Problem("", "evaluation", "cannot re-evaluate: rootaudit.controls is not available")
        )
        return report
    inputs = {
        rel[len(INPUTS_DIR) + 1 :]: data for rel, data in files.items() if rel.startswith(f"{INPUTS_DIR}/")
    }
    try:
        results = evaluate(snapshot, inputs)
    except Exception as exc:  # any failure of the evaluation is a finding of verify, not a crash
        report.problems.append(
            Problem("", "evaluation", f"re-evaluation failed: {type(exc).__name__}: {exc}")
        )
        return report
    report.re_evaluated = True
    for rel, data in sorted(result_files(results).items()):
        if rel not in files:
            report.problems.append(Problem(rel, "missing", "the pack has no such result frame"))
        elif files[rel] != data:
            report.problems.append(Problem(rel, "result", _first_difference(files[rel], data)))
    return report


def _first_difference(packed: bytes, again: bytes) -> str:
    a = packed.decode("utf-8", errors="replace").splitlines()
    b = again.decode("utf-8", errors="replace").splitlines()
    for n, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return f"re-evaluation differs at line {n}: pack {x[:120]!r}, re-evaluated {y[:120]!r}"
    return f"re-evaluation differs: pack has {len(a)} lines, re-evaluation {len(b)}"


__all__ = ["PackError", "Problem", "VerifyReport", "read_pack_files", "verify_pack"]
