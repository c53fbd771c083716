"""Secrets: the demo path (server mode, `rootaudit -v demo`) is run and every byte it leaves is searched
for the secret access keys and session tokens the simulation issued: every file of the pack and of the
snapshot, inside the zip, gzipped raw responses decompressed, the workbook unzipped, the PDF's text and
its attachments (unzipped), and the logs and console output of the run."""

from __future__ import annotations

import gzip
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def blobs(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """`data` and everything packed inside it, each with a name saying where it came from."""
    yield name, data
    if data[:2] == b"\x1f\x8b":
        yield from blobs(f"{name}|gunzip", gzip.decompress(data))
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from blobs(f"{name}|{member}", zf.read(member))
    elif data[:5] == b"%PDF-":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        yield f"{name}|text", " ".join(p.extract_text() or "" for p in reader.pages).encode("utf-8")
        for attachment, contents in reader.attachments.items():
            for n, content in enumerate(contents):
                yield from blobs(f"{name}|attachment {attachment} #{n}", content)


def test_no_issued_secret_is_written_or_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture,
                                               capsys: pytest.CaptureFixture[str],
                                               tally: dict[str, int]) -> None:
    from rootaudit import cli, demo
    from rootaudit.simulate import SimulatedOrganization
    from rootaudit.simulate.events import EVENT_LOG, AssumeRootCall

    issued: set[str] = set()
    in_trail: set[str] = set()

    class Recording(SimulatedOrganization):
        """The demo's simulation, telling which secrets it issued before it forgets them."""

        def __exit__(self, *exc: Any) -> None:
            issued.update(self.issued_secrets())
            # The trail's AssumeRoot records carry the session token issued, as AWS's do.
            in_trail.update(e.session_token for e in EVENT_LOG.events()
                            if isinstance(e, AssumeRootCall) and e.session_token)
            super().__exit__(*exc)

    monkeypatch.setattr(demo, "SimulatedOrganization", Recording)
    caplog.set_level(logging.INFO)  # what `-v` shows
    out = tmp_path / "demo"
    status = cli.main(["-v", "demo", "--accounts", "14", "--out", str(out), "--period", "2026-Q3"])
    console = capsys.readouterr()
    assert status == 0, console.err  # the demo made its pack

    # Every AssumeRoot / AssumeRole the collectors made handed out a secret key and a token.
    assert len(issued) >= 20, f"only {len(issued)} secrets issued: the scan would prove little"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".zip" for p in files) and any(p.name == "evidence.pdf" for p in files)
    scanned = [(p.relative_to(out).as_posix(), p.read_bytes()) for p in files]
    scanned += [("log records", "\n".join(r.getMessage() for r in caplog.records).encode()),
                ("log text", caplog.text.encode()), ("stdout", console.out.encode()),
                ("stderr", console.err.encode())]
    everything = [blob for name, data in scanned for blob in blobs(name, data)]
    assert any("|gunzip" in n for n, _ in everything) and any("attachment" in n for n, _ in everything)
    assert any("evidence.xlsx|" in n for n, _ in everything)
    leaks = [(name, secret[:6] + "…") for name, data in everything
             for secret in issued if secret.encode() in data]
    tally["secrets_scanned"] += len(issued)
    tally["files_scanned"] += len(everything)
    assert not leaks, f"secrets found: {leaks[:10]}"
    # The scan means something: the CloudTrail records the collector read held issued tokens, and the
    # snapshot kept those records with the token redacted.
    assert in_trail & issued, "no AssumeRoot record carried an issued session token"
    assert any(re.search(rb'"sessionToken": ?"<redacted>"', d) for _, d in everything)
    # The scan can find what it looks for: a raw response holding a secret would have been caught.
    planted = next(iter(issued))
    assert any(planted.encode() in d for _, d in blobs("probe", gzip.compress(planted.encode())))
