"""frame_to_csv_bytes quotes each distinct value once and writes in chunks of rows: the bytes must be
exactly those of the whole-frame writer it replaced (kept here as the oracle), whatever the chunk size."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rootaudit.snapshot import ALL_SCHEMAS, conform, frame_from_csv_bytes, frame_to_csv_bytes, make_frame


def whole_frame_csv(name: str, frame: pd.DataFrame) -> bytes:
    """The writer before chunking: every column to object, one string, then encoded; rows written with
    CRLF ends (so that a CR or LF inside a value is quoted) and stored with LF ends."""
    frame = conform(name, frame)
    out = frame.astype(object).where(frame.notna(), "")
    for col, kind in ALL_SCHEMAS[name].items():
        if kind == "bool":
            out[col] = out[col].map(lambda v: "" if v == "" else ("true" if v else "false"))
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\r\n")
    rows = buf.getvalue()
    # every unquoted CRLF is a row end: a CR or LF inside a value is inside quotes
    in_quotes, text = False, []
    i = 0
    while i < len(rows):
        ch = rows[i]
        if ch == '"':
            in_quotes = not in_quotes
        if not in_quotes and rows.startswith("\r\n", i):
            text.append("\n")
            i += 2
            continue
        text.append(ch)
        i += 1
    return "".join(text).encode("utf-8")


@pytest.fixture(scope="module")
def snapshot_of_sample():
    from tests.support.sample import sample_snapshot

    return sample_snapshot(accounts=30, with_credentials=3, not_assessed=1, sessions=5)


AWKWARD = ["", "plain", 'say "hi"', "a,b", "line\nbreak", "cr\r\nlf", "Zoë — 東京 ✓", " lead space",
           "=SUM(A1)", "'quote", "tab\there", '"', ",", "\n", "lone\rcr", "\x00nul", "#N/A"]


def varied_credentials(n: int) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            "account_id": f"{100000000000 + (i * 7919) % 997:012d}",
            "assessment": ["assessed", "not_assessed", None][i % 3],
            "method": AWKWARD[i % len(AWKWARD)] or None,
            "password_present": [True, False, None][i % 3],
            "access_keys_active": [0, 1, None, 12][i % 4],
            "mfa_devices": [None, 3][i % 2],
            "reason": AWKWARD[(i * 5) % len(AWKWARD)],
            "collected_at": ["2026-10-01T00:00:00Z", None][i % 2],
        })
    return make_frame("root_credentials", rows)


@pytest.mark.parametrize("rows_per_chunk", [1, 3, 50, 100_000])
def test_chunked_csv_is_byte_identical_on_a_varied_frame(rows_per_chunk):
    frame = varied_credentials(200)
    kinds = set(ALL_SCHEMAS["root_credentials"].values())
    assert {"bool", "int", "str"} <= kinds and frame["password_present"].isna().any()
    expected = whole_frame_csv("root_credentials", frame)
    got = frame_to_csv_bytes("root_credentials", frame, rows_per_chunk=rows_per_chunk)
    assert got == expected
    assert b'"say ""hi"""' in got and "東京".encode() in got and b",true," in got and b",false," in got
    # Reading back: every value but a lone CR, which the csv module writes unquoted (as the writer always
    # did) and pandas' reader takes for a line end; the bytes above are unchanged from before.
    lone_cr = frame["method"].fillna("").str.contains("lone\r") | frame["reason"].fillna("").str.contains(
        "lone\r")
    readable = frame[~lone_cr].reset_index(drop=True)
    back = frame_from_csv_bytes("root_credentials", frame_to_csv_bytes("root_credentials", readable))
    assert back.equals(conform("root_credentials", readable))


def test_every_schema_empty_and_one_row_is_byte_identical():
    for name in ALL_SCHEMAS:
        empty = make_frame(name)
        assert frame_to_csv_bytes(name, empty) == whole_frame_csv(name, empty), name
        one = make_frame(name, [{c: None for c in ALL_SCHEMAS[name]}])
        assert frame_to_csv_bytes(name, one, rows_per_chunk=1) == whole_frame_csv(name, one), name


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.sampled_from([True, False, None]),
                          st.one_of(st.none(), st.integers(0, 10**6))), max_size=30),
       st.integers(1, 7))
def test_any_text_booleans_and_counts_give_the_same_bytes(values, rows_per_chunk):
    rows = [{"account_id": f"{i:012d}", "assessment": "assessed", "method": "m", "reason": text or None,
             "password_present": flag, "access_keys_active": count}
            for i, (text, flag, count) in enumerate(values)]
    frame = make_frame("root_credentials", rows)
    assert frame_to_csv_bytes("root_credentials", frame, rows_per_chunk=rows_per_chunk) == \
        whole_frame_csv("root_credentials", frame)


def test_a_one_column_frame_keeps_its_empty_rows(monkeypatch):
    # the csv module writes a row of one empty field as "" (a bare empty line would be no row at all)
    import rootaudit.snapshot as snapshot

    monkeypatch.setitem(snapshot.ALL_SCHEMAS, "one_column", {"note": "str"})
    frame = make_frame("one_column", [{"note": v} for v in ("a", None, "", 'q"', "b")])
    assert frame_to_csv_bytes("one_column", frame, rows_per_chunk=2) == whole_frame_csv("one_column", frame)
    assert frame_to_csv_bytes("one_column", frame).count(b'""\n') >= 2


def test_control_results_of_the_evaluator_are_byte_identical(snapshot_of_sample):
    from rootaudit.controls import evaluate

    results = evaluate(snapshot_of_sample, ["all"])
    for name in ("control_results", "signals", "exceptions", "privileged_sessions"):
        frame = getattr(results, name)
        assert frame_to_csv_bytes(name, frame, rows_per_chunk=997) == whole_frame_csv(name, frame), name
