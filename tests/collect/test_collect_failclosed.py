"""Answers that look whole and are not, in the root-credential collectors: a 200 without a member its
output shape requires, a listing truncated without its marker, listings that GetAccountSummary
contradicts. Each leaves the account not assessed with the reason, never read as "none"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from rootaudit.aws import (
    Credentials,
    IncompleteAnswer,
    paginate,
    required_members_missing,
    truncated_without_marker,
)
from rootaudit.collectors.credential_report import parse_credential_report
from rootaudit.collectors.organization import _security_contact
from rootaudit.collectors.report_method import report_contradictions, report_outcome
from rootaudit.collectors.root_session import root_session_outcome
from rootaudit.readonly import READ_ONLY_OPERATIONS
from rootaudit.simulate import rewrites
from tests.collect.test_collect_mechanics import offline_context
from tests.collect.test_collect_transforms import ACCT, report_raw, root_session_raw


def offline_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
                        aws_secret_access_key="not-a-secret")


# ------------------------------------------------------------------ the checks, on botocore's models


def test_required_members_come_from_the_output_shape() -> None:
    iam = offline_client("iam")
    assert required_members_missing(iam, "GetLoginProfile", {}) == ["LoginProfile"]
    assert required_members_missing(iam, "GetLoginProfile", {"LoginProfile": {}}) == []
    assert required_members_missing(iam, "ListAccessKeys", {"IsTruncated": False}) == ["AccessKeyMetadata"]
    assert required_members_missing(iam, "GetAccountSummary", {}) == []  # SummaryMap is not required


@pytest.mark.parametrize(("service", "operation", "page", "truncated"), [
    ("iam", "ListAccessKeys", {"AccessKeyMetadata": [], "IsTruncated": True}, True),
    ("iam", "ListAccessKeys", {"AccessKeyMetadata": [], "IsTruncated": True, "Marker": ""}, True),
    ("iam", "ListAccessKeys", {"AccessKeyMetadata": [], "IsTruncated": True, "Marker": "m"}, False),
    ("iam", "ListAccessKeys", {"AccessKeyMetadata": [], "IsTruncated": False}, False),
    ("iam", "ListAccessKeys", {"AccessKeyMetadata": []}, False),
    ("s3", "ListObjectsV2", {"Contents": [], "IsTruncated": True}, True),
    ("s3", "ListObjectsV2", {"IsTruncated": True, "NextContinuationToken": "t"}, False),
    # NextToken listings have no IsTruncated: the token's absence is the only end there is
    ("organizations", "ListAccounts", {"Accounts": []}, False),
])
def test_truncated_without_marker(service: str, operation: str, page: dict[str, Any],
                                  truncated: bool) -> None:
    assert truncated_without_marker(offline_client(service), operation, page) is truncated


def test_paginate_refuses_a_truncated_page_without_marker() -> None:
    iam = offline_client("iam")
    key = {"UserName": "root", "AccessKeyId": "AKIAROOTKEY000000001", "Status": "Active",
           "CreateDate": datetime(2026, 1, 1, tzinfo=UTC)}
    with Stubber(iam) as stub:
        stub.add_response("list_access_keys", {"AccessKeyMetadata": [key], "IsTruncated": True})
        with pytest.raises(IncompleteAnswer, match="ListAccessKeys answered without a marker"):
            paginate(iam, "list_access_keys", "AccessKeyMetadata")
    with Stubber(iam) as stub:  # the same page, ended properly, is read
        stub.add_response("list_access_keys", {"AccessKeyMetadata": [key], "IsTruncated": False})
        items, pages = paginate(iam, "list_access_keys", "AccessKeyMetadata")
    assert [i["AccessKeyId"] for i in items] == ["AKIAROOTKEY000000001"] and len(pages) == 1


def _answering(client: Any, operation: str, answer: dict[str, Any]) -> Any:
    """`client`, answering `operation` with a 200 holding `answer`, without sending anything (botocore's
    Stubber would refuse an answer its output shape does not allow, which is the very case here)."""
    def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://offline.invalid", 200, {}, None), dict(answer)

    client.meta.events.register(f"before-call.*.{operation}", respond)
    return client


def _with_required_members() -> list[tuple[str, str, list[str]]]:
    # every read collection makes, whatever collector makes it, whose output shape requires a member
    session = botocore.session.get_session()
    found = []
    for service, operation in sorted(READ_ONLY_OPERATIONS):
        shape = session.get_service_model(service).operation_model(operation).output_shape
        if shape is not None and shape.required_members:
            found.append((service, operation, list(shape.required_members)))
    return found


def test_the_reads_whose_shapes_require_a_member_are_the_root_credential_ones() -> None:
    # botocore's models give the Organizations, Account, CloudTrail, S3, CloudWatch, Logs, SNS,
    # EventBridge, Athena and STS answers no required member at their top: this names what the call
    # layer's check can catch today, so that a model that changes it is noticed here
    assert [(s, o) for s, o, _ in _with_required_members()] == [
        ("iam", "GetLoginProfile"), ("iam", "GetUser"), ("iam", "ListAccessKeys"), ("iam", "ListMFADevices"),
        ("iam", "ListSigningCertificates"), ("iam", "ListVirtualMFADevices")]


@pytest.mark.parametrize(("service", "operation", "members"), _with_required_members())
def test_every_context_client_refuses_a_200_without_a_required_member(service: str, operation: str,
                                                                      members: list[str]) -> None:
    ctx = offline_context()
    client = _answering(ctx.client(service), operation, {})
    method = xform_name(operation)
    with pytest.raises(IncompleteAnswer) as caught:
        getattr(client, method)()  # called directly: no collector's own check in between
    assert str(caught.value).startswith(f"{operation} answered without {', '.join(members)} "
                                        "(required by its output shape)")
    assert caught.value.operation_name == operation
    [call] = ctx.call_log.rows()
    assert (call["operation"], call["outcome"], call["error_code"]) == (operation, "error",
                                                                        "IncompleteAnswer")


def test_a_session_client_refuses_it_too_and_a_whole_answer_passes() -> None:
    ctx = offline_context()
    creds = Credentials("ASIAEXAMPLE", "not-a-secret", "not-a-token")
    with ctx.session_scope(creds, ACCT):
        iam = _answering(ctx.session_client("iam"), "GetLoginProfile", {})
        with pytest.raises(IncompleteAnswer, match="GetLoginProfile answered without LoginProfile"):
            iam.get_login_profile()
    whole = _answering(offline_context().client("iam"), "GetLoginProfile",
                       {"LoginProfile": {"UserName": "root", "CreateDate": datetime(2026, 1, 1, tzinfo=UTC)}})
    assert whole.get_login_profile()["LoginProfile"]["UserName"] == "root"


@pytest.mark.parametrize(("service", "operation"), [
    ("organizations", "ListAccounts"), ("account", "GetAlternateContact"), ("cloudtrail", "DescribeTrails"),
    ("logs", "DescribeMetricFilters"), ("iam", "GetAccountSummary"), ("sts", "GetCallerIdentity")])
def test_an_answer_whose_shape_requires_nothing_is_not_flagged(service: str, operation: str) -> None:
    ctx = offline_context()
    client = _answering(ctx.client(service), operation, {})
    kwargs = {"AlternateContactType": "SECURITY"} if operation == "GetAlternateContact" else {}
    assert "ResponseMetadata" not in getattr(client, xform_name(operation))(**kwargs)
    assert [c["outcome"] for c in ctx.call_log.rows()] == ["ok"]


def test_an_organization_read_answering_incompletely_is_named_not_raised() -> None:
    class Incomplete:
        def get_alternate_contact(self, **_: Any) -> Any:
            raise IncompleteAnswer("GetAlternateContact", "AlternateContact (required by its output shape)")

    raw: dict[str, Any] = {}
    status, reason = _security_contact(Incomplete(), ACCT, "999999999999", "999999999999", raw,
                                       threading.Lock())
    assert status == "not_assessed"
    assert "GetAlternateContact answered without AlternateContact" in reason
    assert raw[f"account/{ACCT}/security_contact"]["Error"]["Code"] == "IncompleteAnswer"


# ------------------------------------------------------------------ the transforms (pure)


@pytest.mark.parametrize(("summary_key", "change"), [
    ("AccountPasswordPresent", {"get_login_profile": {"Error": {"Code": "NoSuchEntity", "Message": "x"}}}),
    ("AccountAccessKeysPresent", {"list_access_keys": [{"AccessKeyMetadata": [], "IsTruncated": False}]}),
    ("AccountMFAEnabled", {"list_mfa_devices": [{"MFADevices": []}]}),
    ("AccountSigningCertificatesPresent", {}),  # the summary counts one; the listing has none
])
def test_a_listing_the_summary_contradicts_is_not_assessed(summary_key: str, change: dict[str, Any]) -> None:
    summary = {"AccountPasswordPresent": 1, "AccountAccessKeysPresent": 1, "AccountMFAEnabled": 1,
               "AccountSigningCertificatesPresent": 0}
    if summary_key == "AccountSigningCertificatesPresent":
        summary[summary_key] = 1
    out = root_session_outcome(ACCT, root_session_raw(get_account_summary={"SummaryMap": summary},
                                                      **change), "2026-09-30T00:00:00Z")
    row = out.row
    assert (row["assessment"], row["method"]) == ("not_assessed", "assume_root_audit")
    assert f"GetAccountSummary {summary_key}=1" in row["reason"] and "contradict" in row["reason"]
    assert "password_present" not in row and out.items == []  # nothing read is presented as a result
    assert row["reason"].count("GetAccountSummary") == 1  # only the one that disagrees


def test_the_summary_agreeing_or_silent_leaves_the_account_assessed() -> None:
    agreeing = {"AccountPasswordPresent": 1, "AccountAccessKeysPresent": 1, "AccountMFAEnabled": 1,
                "AccountSigningCertificatesPresent": 0}
    for summary in (agreeing, {}):
        out = root_session_outcome(ACCT, root_session_raw(get_account_summary={"SummaryMap": summary}), "t")
        assert out.row["assessment"] == "assessed" and out.row["reason"] is None


def test_a_login_profile_answer_with_neither_profile_nor_error_is_not_assessed() -> None:
    out = root_session_outcome(ACCT, root_session_raw(get_login_profile={}), "t")
    assert out.row["assessment"] == "not_assessed"
    assert "GetLoginProfile answered without LoginProfile" in out.row["reason"]


def test_the_credential_report_contradicted_by_the_summary_is_not_assessed() -> None:
    key = {"access_key_1_active": "true", "access_key_1_last_rotated": "2025-01-01T00:00:00+00:00"}
    out = report_outcome(ACCT, report_raw({"AccountAccessKeysPresent": 0, "AccountMFAEnabled": 1}, [], key),
                         "why")
    assert out.row["assessment"] == "not_assessed" and out.row["reason"].startswith("why; ")
    assert "AccountAccessKeysPresent=0, but the report shows 1 access key(s)" in out.row["reason"]
    out = report_outcome(ACCT, report_raw({"AccountMFAEnabled": 0}, [], {"mfa_active": "true"}))
    assert "AccountMFAEnabled=0, but the report's mfa_active is true" in out.row["reason"]
    out = report_outcome(ACCT, report_raw({"AccountMFAEnabled": 1, "AccountSigningCertificatesPresent": 1},
                                          []))
    assert "AccountSigningCertificatesPresent=1, but the report shows 0" in out.row["reason"]


def test_the_summary_counting_a_key_the_report_cannot_show_is_no_contradiction() -> None:
    raw = report_raw({"AccountAccessKeysPresent": 1, "AccountMFAEnabled": 1}, [])
    root = parse_credential_report(raw["get_credential_report"]["Content"], ACCT).root  # type: ignore[index]
    assert root is not None and report_contradictions({"AccountAccessKeysPresent": 1}, root) == []
    out = report_outcome(ACCT, raw)
    assert out.row["assessment"] == "assessed" and out.row["access_keys_inactive"] == 1


# ------------------------------------------------------------------ on the wire, against the simulator


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from rootaudit.period import parse_period
    from rootaudit.simulate.organization import SimulatedOrganization
    from rootaudit.simulate.scenario import build_scenario

    with SimulatedOrganization(build_scenario(7, seed=7, period=parse_period("2026-Q3")),
                               mode="server") as organization:
        yield organization


@pytest.fixture
def faults(sim: Any) -> Iterator[Any]:
    yield sim.faults
    sim.reset_faults()


def _read(sim: Any, collect: Any, target: str, **settings: Any) -> dict[str, Any]:
    run = collect(sim, workers=2, **settings)
    return run.row(target)


def test_get_login_profile_without_its_profile_is_no_password_claim(sim: Any, faults: Any,
                                                                    collect: Any) -> None:
    target = sim.scenario.by_kind("password_no_mfa").account_id
    rule = faults.rewrite(rewrites.drop_xml_member("LoginProfile"), "iam", "GetLoginProfile",
                          caller_account=target)
    row = _read(sim, collect, target, fallback_role="")  # with one: tests/collect/test_collect_faults.py
    assert rule.hits >= 1
    assert (row["assessment"], row["method"]) == ("not_assessed", "none")
    assert "GetLoginProfile answered without LoginProfile (required by its output shape)" in row["reason"]
    assert 'not read as "none"' in row["reason"] and "no fallback role is set" in row["reason"]


def test_list_access_keys_truncated_without_marker_is_no_key_claim(sim: Any, faults: Any,
                                                                   collect: Any) -> None:
    target = sim.scenario.by_kind("active_root_key").account_id
    rule = faults.rewrite(rewrites.truncated_without_marker(), "iam", "ListAccessKeys", caller_account=target)
    row = _read(sim, collect, target, fallback_role="")
    assert rule.hits >= 1
    assert row["assessment"] == "not_assessed"
    assert "ListAccessKeys answered without a marker, though it says the listing is truncated" in \
        row["reason"]
    # The credential report, through the fallback role, reads the key the listing cut short.
    row = _read(sim, collect, target)
    assert (row["assessment"], row["method"]) == ("assessed", "credential_report")
    assert "ListAccessKeys answered without a marker" in row["reason"] and row["access_keys_active"] == 1


def test_an_emptied_listing_the_summary_contradicts_on_the_wire(sim: Any, faults: Any, collect: Any) -> None:
    target = sim.scenario.by_kind("active_root_key").account_id
    rule = faults.rewrite(rewrites.empty_xml_list("AccessKeyMetadata"), "iam", "ListAccessKeys",
                          caller_account=target)
    row = _read(sim, collect, target)
    assert rule.hits >= 1
    assert (row["assessment"], row["method"]) == ("not_assessed", "assume_root_audit")
    assert "GetAccountSummary AccountAccessKeysPresent=1, but ListAccessKeys found 0" in row["reason"]


def test_the_fallback_answering_incompletely_is_not_assessed(sim: Any, faults: Any, collect: Any) -> None:
    target = sim.scenario.by_kind("invited_password_virtual_mfa").account_id
    faults.deny_assume_root(target)
    rule = faults.rewrite(rewrites.drop_xml_member("VirtualMFADevices"), "iam", "ListVirtualMFADevices",
                          caller_account=target)
    row = _read(sim, collect, target)
    assert rule.hits >= 1
    assert row["assessment"] == "not_assessed"
    assert "fallback failed" in row["reason"]
    assert "ListVirtualMFADevices answered without VirtualMFADevices" in row["reason"]
