"""The rendered files are the ones rendered from this snapshot: report.html, evidence.xlsx, evidence.pdf.

Each carries `snapshot-sha256:<digest>` in its metadata (the HTML's keywords meta, the workbook's core
properties, the PDF's Keywords), and the PDF shows the digest on its cover and carries the snapshot and
the results as attachments, which must equal the pack's data files. verify also renders report.html and
evidence.xlsx again and compares them byte for byte (verify._render_again, once the evaluation is
re-performed); the PDF is not, since its bytes depend on the fonts installed.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Mapping

from rootaudit.render.pack import HTML, PDF, XLSX

MARK = re.compile(r"snapshot-sha256:([0-9a-f]{64})")
RENDERED = (PDF, XLSX, HTML)


def _marks(text: str) -> set[str]:
    return set(MARK.findall(text))


def _digest_problem(rel: str, found: set[str], digest: str, where: str) -> str | None:
    if not found:
        return f"its {where} carries no snapshot digest: it cannot be tied to this snapshot"
    if found != {digest}:
        return (f"rendered from another snapshot: its {where} names snapshot-sha256 "
                f"{', '.join(sorted(found))}, this pack's snapshot is {digest}")
    return None


def _zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def _attachment_problems(name: str, data: bytes, expected: Mapping[str, bytes]) -> list[str]:
    try:
        members = _zip_members(data)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        return [f"its attachment {name} is not a readable zip ({exc})"]
    out = []
    differ = sorted(p for p in set(members) & set(expected) if members[p] != expected[p])
    missing, extra = sorted(set(expected) - set(members)), sorted(set(members) - set(expected))
    if differ:
        out.append(f"its attachment {name} holds other {', '.join(differ[:5])} than the pack"
                   + (f" (and {len(differ) - 5} more)" if len(differ) > 5 else ""))
    if missing:
        out.append(f"its attachment {name} lacks {', '.join(missing[:5])}")
    if extra:
        out.append(f"its attachment {name} holds {', '.join(extra[:5])}, which the pack does not")
    return out


def pdf_problems(data: bytes, digest: str, snapshot_files: Mapping[str, bytes],
                 result_files: Mapping[str, bytes]) -> list[str]:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        keywords = str((reader.metadata or {}).get("/Keywords") or "")
        cover = "".join((reader.pages[0].extract_text() or "").split()) if reader.pages else ""
        attachments = {name: blobs for name, blobs in reader.attachments.items()}
    except Exception as exc:  # pypdf raises many kinds on a damaged file: a finding, not a crash
        return [f"not a readable PDF ({type(exc).__name__}: {exc})"]
    out = []
    why = _digest_problem(PDF, _marks(keywords), digest, "metadata (Keywords)")
    if why:
        out.append(why)
    if digest not in cover:
        out.append(f"its cover does not show this snapshot's digest {digest}")
    for name, expected in (("snapshot.zip", snapshot_files), ("results.zip", result_files)):
        blobs = attachments.get(name) or []
        if len(blobs) != 1:
            out.append(f"it carries {len(blobs)} attachment(s) named {name}, not one")
            continue
        out += _attachment_problems(name, blobs[0], expected)
    return out


def xlsx_problems(data: bytes, digest: str) -> list[str]:
    try:
        core = _zip_members(data).get("docProps/core.xml", b"").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        return [f"not a readable workbook ({exc})"]
    why = _digest_problem(XLSX, _marks(core), digest, "document properties (keywords)")
    return [why] if why else []


def html_problems(data: bytes, digest: str) -> list[str]:
    head = data.decode("utf-8", errors="replace").split("</head>", 1)[0]
    why = _digest_problem(HTML, _marks(head), digest, "keywords meta")
    return [why] if why else []


def rendered_problems(files: Mapping[str, bytes], digest: str, snapshot_files: Mapping[str, bytes],
                      result_files: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(file, what is wrong) for each rendered file missing or not rendered from this snapshot."""
    out: list[tuple[str, str]] = []
    for rel in RENDERED:
        if rel not in files:
            out.append((rel, "missing: a pack without its report cannot be tied to its evidence"))
    if PDF in files:
        out += [(PDF, p) for p in pdf_problems(files[PDF], digest, snapshot_files, result_files)]
    if XLSX in files:
        out += [(XLSX, p) for p in xlsx_problems(files[XLSX], digest)]
    if HTML in files:
        out += [(HTML, p) for p in html_problems(files[HTML], digest)]
    return out
