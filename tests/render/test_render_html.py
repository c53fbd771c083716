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


def test_the_report_lists_a_bounded_number_of_exceptions(snapshot: Snapshot) -> None:
    """A 1,000-entry exceptions file made a 96-page PDF: the report lists EXCEPTIONS_SHOWN, those that
    accept nothing chosen first, in the file's order, and says how many more there are and where."""
    from dataclasses import replace

    from rootaudit.render.model import EXCEPTIONS_SHOWN, build_report
    from rootaudit.render.pdf import render_html
    from rootaudit.snapshot import make_frame
    from tests.support.sample import sample_results

    total = EXCEPTIONS_SHOWN + 150
    many = [{"exception_id": f"EXC-{i:04d}", "control": "R1", "reason": "r",
             "status": "expired" if i % 50 == 49 else "active"} for i in range(total)]
    results = replace(sample_results(snapshot), exceptions=make_frame("exceptions", many))
    report = build_report(snapshot, results)
    shown = report["exceptions"]
    assert len(shown) == EXCEPTIONS_SHOWN and report["exceptions_more"] == 150
    expired = {e["exception_id"] for e in shown if e["status_code"] == "expired"}
    assert expired == {f"EXC-{i:04d}" for i in range(49, total, 50)}, "an expired one was left out"
    assert [e["exception_id"] for e in shown] == sorted(e["exception_id"] for e in shown)
    assert len(report["exceptions_in_force"]) == total - 5  # the summary counts them all
    html = render_html(report)
    assert (f"{total} exceptions in all: the {EXCEPTIONS_SHOWN} above (those that accept nothing are "
            "listed first) and 150 more (workbook sheet Exceptions, data/exceptions.csv)") in html

    few = replace(results, exceptions=make_frame("exceptions", many[:3]))
    assert [e["exception_id"] for e in build_report(snapshot, few)["exceptions"]] == [
        "EXC-0000", "EXC-0001", "EXC-0002"]


def test_accounts_read_through_the_fallback_are_named_with_why(snapshot: Snapshot) -> None:
    """A member read from its credential report (AssumeRoot refused, or its answer incomplete) is named
    in section 2 with the reason, so the auditor sees why it was not read in a root session; members read
    in a root session are not listed; past 10, the rest are counted and found in the workbook."""
    from rootaudit.render.model import build_report
    from rootaudit.render.pdf import render_html
    from rootaudit.snapshot import Snapshot as Snap
    from rootaudit.snapshot import make_frame
    from tests.support.sample import MANAGEMENT, sample_results

    def with_fallback(count: int) -> tuple[Snap, list[str]]:
        rows = snapshot["root_credentials"].to_dict("records")
        members = [r for r in rows if r["account_id"] != MANAGEMENT and r["assessment"] == "assessed"]
        for r in members[:count]:
            r.update(method="credential_report",
                     reason=f"sts:AssumeRoot into {r['account_id']} was refused (AccessDenied); assessed "
                            "from the credential report through role RootAuditReadOnly")
        frames = dict(snapshot.frames, root_credentials=make_frame("root_credentials", rows))
        return Snap(meta=snapshot.meta, frames=frames, raw=snapshot.raw), [r["account_id"] for r in members]

    one, members = with_fallback(1)
    html = render_html(build_report(one, sample_results(one))).replace("<wbr>", "")
    assert "fallback role, not in an AssumeRoot session (1)" in html
    assert f"{members[0]}</span>: sts:AssumeRoot into {members[0]} was refused" in html
    assert f"{members[1]}</span>: sts:AssumeRoot" not in html
    many, _ = with_fallback(12)
    report = build_report(many, sample_results(many))
    assert (report["fallback_count"], len(report["fallback"]), report["fallback_more"]) == (12, 10, 2)
    assert "; and 2 more (workbook sheet Accounts, column reason)" in render_html(report)
    none_html = render_html(build_report(snapshot, sample_results(snapshot)))
    assert "fallback role, not in an AssumeRoot session" not in none_html
