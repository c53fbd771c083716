"""Exceptions: an active one accepts a FAIL (status stays FAIL); expired, malformed, wrong-scope and unused
ones accept nothing and are reported with their problem. Expiry is judged at collection time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rootaudit import controls
from rootaudit.controls.exceptions import ExceptionsFileError

ACTIVE_KEY = "111111111104"
CERT = "111111111106"


def entry(eid: str, **fields: str) -> str:
    base = {"id": eid, "reason": "Legacy integration", "owner": "owner@example.com",
            "approver": "ciso@example.com", "ticket": "RISK-1", "expires": "2026-12-31"}
    base.update(fields)
    lines = [f"  - id: {base.pop('id')}"] + [f"    {k}: {v}" for k, v in base.items()]
    return "\n".join(lines) + "\n"


def run(tmp_path: Path, snapshot, text: str, meta: dict | None = None):
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions:\n" + text, encoding="utf-8")
    if meta:
        snapshot.meta.update(meta)
    return controls.evaluate(snapshot, ["cis-aws-7.0.0"], exceptions_path=path)


def result(results, control_id: str, account: str | None):
    cr = results.control_results
    in_account = cr.account_id.isna() if account is None else cr.account_id == account
    rows = cr[(cr.control_id == control_id) & in_account]
    assert len(rows) == 1
    return rows.iloc[0]


def status_of(results, eid: str):
    ex = results.exceptions.set_index("exception_id")
    return ex.loc[eid, "status"], ex.loc[eid, "problem"]


@pytest.fixture
def snap(snapshot_of):
    return snapshot_of(["clean_rcm", "active_key"])


def test_active_exception_accepts_the_fail_and_exit_status_drops(tmp_path, snap):
    assert controls.exit_status(controls.evaluate(snap, ["cis-aws-7.0.0"])) == 1
    results = run(tmp_path, snap,
                  entry("EXC-1", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.4") +
                  entry("EXC-2", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.6"))
    row = result(results, "2.4", ACTIVE_KEY)
    assert row["status"] == "FAIL"  # never turned into a PASS
    assert row["exception_id"] == "EXC-1" and row["exception_status"] == "accepted"
    org = result(results, "2.4", None)  # the only failing account is accepted, so is the roll-up
    assert org["status"] == "FAIL" and org["exception_status"] == "accepted"
    assert status_of(results, "EXC-1")[0] == "active"
    assert controls.exit_status(results) == 0


def test_expired_exception_does_not_apply(tmp_path, snap):
    results = run(tmp_path, snap, entry("EXC-OLD", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.4",
                                        expires="2026-09-30"))
    row = result(results, "2.4", ACTIVE_KEY)
    assert row["status"] == "FAIL" and pd.isna(row["exception_status"]) and pd.isna(row["exception_id"])
    status, problem = status_of(results, "EXC-OLD")
    assert status == "expired" and "2026-10-02T08:00:00Z" in problem
    assert controls.exit_status(results) == 1


def test_expiry_is_judged_at_collection_time_not_the_wall_clock(tmp_path, snapshot_of):
    text = entry("EXC-1", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.4", expires="2026-10-15")
    before = run(tmp_path, snapshot_of(["active_key"]), text, meta={"collected_at": "2026-10-14T23:00:00Z"})
    after = run(tmp_path, snapshot_of(["active_key"]), text, meta={"collected_at": "2026-10-16T00:00:00Z"})
    assert result(before, "2.4", ACTIVE_KEY)["exception_status"] == "accepted"
    assert pd.isna(result(after, "2.4", ACTIVE_KEY)["exception_status"])
    assert status_of(after, "EXC-1")[0] == "expired"


def test_wrong_scope_does_not_apply_and_is_reported_unused(tmp_path, snap):
    results = run(tmp_path, snap,
                  entry("EXC-OTHER-ACCOUNT", account=f'"{CERT}"', control="cis-aws-7.0.0:2.4") +
                  entry("EXC-OTHER-CONTROL", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.5") +
                  entry("EXC-OTHER-FRAMEWORK", control="cis-aws-5.0.0:1.3"))
    row = result(results, "2.4", ACTIVE_KEY)
    assert row["status"] == "FAIL" and pd.isna(row["exception_status"])
    for eid in ("EXC-OTHER-ACCOUNT", "EXC-OTHER-CONTROL"):
        status, problem = status_of(results, eid)
        assert status == "unused" and "matched no FAIL" in problem
    status, problem = status_of(results, "EXC-OTHER-FRAMEWORK")
    assert status == "unused" and "not in the frameworks evaluated" in problem
    assert controls.exit_status(results) == 1


def test_account_wide_and_control_wide_scopes(tmp_path, snap):
    results = run(tmp_path, snap, entry("EXC-ACCOUNT", account=f'"{ACTIVE_KEY}"'))
    cr = results.control_results
    failing = cr[(cr.account_id == ACTIVE_KEY) & (cr.status == "FAIL")]
    assert len(failing) >= 2 and (failing.exception_id == "EXC-ACCOUNT").all()
    results = run(tmp_path, snap, entry("EXC-CONTROL", control="cis-aws-7.0.0:2.6"))
    assert result(results, "2.6", ACTIVE_KEY)["exception_id"] == "EXC-CONTROL"
    assert pd.isna(result(results, "2.4", ACTIVE_KEY)["exception_id"])


@pytest.mark.parametrize(("fields", "problem"), [
    ({"account": f'"{ACTIVE_KEY}"', "control": "cis-aws-7.0.0:2.4", "approver": '""'}, "missing approver"),
    ({"account": f'"{ACTIVE_KEY}"', "control": "cis-aws-7.0.0:2.4", "expires": "next-year"}, "is not a date"),
    ({"account": f'"{ACTIVE_KEY}"', "control": "2.4"}, "must be <framework id>:<control id>"),
    ({"account": "12345", "control": "cis-aws-7.0.0:2.4"}, "not a 12-digit account id"),
    ({}, "no scope"),
    ({"account": f'"{ACTIVE_KEY}"', "control": "cis-aws-7.0.0:2.4", "severity": "high"}, "unknown key"),
])
def test_malformed_exception_does_not_apply(tmp_path, snap, fields, problem):
    results = run(tmp_path, snap, entry("EXC-BAD", **fields))
    status, text = status_of(results, "EXC-BAD")
    assert status == "malformed" and problem in text and "exceptions.yaml:" in text
    assert pd.isna(result(results, "2.4", ACTIVE_KEY)["exception_status"])


def test_duplicate_id_is_malformed(tmp_path, snap):
    text = entry("EXC-1", account=f'"{ACTIVE_KEY}"', control="cis-aws-7.0.0:2.4") * 2
    results = run(tmp_path, snap, text)
    ex = results.exceptions
    assert sorted(ex.status) == ["active", "malformed"]
    assert ex[ex.status == "malformed"].iloc[0]["problem"].endswith("is used by an earlier entry")


def test_unreadable_file_is_a_clear_error(tmp_path, snap):
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ExceptionsFileError, match=r"exceptions.yaml:\d+: not valid YAML"):
        controls.evaluate(snap, ["cis-aws-7.0.0"], exceptions_path=path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        controls.evaluate(snap, ["cis-aws-7.0.0"], exceptions_path=tmp_path / "missing.yaml")


def test_sample_exceptions_file_loads(snapshot_of):
    sample = Path(__file__).resolve().parents[2] / "samples" / "exceptions.yaml"
    results = controls.evaluate(snapshot_of(), ["cis-aws-7.0.0"], exceptions_path=sample)
    assert set(results.exceptions.status) == {"active"}
    assert result(results, "2.4", ACTIVE_KEY)["exception_id"] == "EXC-2026-004"
