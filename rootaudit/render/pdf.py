"""The report as HTML (Jinja2, autoescaped) and as PDF/A-3b (WeasyPrint) with the evidence attached."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from rootaudit.resources import templates_dir

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"
FILTERS = "monitoring_filters.json"
PDF_VARIANT = "pdf/a-3b"


# Where an id, ARN, e-mail address or error code may break across lines: after its own separators, and
# between the words of a CamelCase code (AccessDenied -> Access|Denied); never inside a word.
_BREAK_AFTER = re.compile(r"([/:@.\-_,=+|])(?=.)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def wrap_tokens(value: object, camel: bool = False) -> Markup:
    """`value`, escaped, with a line-break opportunity (<wbr>) after each separator of its tokens, so a
    table cell wraps an ARN or an e-mail address at its separators instead of mid-word; `camel`: also
    between the words of a CamelCase code (error codes, task policy names)."""
    shown = str(escape("" if value is None else value))
    # entities (&amp; &#39;) hold no separator a line may break at
    parts = re.split(r"(&[#\w]+;)", shown)
    out = []
    for part in parts:
        if part.startswith("&") and part.endswith(";"):
            out.append(part)
        else:
            part = _BREAK_AFTER.sub(r"\1<wbr>", part)
            out.append(_CAMEL.sub("<wbr>", part) if camel else part)
    return Markup("".join(out))


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = _make_environment()
    env.filters["wrap"] = wrap_tokens
    env.filters["wrap_code"] = lambda value: wrap_tokens(value, camel=True)
    return env


def _make_environment() -> Environment:
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
    # WeasyPrint mis-measures a line broken at <wbr> when overflow-wrap may break anywhere (it breaks a
    # few letters off); a zero-width space breaks at the same place, and text extraction drops it.
    html = html.replace("<wbr>", "\u200b")
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
