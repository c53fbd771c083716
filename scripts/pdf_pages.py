"""Render an evidence PDF's pages to PNG, to look at them as a reader will (a reviewing aid, not a test).

    .venv/bin/python scripts/pdf_pages.py                      # make the demo's pack, render its PDF
    .venv/bin/python scripts/pdf_pages.py PACK/evidence.pdf    # render a PDF you have
    .venv/bin/python scripts/pdf_pages.py --out DIR --dpi 110 --first 3 --last 5

Writes DIR/page-01.png, page-02.png, ... (DIR defaults to ./pdf-pages) with poppler's `pdftoppm`
(Debian/Ubuntu: apt-get install poppler-utils; macOS: brew install poppler), and prints their paths.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make `scripts` and `rootaudit` importable
    sys.path.insert(0, str(ROOT))


def render_pages(pdf: Path, out: Path, dpi: int = 80, first: int | None = None,
                 last: int | None = None) -> list[Path]:
    """The PDF's pages as PNG files in `out`, in page order."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise SystemExit("pdftoppm not found: install poppler-utils (apt-get install poppler-utils) "
                         "or poppler (brew install poppler)")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("page-*.png"):
        old.unlink()
    command = [tool, "-r", str(dpi), "-png"]
    if first:
        command += ["-f", str(first)]
    if last:
        command += ["-l", str(last)]
    subprocess.run([*command, str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pdf", nargs="?", type=Path, help="the PDF (default: make the demo's pack)")
    parser.add_argument("--out", type=Path, default=Path("pdf-pages"), help="folder for the PNG files")
    parser.add_argument("--dpi", type=int, default=80)
    parser.add_argument("--first", type=int, help="first page to render")
    parser.add_argument("--last", type=int, help="last page to render")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = args.pdf
        if pdf is None:
            from scripts.make_samples import make_demo_pack

            pdf = make_demo_pack(Path(tmp)).with_suffix("") / "evidence.pdf"
        if not pdf.is_file():
            raise SystemExit(f"{pdf}: no such PDF")
        for page in render_pages(pdf, args.out, args.dpi, args.first, args.last):
            print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
