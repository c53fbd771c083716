"""The evidence pack: report, workbook, data, inputs, manifest and checksums, as a folder and a zip.

Every file is made in memory first, with the output folder locked (`.rootaudit.lock`: one writer at a
time); then the zip and the folder are written under temporary names beside their final ones and renamed
into place together only when both are whole (rootaudit.atomic). A failure or an interrupt part way (a
full disk, Ctrl-C, SIGTERM) leaves no temporary name and the older pack of the same name as it was; an
older pack is replaced only when asked (`replace`, the command line's --force), and deleted only once
the new one is in place.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import signal
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rootaudit import __version__, progress
from rootaudit.atomic import Staging, output_lock, refuse_existing
from rootaudit.controls.results import Results
from rootaudit.history.pack_view import HistoryView, history_part, report_section_from, workbook_sheets_from
from rootaudit.render.model import bounded_history, build_report, meta_of
from rootaudit.render.pdf import render_html, render_pdf, report_attachments
from rootaudit.render.xlsx import render_xlsx
from rootaudit.render.zipfiles import zip_bytes, zip_time
from rootaudit.signing.record import signature_summary
from rootaudit.snapshot import (
    RESULT_SCHEMAS,
    SIGNATURE_FILE,
    Snapshot,
    digest_files,
    frame_to_csv_bytes,
    safe_relpath,
)

MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
PDF = "evidence.pdf"
XLSX = "evidence.xlsx"
HTML = "report.html"
INPUTS_DIR = "inputs"
# What the report and workbook took from the history file (history_part): kept so that verify can
# render both again from the pack alone and compare them byte for byte.
HISTORY_PART = "report_history.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class PackPaths:
    folder: Path
    zip: Path
    files: tuple[str, ...]  # relative paths inside the folder


def safe_name_part(value: str, fallback: str) -> str:
    """A piece of a file name that cannot leave the output folder or hide itself."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", value)
    cleaned = re.sub(r"_+", "_", re.sub(r"\.{2,}", "_", cleaned)).strip("._-")[:80]
    return cleaned or fallback


def pack_name(snapshot: Snapshot) -> str:
    m = meta_of(snapshot)
    return f"rootaudit-{safe_name_part(m.organization_id, 'org')}-{safe_name_part(m.period_label, 'period')}"


def result_files(results: Results) -> dict[str, bytes]:
    """data/<frame>.csv for the result frames."""
    return {f"data/{name}.csv": frame_to_csv_bytes(name, getattr(results, name)) for name in RESULT_SCHEMAS}


def input_files(results: Results) -> dict[str, bytes]:
    return {f"{INPUTS_DIR}/{safe_relpath(path)}": data for path, data in sorted(results.inputs.items())}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: Mapping[str, bytes], snapshot: Snapshot, digest: str,
                   signature: Mapping[str, Any] | None = None) -> bytes:
    """The manifest: the pack's metadata, the snapshot digest, the collection's signature (as carried
    from the snapshot: `report` never signs; null when the collection was not signed), every file."""
    m = meta_of(snapshot)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "tool": "rootaudit",
        "tool_version": __version__,
        "organization_id": m.organization_id,
        "period": m.period_label,
        "collected_at": m.collected_at,
        "snapshot_digest": digest,
        "signature": dict(signature) if signature else None,
        "files": [{"path": p, "sha256": sha256(files[p]), "size": len(files[p])} for p in sorted(files)],
    }
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def checksums_bytes(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum` format: the hash, two spaces, the path."""
    return "".join(f"{sha256(files[p])}  {p}\n" for p in sorted(files)).encode("utf-8")


def pack_files(snapshot: Snapshot, results: Results, history: HistoryView | None = None) -> dict[str, bytes]:
    """Every file of the pack, by relative path, in memory. `history`: what the history holds before this
    pack (the report's "Since the last pack" and trend)."""
    snap_files = snapshot.files()
    digest = digest_files(snap_files)  # the same as snapshot.digest(), computed once
    res_files = result_files(results)
    collected = meta_of(snapshot).collected_at
    signature = signature_summary(snapshot.signature, digest)
    progress.step("rendering the report")
    part = history_part(history)
    html = rendered_html(snapshot, results, digest, part)
    when = zip_time(collected)
    attachments = report_attachments(zip_bytes(snap_files, when), zip_bytes(res_files, when))
    # The PDF's identifier follows the evidence it carries, so the same evidence gives the same PDF.
    identifier = hashlib.md5(
        (digest + "".join(sha256(v) for v in res_files.values())).encode(), usedforsecurity=False
    ).digest()
    progress.step("writing the PDF/A report and the workbook")
    pdf = _pdf_started(html, attachments, collected, identifier)
    try:
        workbook = rendered_workbook(snapshot, results, digest, part)
    except BaseException:
        pdf.cancel()  # an interrupt or a failure here must not leave the PDF's worker running
        raise
    files: dict[str, bytes] = {
        **snap_files,
        # the collection's signature, carried as it is (it signs the snapshot's files, not the pack)
        **({SIGNATURE_FILE: snapshot.signature} if snapshot.signature is not None else {}),
        **res_files,
        **input_files(results),
        HTML: html.encode("utf-8"),
        XLSX: workbook,
        PDF: pdf.result(),
        HISTORY_PART: history_part_bytes(part),
    }
    files[MANIFEST] = manifest_bytes(files, snapshot, digest, signature)
    files[CHECKSUMS] = checksums_bytes(files)
    return files


def rendered_html(snapshot: Snapshot, results: Results, digest: str, part: Mapping[str, Any]) -> str:
    """report.html: a pure function of the snapshot, the results, the snapshot's digest and the history's
    part (`history_part`), so verify can make it again."""
    report = build_report(snapshot, results, digest)
    report["history"] = bounded_history(report_section_from(dict(part), snapshot))
    report["signature"] = signature_summary(snapshot.signature, digest)
    return render_html(report)


def rendered_workbook(snapshot: Snapshot, results: Results, digest: str, part: Mapping[str, Any]) -> bytes:
    """evidence.xlsx, as `rendered_html` is report.html."""
    return render_xlsx(snapshot, results, digest, workbook_sheets_from(dict(part), snapshot))


def history_part_bytes(part: Mapping[str, Any]) -> bytes:
    return (json.dumps(part, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _render_pdf_job(job: tuple[str, Mapping[str, tuple[bytes, str]], str, bytes]) -> bytes:
    return render_pdf(*job)


def _pdf_worker_started() -> None:
    # The worker is forked with this process's signal handlers, and the command line's SIGTERM handler
    # raises KeyboardInterrupt, which a worker catches and outlives: it takes the default instead. Ctrl-C
    # is this process's to handle; it ends the worker (below) when it is interrupted.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _PendingPdf:
    """The PDF being made: `result()` waits for it; `cancel()` ends its worker."""

    def __init__(self, job: tuple[str, Mapping[str, tuple[bytes, str]], str, bytes], serial: bool) -> None:
        self.job = job
        self.pool: ProcessPoolExecutor | None = None
        self.future: Future[bytes] | None = None
        if not serial:
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_pdf_worker_started)
            self.future = self.pool.submit(_render_pdf_job, job)

    def result(self) -> bytes:
        if self.pool is None or self.future is None:
            return _render_pdf_job(self.job)
        try:
            return self.future.result()
        except BaseException:
            self.cancel()
            raise
        finally:
            self.pool.shutdown()

    def cancel(self) -> None:
        if self.pool is None:
            return
        for process in list(getattr(self.pool, "_processes", {}).values()):  # no public way in 3.11
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _pdf_started(html: str, attachments: Mapping[str, tuple[bytes, str]], collected: str,
                 identifier: bytes) -> _PendingPdf:
    """Start the PDF. The PDF is the longest step and WeasyPrint uses one core, so with two or more it is
    made in a forked child while this process writes the workbook (the bytes are the same either way).
    Serial with one CPU, where fork is not available, or when ROOTAUDIT_SERIAL_RENDER is set (the demo
    benchmark's baseline)."""
    serial = bool(os.environ.get("ROOTAUDIT_SERIAL_RENDER") or (os.cpu_count() or 1) < 2
                  or "fork" not in multiprocessing.get_all_start_methods())
    return _PendingPdf((html, attachments, collected, identifier), serial)


def pack_paths(snapshot: Snapshot, out_dir: Path) -> tuple[Path, Path]:
    """Where the pack of this snapshot goes in `out_dir`: (folder, zip)."""
    name = pack_name(snapshot)
    return Path(out_dir) / name, Path(out_dir) / f"{name}.zip"


def packs_for_period(out_dir: Path, period_label: str) -> list[Path]:
    """Packs of any organization for this period already in `out_dir` (what `run` can see before it
    knows the organization's id)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return []
    suffix = f"-{safe_name_part(period_label, 'period')}"
    return sorted(p for p in out_dir.iterdir() if p.name.startswith("rootaudit-")
                  and (p.name.endswith(suffix) or p.name.endswith(f"{suffix}.zip")))


def write_pack(snapshot: Snapshot, results: Results, out_dir: Path, replace: bool = False,
               history: HistoryView | None = None) -> PackPaths:
    """Write the pack folder `rootaudit-<org>-<period>/` and its zip into `out_dir`. `history`: what the
    history holds before this pack ("Since the last pack", the trend).

    An existing pack of that name is refused (OutputExists) unless `replace`; a second writer into
    `out_dir` is refused (OutputLocked)."""
    out_dir = Path(out_dir)
    folder, zip_path = pack_paths(snapshot, out_dir)
    with output_lock(out_dir):
        if not replace:
            refuse_existing([folder, zip_path])  # before the rendering, not after it
        files = pack_files(snapshot, results, history)
        when = zip_time(meta_of(snapshot).collected_at)
        archive = zip_bytes({f"{folder.name}/{p}": data for p, data in files.items()}, when)
        with Staging(out_dir, folder.name) as stage:
            staged_zip = stage.write_file(archive, ".zip")
            staged_folder = stage.write_tree(files)
            stage.publish({staged_folder: folder, staged_zip: zip_path}, replace=replace)
    return PackPaths(folder=folder, zip=zip_path, files=tuple(sorted(files)))
