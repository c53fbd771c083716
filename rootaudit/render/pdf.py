"""The report as HTML (Jinja2, autoescaped) and as PDF/A-3b (WeasyPrint) with the evidence attached."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from rootaudit.resources import templates_dir

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
FILTERS = "monitoring_filters.json"
PDF_VARIANT = "pdf/a-3b"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        # a value the template names but the model lacks is an error, never an empty section
        undefined=StrictUndefined,
        lstrip_blocks=True,
    )


def render_html(report: Mapping[str, Any]) -> str:
    """The report (from `model.build_report`) as one self-contained HTML page."""
    folder = templates_dir()
    css = (folder / STYLESHEET).read_text(encoding="utf-8")
    filters = json.loads((folder / FILTERS).read_text(encoding="utf-8"))
    # The stylesheet is the project's own file, not evidence: it is the one value not escaped.
    return _environment().get_template(TEMPLATE).render(r=report, css=Markup(css), **filters)


def _moment(iso: str) -> datetime:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, AttributeError):
        return datetime(1980, 1, 1, tzinfo=UTC)


def render_pdf(
    html: str, attachments: Mapping[str, tuple[bytes, str]], collected_at: str, identifier: bytes
) -> bytes:
    """PDF/A-3b from the report's HTML. `attachments`: file name -> (bytes, description).

    The PDF's dates are the collection time and its identifier is given, so the same evidence gives
    the same PDF bytes whenever it is rendered.
    """
    # WeasyPrint is imported here: it is slow to import, and only the PDF needs it.
    from weasyprint import HTML, Attachment

    moment = _moment(collected_at)
    files = [
        Attachment(
            string=data,
            name=name,
            description=description,
            created=moment,
            modified=moment,
            relationship="Source" if name.endswith(".zip") else "Data",
        )
        for name, (data, description) in sorted(attachments.items())
    ]
    with _source_date_epoch(moment):
        document = HTML(string=html, base_url=str(templates_dir())).render()
        return document.write_pdf(pdf_variant=PDF_VARIANT, attachments=files, pdf_identifier=identifier)


@contextmanager
def _source_date_epoch(moment: datetime) -> Iterator[None]:
    """Font subsetting (fontTools) stamps each embedded font with "now" unless SOURCE_DATE_EPOCH is set:
    set it to the collection time while the PDF is made, so its bytes follow the evidence only."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def report_attachments(snapshot_zip: bytes, results_zip: bytes) -> dict[str, tuple[bytes, str]]:
    """What the PDF carries inside it: the snapshot's files and the result frames, each as one zip
    (the result frames of a large organization run to hundreds of megabytes of CSV before compression)."""
    return {
        "snapshot.zip": (snapshot_zip, "The snapshot: snapshot.json and data/ (frames and raw responses)"),
        "results.zip": (
            results_zip,
            "The results: data/signals.csv, data/control_results.csv, data/exceptions.csv",
        ),
    }
