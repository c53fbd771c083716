"""Tampering with packs as a careful forger would: recompute manifest.json and SHA256SUMS after a change."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rootaudit.snapshot import is_snapshot_file
from rootaudit.snapshot import snapshot_digest_of as _digest


def reseal(folder: Path, *, snapshot_digest: bool = True) -> None:
    """Make manifest.json (every file's hash and size, and the snapshot digest unless told not to) and
    SHA256SUMS agree with the folder as it now is."""
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and p.name not in ("manifest.json", "SHA256SUMS")}
    manifest["files"] = [{"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                         for p, d in sorted(files.items())]
    if snapshot_digest:
        manifest["snapshot_digest"] = _digest({p: d for p, d in files.items() if is_snapshot_file(p)})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    files["manifest.json"] = (folder / "manifest.json").read_bytes()
    (folder / "SHA256SUMS").write_text("".join(f"{hashlib.sha256(d).hexdigest()}  {p}\n"
                                               for p, d in sorted(files.items())))
