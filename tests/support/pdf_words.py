"""Where a PDF's words are on the page (poppler's `pdftotext -bbox`), to find text printed over text."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def word_boxes(pdf: Path, tmp: Path) -> str:
    """pdftotext -bbox's page of word boxes; the test is skipped, saying why, without poppler-utils."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed; .ci/run installs it")
    out = tmp / "bbox.html"
    subprocess.run(["pdftotext", "-bbox", str(pdf), str(out)], check=True)
    return out.read_text(encoding="utf-8")


def overprints(bbox_html: str) -> list[tuple[int, str, str]]:
    """Words (pdftotext -bbox) printed over one another: on the same line, their boxes overlap."""
    found = []
    for number, page in enumerate(bbox_html.split("<page ")[1:], start=1):
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)]
        for i, w in enumerate(words):
            for v in words[i + 1:]:
                same_line = min(w[3], v[3]) - max(w[1], v[1]) > 0.5 * min(w[3] - w[1], v[3] - v[1])
                if same_line and min(w[2], v[2]) - max(w[0], v[0]) > 0.8:
                    found.append((number, w[4], v[4]))
    return found


