"""Property-based tests of the two parsers that read what AWS (or anyone with write access to a bucket)
hands over: the IAM credential report and CloudTrail log files with their records.

The properties: any input gives rows or a counted, reasoned rejection; no exception escapes (and the
credential-report parser's own safety net is never what catches one); nothing is dropped silently:
records in = rows out + rejections."""

from __future__ import annotations

import csv
import gzip
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rootaudit.collectors.cloudtrail.classify import build_findings, is_relevant, missing_fields
from rootaudit.collectors.cloudtrail.scan import scan_bytes
from rootaudit.collectors.credential_report import COLUMNS, ROOT_USER, parse_credential_report
from rootaudit.period import parse_period
from rootaudit.snapshot import make_frame

pytestmark = pytest.mark.reliability

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ACCOUNT = "111122223333"
PERIOD = parse_period("2026-Q3")
SAFETY_NET = "credential report could not be parsed"

# --- the credential report ------------------------------------------------------------------------

MARKERS = ["N/A", "not_supported", "no_information", "", "TRUE", "false", "True", "maybe",
           "2026-08-01T10:00:00+00:00", "2026-13-45T99:00:00Z", "\x00", "=cmd|' /C calc'!A0", "é", ","]
cell = st.one_of(st.sampled_from(MARKERS), st.text(max_size=12))


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)  # quotes a cell holding \r or \n
    return buf.getvalue()


def _check_parse(result: Any) -> None:
    assert result.ok == (result.rejection == ""), result
    assert not result.rejection.startswith(SAFETY_NET), f"an exception reached the safety net: {result}"
    assert result.rows_read >= 0 and result.rows_rejected >= 0


@FUZZ
@given(content=st.one_of(st.binary(max_size=600), st.text(max_size=600)))
def test_any_content_gives_a_root_row_or_a_reasoned_rejection(content: Any, tally: dict[str, int]) -> None:
    tally["inputs_fuzzed"] += 1
    _check_parse(parse_credential_report(content, ACCOUNT))


def _root_row(values: dict[str, str]) -> list[str]:
    row = {c: "N/A" for c in COLUMNS}
    row.update(user=ROOT_USER, arn=f"arn:aws:iam::{ACCOUNT}:root", password_enabled="not_supported")
    row.update(values)
    return [row[c] for c in COLUMNS]


@FUZZ
@given(
    others=st.lists(st.lists(cell, min_size=0, max_size=30), max_size=8),
    root_values=st.dictionaries(st.sampled_from(COLUMNS[2:]), cell, max_size=8),
    with_root=st.booleans(),
    position=st.integers(min_value=0, max_value=8),
)
def test_every_data_row_is_read_or_rejected(others: list[list[str]], root_values: dict[str, str],
                                           with_root: bool, position: int, tally: dict[str, int]) -> None:
    """rows read + rows rejected = the non-blank data rows; a root row present once is found or refused
    with a reason, never missed."""
    tally["inputs_fuzzed"] += 1
    data = [[f"user{i}", *cells] if cells else [] for i, cells in enumerate(others)]
    if with_root:
        data.insert(min(position, len(data)), _root_row(root_values))
    result = parse_credential_report(_csv([list(COLUMNS), *data]).encode(), ACCOUNT)
    _check_parse(result)
    non_blank = sum(1 for row in data if any(c.strip() for c in row))
    assert result.rows_read + result.rows_rejected == non_blank, (result, data)
    assert result.rows_rejected == len(result.problems) - sum(
        1 for p in result.problems if not p.startswith("row "))
    if not with_root:
        assert not result.ok and ROOT_USER in result.rejection


@FUZZ
@given(key1=st.sampled_from(["true", "false", "N/A", "TRUE"]),
       key2=st.sampled_from(["true", "false", "N/A"]),
       cert1=st.sampled_from(["true", "false", "N/A"]), mfa=st.sampled_from(["true", "false", "FALSE"]),
       rotated=st.sampled_from(["N/A", "2025-01-02T03:04:05+00:00"]))
def test_a_well_formed_root_row_is_read_exactly(key1: str, key2: str, cert1: str, mfa: str, rotated: str,
                                                tally: dict[str, int]) -> None:
    tally["inputs_fuzzed"] += 1
    row = _root_row({"access_key_1_active": key1, "access_key_1_last_rotated": rotated,
                     "access_key_2_active": key2, "cert_1_active": cert1, "mfa_active": mfa})
    result = parse_credential_report(_csv([list(COLUMNS), row]), ACCOUNT)
    assert result.ok and result.root is not None, result
    active = [k.slot for k in result.root.access_keys if k.active]
    assert active == [s for s, v in (("access_key_1", key1), ("access_key_2", key2)) if v.lower() == "true"]
    assert [c.active for c in result.root.certificates if c.active] == ([True] if cert1 == "true" else [])
    assert result.root.mfa_active is (mfa.lower() == "true")
    assert result.root.password_enabled is None  # not_supported for root: never read as "no password"


# --- CloudTrail log files and records -------------------------------------------------------------

scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
json_value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)
event_time = st.one_of(st.sampled_from(["2026-08-01T10:00:00Z", "2026-07-01T00:00:00Z",
                                        "2026-10-01T00:00:00Z", "2025-01-01T00:00:00Z", "not a time", "",
                                        "2026-08-01T10:00:00"]), json_value)
identity = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["Root", "IAMUser", "AssumedRole"])},
                          optional={"accessKeyId": st.sampled_from(["", "ASIAXYZ", "AKIAXYZ", "x"]),
                                    "invokedBy": st.sampled_from(["", "s3.amazonaws.com"]),
                                    "accountId": st.just(ACCOUNT), "arn": st.text(max_size=10)}),
    json_value)


@st.composite
def records(draw: Any) -> dict[str, Any]:
    """A CloudTrail record, mostly well-formed, sometimes with a field missing or of the wrong type."""
    record: dict[str, Any] = {"eventVersion": "1.08",
                              "eventTime": draw(event_time),
                              "eventID": draw(st.one_of(st.uuids().map(str), st.sampled_from(["dup", ""]))),
                              "eventSource": draw(st.sampled_from(
                                  ["sts.amazonaws.com", "signin.amazonaws.com", "iam.amazonaws.com", ""])),
                              "eventName": draw(st.sampled_from(
                                  ["AssumeRoot", "ConsoleLogin", "ListUsers", ""])),
                              "userIdentity": draw(identity),
                              "recipientAccountId": ACCOUNT}
    for name in ("requestParameters", "responseElements", "additionalEventData", "errorCode", "eventType"):
        if draw(st.booleans()):
            record[name] = draw(json_value)
    if draw(st.booleans()):  # eventVersion stays: CloudTrail writes it in every record, the scan counts it
        del record[draw(st.sampled_from(sorted(set(record) - {"eventVersion"})))]
    return record


def _log_file(recs: list[dict[str, Any]], compact: bool, zipped: bool) -> bytes:
    text = json.dumps({"Records": recs}, separators=(",", ":") if compact else None,
                      indent=None if compact else 1)
    data = text.encode()
    return gzip.compress(data) if zipped else data


@FUZZ
@given(recs=st.lists(records(), max_size=12), compact=st.booleans(), zipped=st.booleans())
def test_log_file_records_in_equal_rows_out_plus_rejections(recs: list[dict[str, Any]], compact: bool,
                                                           zipped: bool, tally: dict[str, int]) -> None:
    tally["inputs_fuzzed"] += 1
    scan = scan_bytes("fuzz.json.gz", _log_file(recs, compact, zipped))
    relevant = [r for r in recs if is_relevant(r)]
    assert scan.events_read == len(recs)
    assert len(scan.records) + scan.bad_records == len(relevant), scan
    assert (scan.status == "read") == (scan.bad_records == 0), scan
    assert scan.status == "read" or scan.reason
    # Then the classifier: each well-formed relevant record is a duplicate, outside the period, or a row.
    found = build_findings([(r, "fuzz") for r in scan.records], PERIOD)
    rows = {row["event_id"] for row in found.sessions + found.activity}
    assert found.duplicates + found.out_of_period + len(rows) == len(scan.records)
    assert all(not missing_fields(r) for r in scan.records)
    # and the rows fit their frames, whatever odd values the records carried
    assert len(make_frame("privileged_sessions", found.sessions)) == len(found.sessions)
    assert len(make_frame("root_activity", found.activity)) == len(found.activity)


@FUZZ
@given(recs=st.lists(records(), min_size=1, max_size=10), cut=st.floats(min_value=0.0, max_value=0.999))
def test_truncated_log_file_is_partial_and_keeps_what_it_read(recs: list[dict[str, Any]], cut: float,
                                                              tally: dict[str, int]) -> None:
    tally["inputs_fuzzed"] += 1
    whole = _log_file(recs, compact=True, zipped=True)
    scan = scan_bytes("cut.json.gz", whole[: int(len(whole) * cut)])
    assert scan.status in ("partial", "skipped") and scan.reason, scan
    full = scan_bytes("whole.json.gz", whole)
    assert [r["eventID"] for r in scan.records] == [r["eventID"] for r in full.records][: len(scan.records)]


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(gzip.compress),
                      json_value.map(lambda v: json.dumps(v).encode())))
def test_any_bytes_are_read_skipped_or_partial_with_a_reason(data: bytes, tally: dict[str, int]) -> None:
    tally["inputs_fuzzed"] += 1
    scan = scan_bytes("any", data)
    assert scan.status in ("read", "skipped", "partial")
    assert scan.status == "read" or scan.reason
    assert all(not missing_fields(r) for r in scan.records)
    build_findings([(r, "any") for r in scan.records], PERIOD)
