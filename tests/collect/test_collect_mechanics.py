"""Mechanics without AWS: the read-only guard, client caching, report waiting, per-account deadlines."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from rootaudit.aws import AwsContext, AwsSettings, Credentials
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.report_method import wait_for_report
from rootaudit.collectors.root_common import AccountOutcome, AccountTimedOut, Deadline, ReportNotReady
from rootaudit.collectors.root_credentials import _run_pool
from rootaudit.period import parse_period
from rootaudit.readonly import READ_ONLY_OPERATIONS, ReadOnlyViolation
from tests.support.clock import FakeClock


def offline_context() -> AwsContext:
    session = boto3.Session(
        aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="not-a-secret", region_name="us-east-1"
    )
    ctx = AwsContext(AwsSettings(max_attempts=1, connect_timeout=0.5, read_timeout=0.5), session=session)
    ctx._caller = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a", "UserId": "A"}
    return ctx


def test_guard_refuses_a_write_before_sending_and_logs_it() -> None:
    ctx = offline_context()
    iam = ctx.client("iam", config=None)
    iam.meta.events.register("before-send", lambda **_: pytest.fail("a refused call reached the wire"))
    with pytest.raises(ReadOnlyViolation, match="DeleteLoginProfile"):
        iam.delete_login_profile()
    with pytest.raises(ReadOnlyViolation):
        ctx.client(
            "iam", credentials=Credentials("ASIAX", "s", "t"), account_id="222222222222"
        ).create_access_key()
    rows = ctx.call_log.rows()
    assert {(r["operation"], r["outcome"]) for r in rows} == {
        ("DeleteLoginProfile", "refused"),
        ("CreateAccessKey", "refused"),
    }
    assert ("iam", "DeleteLoginProfile") not in READ_ONLY_OPERATIONS


def test_allowlist_holds_only_reads_and_the_documented_exceptions() -> None:
    exceptions = {
        ("sts", "AssumeRoot"),
        ("sts", "AssumeRole"),
        ("iam", "GenerateCredentialReport"),
        ("athena", "StartQueryExecution"),
        ("athena", "StopQueryExecution"),
        ("cloudtrail", "LookupEvents"),
        ("s3", "HeadObject"),
    }
    for service, op in READ_ONLY_OPERATIONS - exceptions:
        assert op.startswith(("List", "Get", "Describe")), (service, op)


def test_clients_are_cached_per_session_and_forgotten() -> None:
    ctx = offline_context()
    creds = Credentials("ASIAONE", "secret", "token")
    a = ctx.client("iam", credentials=creds, account_id="222222222222")
    assert ctx.client("iam", credentials=creds, account_id="222222222222") is a
    assert ctx.client("iam") is ctx.client("iam") and ctx.client("iam") is not a
    ctx.forget(creds)
    assert ctx.client("iam", credentials=creds, account_id="222222222222") is not a


def not_ready(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "wait"}}, "GetCredentialReport")


class FakeIam:
    def __init__(self, states: list[str], get_errors: list[str] | None = None) -> None:
        self.states = states
        self.get_errors = get_errors or []
        self.generated = 0

    def generate_credential_report(self) -> dict[str, Any]:
        self.generated += 1
        return {"State": self.states[min(self.generated - 1, len(self.states) - 1)]}

    def get_credential_report(self) -> dict[str, Any]:
        if self.get_errors:
            raise not_ready(self.get_errors.pop(0))
        return {"Content": b"user,arn\n", "GeneratedTime": "2026-01-01T00:00:00Z"}


def test_report_wait_regenerates_and_is_bounded() -> None:
    iam = FakeIam(["STARTED", "INPROGRESS", "COMPLETE"], ["ReportExpired"])
    raw: dict[str, Any] = {}
    fake = FakeClock()
    report = wait_for_report(iam, Deadline.after(10, fake.monotonic), 5, raw, poll_seconds=0.01,
                             clock=fake.clock)
    assert report["GeneratedTime"] and iam.generated == 4 and raw["generate_credential_report"]["Calls"] == 4
    stuck = FakeIam(["INPROGRESS"])
    fake = FakeClock()
    with pytest.raises(ReportNotReady, match=r"still not available after 0\.3 s"):
        wait_for_report(stuck, Deadline.after(10, fake.monotonic), 0.3, {}, poll_seconds=0.05,
                        clock=fake.clock)
    # The wait is bounded on the clock it was given: it slept 0.3 s of it in all, no more.
    assert sum(fake.slept) == pytest.approx(0.3) and max(fake.slept) <= 0.05 + 1e-9
    # The account's deadline bounds it too, when it is the shorter.
    fake = FakeClock()
    with pytest.raises(AccountTimedOut, match=r"0\.2 s budget ran out"):
        wait_for_report(FakeIam(["INPROGRESS"]), Deadline.after(0.2, fake.monotonic), 30, {},
                        poll_seconds=0.05, clock=fake.clock)
    assert sum(fake.slept) == pytest.approx(0.2)


class HangingCollector:
    """Stands in for the per-account collector: one account hangs far past its budget (on the injected
    clock: it moves the clock on and then blocks until the pool is done with it)."""

    def __init__(self, fake: FakeClock) -> None:
        self.fake = fake
        self.release = threading.Event()

    def run(self, account_id: str, deadline: Deadline) -> AccountOutcome:
        if account_id == "hang":
            self.fake.advance(3)
            self.release.wait(timeout=60)
        return AccountOutcome(row={"account_id": account_id, "assessment": "assessed", "method": "x"})


def test_pool_times_out_one_account_and_keeps_the_others() -> None:
    fake = FakeClock()
    # Each account's budget runs on its own clock: only the hanging account's moves.
    clocks = {"hang": fake.monotonic}
    settings = CollectSettings(period=parse_period(), workers=2, account_timeout_seconds=0.5,
                               budget_clock=lambda a: clocks.get(a, lambda: 0.0)())
    collector = HangingCollector(fake)
    try:
        results = _run_pool(collector, ["a", "hang", "b", "c"], settings)  # type: ignore[arg-type]
    finally:
        collector.release.set()
    assert results["hang"].row["assessment"] == "not_assessed"
    assert "timed out" in results["hang"].row["reason"] and "0.5 s" in results["hang"].row["reason"]
    assert all(results[a].row["assessment"] == "assessed" for a in "abc")


def test_transport_errors_are_logged_with_their_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing answers
    ctx = offline_context()
    with pytest.raises(EndpointConnectionError):
        ctx.client("iam").get_account_summary()
    (row,) = ctx.call_log.rows()
    assert (row["operation"], row["outcome"], row["error_code"]) == (
        "GetAccountSummary",
        "error",
        "EndpointConnectionError",
    )


class Captured(Exception):
    pass


def test_session_scope_signs_with_the_scope_and_logs_its_account() -> None:
    ctx = offline_context()
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        seen.append(
            request.headers["Authorization"].decode()
            if isinstance(request.headers["Authorization"], bytes)
            else request.headers["Authorization"]
        )
        raise Captured

    with ctx.session_scope(Credentials("ASIAFIRST", "s1", "t1"), "111111111111"):
        iam = ctx.session_client("iam")
        iam.meta.events.register("before-send", capture)
        with pytest.raises(Captured):
            iam.get_account_summary()
    with ctx.session_scope(Credentials("ASIASECOND", "s2", "t2"), "222222222222"):
        assert ctx.session_client("iam") is iam  # one client per thread and service
        with pytest.raises(Captured):
            iam.get_user()
    assert "Credential=ASIAFIRST/" in seen[0] and "Credential=ASIASECOND/" in seen[1]
    assert [r["account_id"] for r in ctx.call_log.rows()] == ["111111111111", "222222222222"]
    with pytest.raises(RuntimeError, match="outside"):
        iam.get_user()


def test_sts_goes_to_the_regional_endpoint_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    from rootaudit.aws import sts_endpoint

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/rootaudit-test-config")
    assert sts_endpoint("eu-west-1") == "https://sts.eu-west-1.amazonaws.com"
    ctx = offline_context()
    assert ctx.client("sts", region="eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    with ctx.session_scope(Credentials("ASIAX", "s", "t"), "222222222222"):
        assert (
            ctx.session_client("sts", "eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
        )
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:4566")
    assert sts_endpoint("eu-west-1") is None
    assert offline_context().client("sts", region="eu-west-1").meta.endpoint_url == "http://127.0.0.1:4566"


def test_a_named_profile_with_an_endpoint_keeps_sts_on_it(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """`--profile sim` whose ~/.aws/config sets endpoint_url (an emulator): STS follows the profile,
    as every other client does; the default profile still gets the regional AWS endpoint."""
    from rootaudit.aws import sts_endpoint

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile sim]\nendpoint_url = http://127.0.0.1:5055\n"
                      "[profile sts-only]\nservices = local\n[services local]\nsts =\n"
                      "  endpoint_url = http://127.0.0.1:5056\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert sts_endpoint("us-east-1", profile="sim") is None
    assert sts_endpoint("us-east-1", profile="sts-only") is None
    assert sts_endpoint("us-east-1") == "https://sts.us-east-1.amazonaws.com"
