from __future__ import annotations

import io
import zipfile

import pypdf

from rootaudit.controls.results import Results
from rootaudit.render.model import build_report
from rootaudit.render.pack import PackPaths
from rootaudit.render.pdf import render_html, render_pdf
from rootaudit.snapshot import Snapshot, frame_to_csv_bytes
from tests.support.sample import COLLECTED_AT, account_id, sample_results, sample_snapshot

SECTIONS = [
    "Executive summary",
    "Scope and method",
    "Population reconciliation",
    "Organization root-access status",
    "Management account root",
    "Control results",
    "Accounts that are not clean",
    "Accounts not assessed",
    "Privileged sessions (AssumeRoot)",
    "Root activity",
    "Monitoring of root use",
    "Exceptions",
    "Appendix: verifying this pack",
    "Contents",
]


def test_pdf_has_every_section_and_the_headline(pdf_flat: str, results: Results) -> None:
    for title in SECTIONS:
        assert "".join(title.split()) in pdf_flat, title
    # the sample has holders and a not-assessed account: no claim, and the counts are shown
    assert "Noclean headline can be stated".replace(" ", "") in pdf_flat
    # the figures row: one header row of labels, then the figures in the same order
    figures = ("MemberaccountsAssessedNotassessedWithactiverootcredentialsWithotherrootresidue"
               "AssumeRootsessionsRootconsolesign-insLong-termrootkeycalls")
    assert figures in pdf_flat
    after = pdf_flat.split(figures, 1)[1]
    assert after.startswith(f"{results.headline['member_accounts']}"), after[:40]


def test_pdf_names_every_non_clean_account_and_session(pdf_flat: str, snapshot: Snapshot) -> None:
    creds = snapshot["root_credentials"]
    holds = creds["password_present"].fillna(False) | (creds["access_keys_inactive"].fillna(0) > 0)
    not_clean = list(creds.loc[holds, "account_id"])
    assert len(not_clean) == 5
    for acct in not_clean:
        assert acct in pdf_flat
    unassessed = creds.loc[creds["assessment"] == "not_assessed", "account_id"]
    assert len(unassessed) == 1 and unassessed.iloc[0] in pdf_flat
    assert "SUSPENDED" in pdf_flat
    for ev in snapshot["privileged_sessions"]["event_id"]:
        assert ev in pdf_flat, ev
    for ev in snapshot["root_activity"].query("kind != 'root_session'")["event_id"]:
        assert snapshot["root_activity"].set_index("event_id").loc[ev, "event_name"] in pdf_flat


def test_pdf_counts_clean_accounts_without_listing_them(pdf_flat: str) -> None:
    assert account_id(30) not in pdf_flat  # a clean account
    assert "Cleanaccounts(35)arecounted" in pdf_flat


def test_accepted_fail_is_shown_as_accepted_and_expired_exception_reported(pdf_flat: str) -> None:
    assert "Fail,acceptedbyexception" in pdf_flat
    assert "EXC-001" in pdf_flat and "expired" in pdf_flat and "malformed" in pdf_flat


def test_pdf_states_the_cis_alarm_caveat_and_a_separating_filter(pdf_flat: str) -> None:
    assert "AssumeRootsessionsalsohaveidentitytypeRoot" in pdf_flat
    assert '$.userIdentity.accessKeyId!="ASIA*"' in pdf_flat


def test_pdf_is_pdfa_3b_dated_at_collection_and_carries_attachments(
    pdf: pypdf.PdfReader, pack: PackPaths
) -> None:
    xmp = pdf.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert pdf.metadata["/CreationDate"].startswith("D:20261002081500")
    attachments = pdf.attachments
    assert set(attachments) == {"snapshot.zip", "results.zip"}
    with zipfile.ZipFile(io.BytesIO(attachments["results.zip"][0])) as zf:
        for name in ("control_results", "signals", "exceptions"):
            assert zf.read(f"data/{name}.csv") == (pack.folder / f"data/{name}.csv").read_bytes()
    with zipfile.ZipFile(io.BytesIO(attachments["snapshot.zip"][0])) as zf:
        assert zf.read("data/accounts.csv") == (pack.folder / "data/accounts.csv").read_bytes()
        assert zf.read("snapshot.json") == (pack.folder / "snapshot.json").read_bytes()


def test_pdf_has_page_numbers_and_running_header(pdf: pypdf.PdfReader) -> None:
    n = len(pdf.pages)
    last = pdf.pages[-1].extract_text()
    assert f"Page {n} of {n}" in last
    assert "o-sample12345 · 2026-Q3" in pdf.pages[3].extract_text()


def test_pdf_grows_with_findings_not_with_the_organization() -> None:
    pages = []
    for accounts in (40, 600):
        snap = sample_snapshot(accounts=accounts, with_credentials=4, not_assessed=1, sessions=6)
        res = sample_results(snap)
        pdf = render_pdf(render_html(build_report(snap, res)), {}, COLLECTED_AT, b"x")
        pages.append(len(pypdf.PdfReader(io.BytesIO(pdf)).pages))
    assert pages[0] == pages[1]


def test_claim_appears_only_when_true() -> None:
    clean = sample_snapshot(accounts=10, with_credentials=0, not_assessed=0, sessions=2)
    res = sample_results(clean)
    assert res.headline.get("claim")
    html = render_html(build_report(clean, res))
    assert res.headline["claim"] in html and "No clean headline" not in html


def test_pdf_attachments_hold_the_result_frames(pack: PackPaths, results: Results) -> None:
    assert (pack.folder / "data/signals.csv").read_bytes() == frame_to_csv_bytes("signals", results.signals)


def test_sources_are_summed_and_incomplete_coverage_is_named(pdf_flat: str, snapshot: Snapshot) -> None:
    assert "Eventsourcesandtheircoverage" in pdf_flat
    assert "Notreadinfull,ornotcoveringthewholeperiod" in pdf_flat
    # the partially read source and the LookupEvents 90-day gap are both named with their reasons
    assert "throttledafter30pagesofeu-west-1" in pdf_flat
    assert "LookupEventsreachesback90days" in pdf_flat
    # LookupEvents reads no log file: the report says their integrity was not checked (labels.yaml)
    assert "log-fileintegritywasnotcheckedbyrootauditforthissource:LookupEventsreturnsevents" in pdf_flat
    assert "[cut:wholeindata/sources.csv,columnintegrity_note]" not in pdf_flat


def test_a_fully_covered_organization_lists_no_account_regions() -> None:
    snap = sample_snapshot(accounts=300, with_credentials=2, not_assessed=0, sessions=2, full_coverage=True)
    html = render_html(build_report(snap, sample_results(snap)))
    assert "every account and region is covered for the whole period" in html
    assert account_id(250) not in html  # a clean, fully covered account is counted, not listed


def test_no_text_is_printed_over_other_text(pack: PackPaths, tmp_path) -> None:
    """The sample pack, hostile names and all: no word of one cell runs over a word of another."""
    from tests.support.pdf_words import overprints, word_boxes

    bbox = word_boxes(pack.folder / "evidence.pdf", tmp_path)
    assert bbox.count("<word ") > 500
    assert not overprints(bbox), overprints(bbox)[:10]
