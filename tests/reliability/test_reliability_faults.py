"""The fault matrix: each case drives one fault through collect → evaluate → pack on the simulated
organization (server mode, boto3 through AWS_ENDPOINT_URL) and checks what the pack then claims: the
exit status, the statuses in `control_results`, the reason an auditor reads in the PDF and the workbook,
and that no other account's result moved from the fault-free baseline of the same organization.

Each `test_case_<id>` is one row of docs/reliability.md: the first line of its docstring is the fault,
the rest what rootaudit does (test_reliability_doc.py keeps the document and these tests in step).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from rootaudit.collectors.cloudtrail.integrity import INTEGRITY_GAPS
from rootaudit.collectors.cloudtrail.layout import log_delivery_time
from tests.support.trail_tamper import CASES as TAMPER_CASES
from tests.support.trail_tamper import Bucket, clean_account

pytestmark = pytest.mark.reliability

ROOT_CREDENTIAL_CONTROLS = {("CIS AWS Foundations Benchmark", c) for c in ("2.4", "2.5", "2.6")}


def clean_accounts(sim: Any) -> list[str]:
    return [a.account_id for a in sim.scenario.members() if a.kind == "clean" and a.state == "ACTIVE"]


def assert_reason_shown(run: Any, reason: str, fragment: str) -> None:
    """The reason the snapshot holds is what the auditor reads, in the PDF and in the workbook."""
    assert fragment in reason, f"{fragment!r} not in the reason {reason!r}"
    head = reason[:70]
    assert run.in_pdf(head), f"the PDF does not show {head!r}"
    assert run.in_workbook(head), f"the workbook does not show {head!r}"


def assert_nothing_passes_for(run: Any, account_id: str) -> None:
    """An account whose root credentials were not read gets no PASS on a root-credential control."""
    statuses = run.statuses(account_id)
    for key in ROOT_CREDENTIAL_CONTROLS:
        assert statuses[key] == "NOT_ASSESSED", f"{key} is {statuses[key]} for {account_id}"


def assert_org_not_clean(run: Any, account_id: str) -> None:
    """The organization's root-credential results count the account as not assessed, and so does the
    headline; no clean claim is made."""
    import re

    cr = run.control_results
    org = cr[cr["account_id"].isna()].set_index(["framework", "control_id"])
    for key in ROOT_CREDENTIAL_CONTROLS:
        assert org.loc[key, "status"] in ("NOT_ASSESSED", "FAIL"), f"organization-level {key} is PASS"
        assert re.search(rf"NOT_ASSESSED: \d+ \([^)]*{account_id}", org.loc[key, "rationale"]), key
    headline = run.results.headline
    assert not headline["claim_made"]
    if account_id == run.snapshot.meta["management_account_id"]:
        assert headline["management_account"]["assessed"] is False, headline["management_account"]
    else:
        assert account_id in headline["not_assessed_accounts"], headline["not_assessed_accounts"]
    assert run.status == 2


def test_case_assume_root_denied(pipeline: Any, baseline: Any, faults: Any, others_unchanged: Any) -> None:
    """AccessDenied on sts:AssumeRoot for one account.
    Falls back to the credential report through the read-only role; the account stays assessed, its
    row names the refusal and what to allow; every other account is unchanged."""
    target = clean_accounts(pipeline.sim)[0]
    faults.deny_assume_root(target)
    run = pipeline.run()
    row = run.root_row(target)
    assert (row["assessment"], row["method"]) == ("assessed", "credential_report")
    assert "sts:AssumeRoot into " + target in row["reason"] and "AccessDenied" in row["reason"]
    assert run.in_workbook(row["reason"][:70])
    # The PDF counts the accounts read by each method (in words): one more through the credential report.
    methods = baseline.snapshot["root_credentials"]["method"].value_counts()
    assert run.in_pdf(f"credential report {methods['credential_report'] + 1}")
    assert run.statuses(target) == baseline.statuses(target)
    assert run.status == baseline.status
    others_unchanged(run, baseline, {target})


def test_case_fallback_role_denied(pipeline: Any, baseline: Any, faults: Any, others_unchanged: Any) -> None:
    """AccessDenied on sts:AssumeRoot and on the fallback role for one account.
    The account is not_assessed with both refusals in its reason; its root-credential controls are
    NOT_ASSESSED (never PASS), the organization's are not PASS, exit status 2."""
    target = clean_accounts(pipeline.sim)[1]
    faults.deny_assume_root(target)
    faults.deny_assume_role(target)
    run = pipeline.run()
    row = run.root_row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert_reason_shown(run, row["reason"], "sts:AssumeRoot into " + target)
    assert "fallback failed" in row["reason"] and "RootAuditReadOnly" in row["reason"]
    assert_nothing_passes_for(run, target)
    assert baseline.statuses(target)[("CIS AWS Foundations Benchmark", "2.4")] == "PASS"
    assert_org_not_clean(run, target)
    others_unchanged(run, baseline, {target})


@pytest.mark.slow  # adaptive retries back off for real
def test_case_throttling_recovers(pipeline: Any, baseline: Any, faults: Any, others_unchanged: Any) -> None:
    """Throttling on a share (30 %) of IAM and STS calls, each failing once.
    Retried (botocore adaptive retries) and then read: the same results as without the fault, for every
    account and for the organization, and the same exit status."""
    rules = [faults.throttle("iam", share=0.3, failures=1), faults.throttle("sts", share=0.3, failures=1)]
    run = pipeline.run()
    assert sum(r.hits for r in rules) >= 5, "the fault never fired"
    others_unchanged(run, baseline, set())
    assert run.statuses(None) == baseline.statuses(None)
    assert run.status == baseline.status
    rc, base = run.snapshot["root_credentials"], baseline.snapshot["root_credentials"]
    assert list(rc["assessment"]) == list(base["assessment"]) and list(rc["method"]) == list(base["method"])


@pytest.mark.slow  # a whole run with its pack, beyond the suite's quick set
def test_case_throttling_never_ends(pipeline: Any, baseline: Any, faults: Any, others_unchanged: Any) -> None:
    """Throttling that never ends, on every IAM call made in one account.
    Bounded by the retry budget (here 2 attempts), then the account is not_assessed with "throttled" and
    the attempts in its reason; its controls are NOT_ASSESSED; exit status 2."""
    target = clean_accounts(pipeline.sim)[2]
    faults.throttle("iam", share=1.0, failures=None, caller_account=target)
    run = pipeline.run(max_attempts=2)
    row = run.root_row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert_reason_shown(run, row["reason"], "throttled")
    assert "2 attempts" in row["reason"]
    assert_nothing_passes_for(run, target)
    assert_org_not_clean(run, target)
    others_unchanged(run, baseline, {target})


def test_case_credential_report_stuck(pipeline: Any, baseline: Any, faults: Any,
                                      others_unchanged: Any) -> None:
    """A credential report stuck in progress (the management account's, read only that way).
    Waited for up to the report wait (here 1 s), then not_assessed with the wait in the reason; the
    management account's root-credential controls are NOT_ASSESSED; exit status 2."""
    management = pipeline.sim.scenario.management_account_id
    faults.stuck_credential_report(management)
    run = pipeline.run(report_wait_seconds=1.0)
    row = run.root_row(management)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert_reason_shown(run, row["reason"], "still not available after 1 s")
    assert_nothing_passes_for(run, management)
    assert_org_not_clean(run, management)
    others_unchanged(run, baseline, {management})


def test_case_account_not_active(baseline: Any, pipeline: Any) -> None:
    """A SUSPENDED, a PENDING_CLOSURE and a CLOSED member account.
    Listed and counted as members, not assumed into, not_assessed with the state in the reason; their
    root-credential controls are NOT_ASSESSED (never PASS, never NOT_APPLICABLE: AWS documents no state
    that removes the root user), and the headline counts them as not assessed and makes no claim."""
    specs = [a for a in pipeline.sim.scenario.members() if a.state != "ACTIVE"]
    assert sorted(a.state for a in specs) == ["CLOSED", "PENDING_CLOSURE", "SUSPENDED"]
    accounts = baseline.snapshot["accounts"].set_index("account_id")
    headline = baseline.results.headline
    assert headline["member_accounts"] == len(pipeline.sim.scenario.members())
    for spec in specs:
        assert accounts.loc[spec.account_id, "state"] == spec.state
        row = baseline.root_row(spec.account_id)
        assert (row["assessment"], row["method"]) == ("not_assessed", "none")
        assert_reason_shown(baseline, row["reason"], spec.state)
        assert_nothing_passes_for(baseline, spec.account_id)
        assert "NOT_APPLICABLE" not in set(baseline.statuses(spec.account_id).values())
        assert headline["not_active_accounts"][spec.account_id] == spec.state
        assert spec.account_id in headline["not_assessed_accounts"]
    assert not headline["claim_made"] and baseline.status == 2
    # The organization trail kept a closed account's history: it is read, not skipped as a stranger.
    closed = next(a.account_id for a in specs if a.state == "CLOSED")
    sources = baseline.snapshot["sources"]
    closed_rows = sources[sources["account_id"] == closed]
    assert len(closed_rows) and set(closed_rows["status"]) == {"read"}, closed_rows.to_dict("records")


@pytest.mark.slow  # waits out the held-back answers
def test_case_account_times_out(pipeline: Any, baseline: Any, faults: Any, others_unchanged: Any) -> None:
    """One account's IAM answers held back past the client's read time-out and the account deadline.
    The account is not_assessed with "timed out" and the deadline in its reason; the other accounts are
    read meanwhile and unchanged; exit status 2."""
    target = pipeline.sim.scenario.by_kind("signing_certificate").account_id
    # Each account's budget runs on an injected clock: the target's is the system's, the others' stand
    # still, so however busy the machine, no other account can time out. The held-back answers (8 s)
    # outlast the client's two 3 s read time-outs, which outlast the target's 1.5 s budget by seconds.
    faults.delay(8.0, service="iam", caller_account=target)
    run = pipeline.run(account_timeout_seconds=1.5, read_timeout=3.0, max_attempts=2,
                       budget_clock=lambda account: time.monotonic() if account == target else 0.0)
    row = run.root_row(target)
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert_reason_shown(run, row["reason"], "timed out")
    assert "1.5 s" in row["reason"]
    assert_nothing_passes_for(run, target)
    assert_org_not_clean(run, target)
    others_unchanged(run, baseline, {target})


def test_case_list_accounts_page_fails(pipeline: Any, faults: Any, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    """An error on the second page of organizations:ListAccounts (`rootaudit run`).
    Collection aborts: exit status 3, one line on stderr naming the page and what to do; no snapshot,
    no pack folder and no zip are left behind."""
    from moto.organizations import utils as org_utils

    from rootaudit import cli

    monkeypatch.setitem(org_utils.PAGINATION_MODEL["list_accounts"], "limit_default", 5)  # 4 pages
    rule = faults.fail_page(2)
    s = pipeline.sim.scenario
    out = tmp_path / "out"
    with pipeline.sim.environ():
        status = cli.main(["run", "--out", str(out), "--period", "2026-Q3",
                           "--cloudtrail", f"s3://{s.trail.bucket}/{s.trail.prefix}",
                           "--regions", *s.regions, "--fallback-role", s.audit_role_name,
                           "--frameworks", "cis-aws-7.0.0"])
    err = capsys.readouterr().err
    assert status == 3 and rule.hits >= 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "ListAccounts failed on page 2" in lines[0] and "collection stopped" in lines[0]
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert not [p for p in left if "snapshot" in p or p.endswith(".zip") or "rootaudit-" in p], left


@pytest.mark.slow  # a whole run with its pack, beyond the suite's quick set
def test_case_features_refused(pipeline: Any, baseline: Any, faults: Any) -> None:
    """iam:ListOrganizationsFeatures refused (as when run from a member account).
    The organization's features are not_assessed with the error in the reason; the controls resting on
    RootCredentialsManagement / RootSessions are NOT_ASSESSED, not FAIL or PASS, and no account keeps a
    NOT_APPLICABLE that rested on them (it is judged by the plain rule); every other result is
    unchanged; exit status 2."""
    faults.refuse_organizations_features()
    run = pipeline.run()
    org = run.snapshot["organization"].iloc[0]
    assert org["features_status"] == "not_assessed"
    assert_reason_shown(run, str(org["features_reason"]), "AccountNotManagementOrDelegatedAdministrator")
    assert baseline.statuses(None)[("CIS AWS Foundations Benchmark", "2.1.1")] == "PASS"
    assert run.statuses(None)[("CIS AWS Foundations Benchmark", "2.1.1")] == "NOT_ASSESSED"
    assert run.status == 2
    # The features are the organization's: the account results resting on them change, and only those.
    cols = ["framework", "control_id", "account_id"]
    base, now = (r.control_results[r.control_results["account_id"].notna()].set_index(cols)
                 for r in (baseline, run))
    rests_on_features = base["rationale"].str.contains("RCM_ENABLED|ROOT_SESSIONS_ENABLED", regex=True)
    assert rests_on_features.sum() > 0
    independent = base.index[~rests_on_features]
    assert (now.loc[independent, "status"] == base.loc[independent, "status"]).all()
    assert not now["rationale"].str.contains("RCM_ENABLED = PASS").any()
    moved = now.loc[base.index[rests_on_features], "status"]
    assert (moved[base.loc[base.index[rests_on_features], "rationale"].str.contains("RCM_ENABLED = PASS")]
            != "NOT_APPLICABLE").all(), "a NOT_APPLICABLE still rests on RootCredentialsManagement"


TRAIL_DAY = ("2026", "08", "14")


def put_trail_object(sim: Any, account_id: str, name: str, data: bytes) -> str:
    """An object where the organization trail writes `account_id`'s us-east-1 log files that day."""
    s = sim.scenario
    org_id = sim.client("organizations").describe_organization()["Organization"]["Id"]
    y, m, d = TRAIL_DAY
    key = (f"{s.trail.prefix}/AWSLogs/{org_id}/{account_id}/CloudTrail/us-east-1/{y}/{m}/{d}/"
           f"{account_id}_CloudTrail_us-east-1_{y}{m}{d}T1200Z_{name}.json.gz")
    sim.client("s3").put_object(Bucket=s.trail.bucket, Key=key, Body=data)
    return key


def _root_login_file(account_id: str) -> bytes:
    import gzip
    import json

    record = {"eventVersion": "1.08", "eventID": "0c6d2b6a-0000-4000-8000-00000000beef",
              "eventTime": "2026-08-14T11:58:00Z", "eventSource": "signin.amazonaws.com",
              "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "awsRegion": "us-east-1",
              "recipientAccountId": account_id, "sourceIPAddress": "198.51.100.7",
              "userIdentity": {"type": "Root", "arn": f"arn:aws:iam::{account_id}:root",
                               "accountId": account_id, "principalId": account_id, "accessKeyId": ""},
              "responseElements": {"ConsoleLogin": "Success"}, "additionalEventData": {"MFAUsed": "No"}}
    filler = [{**record, "eventID": f"0c6d2b6a-0000-4000-8000-{n:012d}", "eventSource": "s3.amazonaws.com",
               "eventName": "ListBuckets", "userIdentity": {"type": "IAMUser", "accountId": account_id}}
              for n in range(300)]
    # The root sign-in comes last, so that cutting the file in half loses it.
    return gzip.compress(json.dumps({"Records": [*filler, record]}).encode())


BAD_TRAIL_OBJECTS = {
    "truncated": lambda account: _root_login_file(account)[: len(_root_login_file(account)) // 2],
    "not_gzip": lambda account: b"PK\x03\x04 this is a zip header, not a CloudTrail log file",
    "not_cloudtrail": lambda account: __import__("gzip").compress(b'{"hello": "not a trail file"}'),
}


@pytest.mark.slow  # three whole runs with their packs
@pytest.mark.parametrize("kind", ["not_cloudtrail", "not_gzip", "truncated"])
def test_case_trail_object_unreadable(kind: str, pipeline: Any, baseline: Any, faults: Any,
                                      others_unchanged: Any) -> None:
    """A trail object that is truncated, not gzip, or not CloudTrail (one account, one day).
    The object is named in `sources` as partial or skipped with the reason; the account's activity
    controls and the organization's are not PASS on the gap; every other result is unchanged."""
    sim = pipeline.sim
    target = clean_accounts(sim)[0]
    key = put_trail_object(sim, target, kind, BAD_TRAIL_OBJECTS[kind](target))
    try:
        run = pipeline.run()
    finally:
        sim.client("s3").delete_object(Bucket=sim.scenario.trail.bucket, Key=key)
    sources = run.snapshot["sources"]
    named = sources[sources["item"].astype(str).str.endswith(key.rsplit("/", 1)[-1])]
    assert len(named) == 1, sources[["account_id", "item", "status"]]
    row = named.iloc[0]
    assert row["status"] in ("partial", "skipped") and row["reason"], row.to_dict()
    assert run.in_workbook(str(row["reason"])), f"the workbook does not show {row['reason']!r}"
    assert run.in_pdf("1 item(s) not fully read: see their rows")
    # The account's activity controls: what the lost part might have held is not claimed absent.
    cr = run.control_results
    mine = cr[cr["account_id"] == target]
    activity = mine[mine["rationale"].str.contains("NO_ROOT_CONSOLE_LOGIN|NO_ROOT_API_CALLS", regex=True)]
    assert len(activity) > 0
    assert set(activity["status"]) <= {"NOT_ASSESSED", "FAIL"}, activity[["control_id", "status"]]
    assert "NOT_ASSESSED" in set(activity["status"])
    assert run.status == 2
    others_unchanged(run, baseline, {target})


@pytest.mark.slow  # a whole run with its pack, beyond the suite's quick set
def test_case_period_beyond_lookup_events(pipeline: Any, baseline: Any) -> None:
    """A period older than the 90 days LookupEvents keeps (`--cloudtrail lookup` for 2026-Q3).
    Each account's source row is not_covered for the part of the period LookupEvents cannot reach, with
    the reason naming the organization trail to read instead; the activity controls are NOT_ASSESSED,
    never PASS; the root-credential results are unchanged; exit status 2."""
    run = pipeline.run(cloudtrail="lookup")
    sources = run.snapshot["sources"]
    uncovered = sources[sources["status"] == "not_covered"]
    assert len(uncovered) > 0
    reason = str(uncovered["reason"].iloc[0])
    assert_reason_shown(run, reason, "older than the 90 days LookupEvents keeps")
    assert "--cloudtrail s3://" in reason
    cr = run.control_results
    activity = cr[cr["rationale"].str.contains("NO_ROOT_CONSOLE_LOGIN|NO_ROOT_API_CALLS", regex=True)]
    assert len(activity) > 0 and "PASS" not in set(activity["status"]), activity["status"].value_counts()
    assert run.status == 2
    rc, base = (r.snapshot["root_credentials"].set_index("account_id")[["assessment", "method"]]
                for r in (run, baseline))
    assert rc.sort_index().equals(base.sort_index())


class DiskFull:
    """A disk that fills after `budget` more bytes: every write past it fails with ENOSPC."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.failures = 0

    def charge(self, n: int) -> None:
        import errno
        import os

        if n > self.budget:
            self.failures += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.budget -= n

    def wrap(self, fh: Any) -> Any:
        disk = self

        class Limited:
            def __init__(self) -> None:
                self._fh = fh

            def write(self, data: bytes) -> int:
                disk.charge(len(data))
                return int(self._fh.write(data))

            def __getattr__(self, name: str) -> Any:
                return getattr(self._fh, name)

            def __enter__(self) -> Any:
                return self

            def __exit__(self, *exc: Any) -> None:
                self._fh.close()

        return Limited()


def report_on_disk(snapshot_folder: Path, out: Path, disk: DiskFull, monkeypatch: pytest.MonkeyPatch) -> int:
    """`rootaudit report` writing into `out` on `disk` (every write under `out` is charged to it)."""
    import builtins
    import os

    from rootaudit import cli
    from rootaudit.render import pack

    real_open, real_fdopen = builtins.open, os.fdopen

    def disk_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = real_open(file, mode, *args, **kwargs)
        return disk.wrap(fh) if "w" in mode and str(file).startswith(str(out)) else fh

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", disk_open)
        patch.setattr(pack.os, "fdopen",
                      lambda fd, mode="r", *a, **k: disk.wrap(real_fdopen(fd, mode, *a, **k)))
        return cli.main(["report", str(snapshot_folder), "--out", str(out), "--frameworks", "cis-aws-7.0.0"])


@pytest.fixture(scope="module")
def pack_bytes(baseline: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, int]:
    """(bytes of the zip, bytes of the whole pack) that `report` writes for the baseline, measured."""
    out = tmp_path_factory.mktemp("measured")
    disk = DiskFull(1 << 40)
    with pytest.MonkeyPatch.context() as patch:
        assert report_on_disk(baseline.paths.folder, out, disk, patch) in (0, 1, 2)
    zip_bytes = sum(p.stat().st_size for p in out.glob("*.zip"))
    return zip_bytes, (1 << 40) - disk.budget


@pytest.mark.parametrize("budget", ["none", "zip_only", "half_the_folder"])
def test_case_disk_fills_while_writing_pack(budget: str, baseline: Any, pack_bytes: tuple[int, int],
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The disk fills (ENOSPC) while `rootaudit report` writes the pack: at once, after the zip, mid-folder.
    Exit status 3 with one line naming the error; no pack folder, no zip and no temporary file is left,
    so nothing half-written can be taken for a whole pack."""
    zip_size, total = pack_bytes
    assert 0 < zip_size < total
    disk = DiskFull({"none": 0, "zip_only": zip_size + 10,
                     "half_the_folder": zip_size + (total - zip_size) // 2}[budget])
    out = tmp_path / "out"
    out.mkdir()
    capsys.readouterr()
    status = report_on_disk(baseline.paths.folder, out, disk, monkeypatch)
    err = capsys.readouterr().err
    assert disk.failures >= 1, "the disk never filled"
    assert status == 3
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "No space left on device" in lines[0], err
    assert sorted(p.name for p in out.iterdir()) == [], "something was left in the output folder"


TRAIL_ACTIVITY = "NO_ROOT_CONSOLE_LOGIN|NO_ROOT_API_CALLS"


@pytest.mark.slow  # one whole run per case
@pytest.mark.parametrize("case", ["edited_log_file", "deleted_log_file", "emptied_log_file", "deleted_digest",
                                  "broken_chain"])
def test_case_trail_tampered(case: str, pipeline: Any, baseline: Any) -> None:
    """The trail's bucket tampered with after delivery: a log file edited, deleted or emptied, a digest gone.
    Per case, for one clean account: a log file edited, deleted or replaced by `{"Records":[]}`, the digest
    listing it deleted, or the next digest re-signed with a broken chain. Each is named by file in
    `sources` (hash_mismatch, file_missing, digest_missing, chain_broken) with the reason, and the file it
    touches never validates; the account's NO_ROOT_CONSOLE_LOGIN / NO_ROOT_API_CALLS controls are
    NOT_ASSESSED, never PASS (they passed before); LOG_FILE_INTEGRITY turns FAIL, and CLOUDTRAIL_COVERAGE
    NOT_ASSESSED; exit status 2."""
    tamper, statuses = TAMPER_CASES[case.replace("_", " ")]
    sim = pipeline.sim
    target = clean_account(sim)
    base = baseline.control_results
    mine = base[(base["account_id"] == target) & base["rationale"].str.contains(TRAIL_ACTIVITY, regex=True)]
    assert "PASS" in set(mine["status"])  # what the tampering must not leave standing
    bucket = Bucket(sim)
    log_key = next(k for k in bucket.keys(f"/{target}/CloudTrail/us-east-1/")
                   if pipeline.period.contains(log_delivery_time(k)))
    try:
        named = tamper(bucket, log_key)
        run = pipeline.run(render=False)
    finally:
        bucket.restore()
    sources = run.snapshot["sources"]
    rows = sources[(sources["account_id"] == target) & (sources["item"] == named)]
    shown = sources[sources["account_id"] == target][["item", "status", "reason"]]
    assert set(rows["status"]) == statuses, shown
    assert rows["reason"].str.len().min() > 20
    if named != log_key:  # the file whose digest is gone or untrusted does not validate either
        file_rows = sources[(sources["account_id"] == target) & (sources["item"] == log_key)]
        assert len(file_rows) == 1 and file_rows.iloc[0]["status"] in INTEGRITY_GAPS
    cr = run.control_results
    activity = cr[(cr["account_id"] == target) & cr["rationale"].str.contains(TRAIL_ACTIVITY, regex=True)]
    assert "PASS" not in set(activity["status"]), activity[["control_id", "status"]]
    assert "NOT_ASSESSED" in set(activity["status"])
    org = cr[cr["account_id"].isna() & cr["rationale"].str.contains(TRAIL_ACTIVITY, regex=True)]
    assert "PASS" not in set(org["status"])
    # The log-integrity signal (NIST AU-9 and the like) finds the change, where the setting alone would pass.
    def signal(outcome: Any, name: str) -> Any:
        signals = outcome.results.signals
        return signals[(signals["account_id"] == target) & (signals["signal"] == name)]

    after, before = signal(run, "LOG_FILE_INTEGRITY"), signal(baseline, "LOG_FILE_INTEGRITY")
    assert list(after["value"]) == ["FAIL"] and "validation" in after["evidence"].iloc[0]
    assert list(before["value"]) == ["PASS"] and "validated against" in before["evidence"].iloc[0]
    # The period's events are no longer known to be whole either.
    coverage = signal(run, "CLOUDTRAIL_COVERAGE")
    assert list(coverage["value"]) == ["NOT_ASSESSED"] and named in coverage["evidence"].iloc[0]
    assert list(signal(baseline, "CLOUDTRAIL_COVERAGE")["value"]) == ["PASS"]
    assert run.status == 2
