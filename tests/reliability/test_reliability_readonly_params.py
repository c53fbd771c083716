"""The read-only guard goes by what a call would do, not by its name: each mutating variant of an allowed
operation is refused in the client before anything is signed or sent (a `before-send` hook fails the
test if a request reaches the wire), and logged as refused."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.readonly import (
    AUDIT_TASK_POLICY,
    READ_ONLY,
    S3_READ_PARAMETERS,
    ReadOnlyViolation,
    select_problem,
)

pytestmark = pytest.mark.reliability

MEMBER = "222222222222"
TASKS = "arn:aws:iam::aws:policy/root-task/"
SELECT = ("SELECT eventid, eventname FROM cloudtrail_logs WHERE eventname = 'AssumeRoot' "
          "AND eventtime >= '2026-07-01T00:00:00Z'")


def offline() -> AwsContext:
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="not-a-secret",
                            region_name="us-east-1")
    ctx = AwsContext(AwsSettings(max_attempts=1, connect_timeout=0.5, read_timeout=0.5), session=session)
    ctx._caller = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a", "UserId": "A"}
    return ctx


def never_sent(client: Any) -> Any:
    client.meta.events.register("before-send", lambda **_: pytest.fail("a refused call reached the wire"))
    return client


def refused(ctx: AwsContext, call: Any, match: str) -> None:
    before = len(ctx.call_log.rows())
    with pytest.raises(ReadOnlyViolation, match=match):
        call()
    rows = ctx.call_log.rows()[before:]
    assert [(r["outcome"], r["error_code"]) for r in rows] == [("refused", "ReadOnlyViolation")]


# ------------------------------------------------------------------ sts:AssumeRoot


@pytest.mark.parametrize("task", ["IAMDeleteRootUserCredentials", "IAMCreateRootUserPassword",
                                  "S3UnlockBucketPolicy", "SQSUnlockQueuePolicy"])
def test_assume_root_with_any_other_task_policy_is_never_sent(task: str) -> None:
    ctx = offline()
    sts = never_sent(ctx.client("sts", account_id="123456789012"))
    refused(ctx, lambda: sts.assume_root(TargetPrincipal=MEMBER, TaskPolicyArn={"arn": TASKS + task}),
            f"TaskPolicyArn must be {AUDIT_TASK_POLICY}, not '{TASKS}{task}'")


def test_assume_root_only_with_the_audit_task() -> None:
    assert READ_ONLY.refusal("sts", "AssumeRoot", {"TargetPrincipal": MEMBER,
                                                   "TaskPolicyArn": {"arn": AUDIT_TASK_POLICY}}) is None
    assert READ_ONLY.refusal("sts", "AssumeRoot", {"TargetPrincipal": MEMBER})  # none given: refused


# ------------------------------------------------------------------ athena


WRITES = {
    "drop": "DROP TABLE cloudtrail_logs",
    "second_statement": SELECT + "; DROP TABLE cloudtrail_logs",
    "insert": "INSERT INTO copy SELECT * FROM cloudtrail_logs",
    "ctas": "CREATE TABLE copy AS SELECT * FROM cloudtrail_logs",
    "unload": "UNLOAD (SELECT * FROM cloudtrail_logs) TO 's3://elsewhere/x/' WITH (format = 'JSON')",
    "alter": "ALTER TABLE cloudtrail_logs ADD PARTITION (region = 'us-east-1')",
    "msck": "MSCK REPAIR TABLE cloudtrail_logs",
    "delete": "DELETE FROM cloudtrail_logs WHERE eventname = 'ConsoleLogin'",
    "empty": "   ",
    "unparsable": "SELECT * FROM (DELETE FROM cloudtrail_logs)",
}


@pytest.mark.parametrize("kind", sorted(WRITES))
def test_a_statement_that_is_not_one_select_is_neither_registered_nor_sent(kind: str) -> None:
    sql = WRITES[kind]
    ctx = offline()
    with pytest.raises(ReadOnlyViolation, match="athena query not registered: QueryString"):
        ctx.allow_query(sql)
    athena = never_sent(ctx.client("athena"))
    refused(ctx, lambda: athena.start_query_execution(QueryString=sql, WorkGroup="primary"), "QueryString")
    assert select_problem(sql)


@pytest.mark.parametrize("sql", [SELECT, "WITH s AS (" + SELECT + ") SELECT count(*) FROM s",
                                 SELECT + " UNION ALL " + SELECT, SELECT + ";"])
def test_one_select_is_a_select(sql: str) -> None:
    assert select_problem(sql) is None


def test_only_a_registered_select_is_started_and_only_its_query_stopped() -> None:
    ctx = offline()
    athena = never_sent(ctx.client("athena"))
    # A SELECT, but not one this collection built: refused, and so is the same text altered.
    refused(ctx, lambda: athena.start_query_execution(QueryString=SELECT), "not a statement this collection")
    ctx.allow_query(SELECT)
    refused(ctx, lambda: athena.start_query_execution(QueryString=SELECT + " "), "not a statement")
    refused(ctx, lambda: athena.stop_query_execution(QueryExecutionId="someone-elses-query"),
            "query 'someone-elses-query' was not started by this collection")
    with Stubber(athena) as stub:  # answers in place of the wire: nothing is sent here either
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                          {"QueryString": SELECT, "WorkGroup": "primary"})
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
        started = athena.start_query_execution(QueryString=SELECT, WorkGroup="primary")
        assert started["QueryExecutionId"] == "q-1"
        athena.stop_query_execution(QueryExecutionId="q-1")
        stub.assert_no_pending_responses()
    assert [r["outcome"] for r in ctx.call_log.rows()][-2:] == ["ok", "ok"]


def test_queries_are_the_context_s_own() -> None:
    one, other = offline(), offline()
    one.allow_query(SELECT)
    athena = never_sent(other.client("athena"))
    refused(other, lambda: athena.start_query_execution(QueryString=SELECT), "not a statement")


# ------------------------------------------------------------------ s3


@pytest.mark.parametrize("call, match", [
    (lambda s3: s3.put_object(Bucket="trail", Key="k", Body=b"x"), "not in the read-only allowlist"),
    (lambda s3: s3.delete_object(Bucket="trail", Key="k"), "not in the read-only allowlist"),
    (lambda s3: s3.delete_objects(Bucket="trail", Delete={"Objects": [{"Key": "k"}]}),
     "not in the read-only allowlist"),
    (lambda s3: s3.copy_object(Bucket="trail", Key="k", CopySource="trail/j"), "not in the read-only"),
    (lambda s3: s3.restore_object(Bucket="trail", Key="k", RestoreRequest={"Days": 1}), "not in the read"),
    (lambda s3: s3.put_bucket_policy(Bucket="trail", Policy="{}"), "not in the read-only allowlist"),
    (lambda s3: s3.put_object_retention(Bucket="trail", Key="k", Retention={"Mode": "GOVERNANCE"}),
     "not in the read-only allowlist"),
    (lambda s3: s3.get_object(Bucket="trail", Key="k", SSECustomerAlgorithm="AES256",
                              SSECustomerKey="k" * 32), "unexpected parameter"),
    (lambda s3: s3.get_object(Bucket="trail", Key="k", ResponseContentType="text/html"),
     "unexpected parameter"),
    (lambda s3: s3.head_object(Bucket="trail", Key="k", SSECustomerAlgorithm="AES256",
                               SSECustomerKey="k" * 32), "unexpected parameter"),
])
def test_s3_only_reads(call: Any, match: str) -> None:
    ctx = offline()
    s3 = never_sent(ctx.client("s3"))
    refused(ctx, lambda: call(s3), match)


def test_every_s3_operation_allowed_is_a_get_or_head_with_known_parameters() -> None:
    model = boto3.Session(region_name="us-east-1").client(
        "s3", aws_access_key_id="x", aws_secret_access_key="y").meta.service_model
    allowed = {op for service, op in READ_ONLY.operations if service == "s3"}
    assert allowed == set(S3_READ_PARAMETERS)
    for name in allowed:
        operation = model.operation_model(name)
        assert operation.http["method"] in ("GET", "HEAD"), name
        assert set(S3_READ_PARAMETERS[name]) <= set(operation.input_shape.members), name
