from __future__ import annotations

from rootaudit.render.pack import PackPaths
from rootaudit.snapshot import Snapshot
from tests.support.sample import HOSTILE_NAME, SCRIPT_NAME


def test_script_names_are_escaped(pack: PackPaths) -> None:
    html = (pack.folder / "report.html").read_text(encoding="utf-8")
    assert SCRIPT_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html or HOSTILE_NAME.replace('"', "&#34;") in html


def test_html_is_the_same_report(pack: PackPaths, snapshot: Snapshot) -> None:
    html = (pack.folder / "report.html").read_text(encoding="utf-8")
    for ev in snapshot["privileged_sessions"]["event_id"]:
        assert ev in html
    assert "2026-10-02T08:15:00Z" in html  # the collection time, not the render time
    assert "<style>" in html and "@page" in html  # self-contained: the stylesheet travels with it


def test_html_needs_nothing_from_the_network(pack: PackPaths) -> None:
    html = (pack.folder / "report.html").read_text(encoding="utf-8").lower()
    assert "<link" not in html and " src=" not in html and "@import" not in html


def test_the_pdf_lists_a_bounded_number_of_exceptions(snapshot: Snapshot) -> None:
    """A 1,000-entry exceptions file made a 96-page PDF: the report lists EXCEPTIONS_SHOWN, those that
    accept nothing first, and says where the rest are."""
    from dataclasses import replace

    from rootaudit.render.model import EXCEPTIONS_SHOWN, build_report
    from rootaudit.render.pdf import render_html
    from rootaudit.snapshot import make_frame
    from tests.support.sample import sample_results

    many = [{"exception_id": f"EXC-{i:04d}", "control": "R1", "reason": "r",
             "status": "expired" if i % 50 == 49 else "active"} for i in range(EXCEPTIONS_SHOWN + 150)]
    results = replace(sample_results(snapshot), exceptions=make_frame("exceptions", many))
    report = build_report(snapshot, results)
    shown = report["exceptions"]
    assert len(shown) == EXCEPTIONS_SHOWN and report["exceptions_more"] == 150
    assert [e["status"] for e in shown[:5]] == ["expired"] * 5 and shown[5]["status"] == "active"
    assert report["exceptions_by_status"] == {"active": EXCEPTIONS_SHOWN + 145, "expired": 5}
    html = render_html(report)
    assert (f"{EXCEPTIONS_SHOWN + 150} exceptions in all: the {EXCEPTIONS_SHOWN} above (those that accept "
            "nothing first), and 150 more in the workbook") in html
