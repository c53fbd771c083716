from __future__ import annotations

from rootaudit.render.pack import PackPaths
from rootaudit.snapshot import Snapshot
from tests.support.sample import HOSTILE_NAME, SCRIPT_NAME


def _shown(pack: PackPaths) -> str:
    """The page's text as a browser shows it: <wbr> (where a long token may wrap) shows nothing."""
    return (pack.folder / "report.html").read_text(encoding="utf-8").replace("<wbr>", "")


def test_script_names_are_escaped(pack: PackPaths) -> None:
    html = _shown(pack)
    assert SCRIPT_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in html or HOSTILE_NAME.replace('"', "&#34;") in html


def test_html_is_the_same_report(pack: PackPaths, snapshot: Snapshot) -> None:
    html = _shown(pack)
    for ev in snapshot["privileged_sessions"]["event_id"]:
        assert ev in html
    assert "2026-10-02T08:15:00Z" in html  # the collection time, not the render time
    assert "<style>" in html and "@page" in html  # self-contained: the stylesheet travels with it


def test_html_needs_nothing_from_the_network(pack: PackPaths) -> None:
    html = (pack.folder / "report.html").read_text(encoding="utf-8").lower()
    assert "<link" not in html and " src=" not in html and "@import" not in html
