"""The operations collection may call, and the parameters it may call them with: read-only by construction.

Every client made by `rootaudit.aws.AwsContext` refuses, before anything is sent, any operation that is
not listed here, or parameters its checks refuse (`ReadOnlyViolation`). The list is the whole surface
rootaudit touches in an audited organization: List/Get/Describe reads, the credential report
(Generate/Get), STS session calls (AssumeRoot with the audit task policy, AssumeRole into the read-only
fallback role), CloudTrail LookupEvents and Athena queries over the trail.

An operation's name is not its meaning, so the checks go by what each call would do:
- sts:AssumeRoot only with the IAMAuditRootUserCredentials task policy (the other task policies delete
  credentials, create a password or unlock a bucket or queue policy);
- athena:StartQueryExecution only with one SELECT statement (parsed with sqlglot in Athena's dialect:
  no DDL, no INSERT / CTAS, no UNLOAD, no second statement), and, in an AwsContext, only a statement the
  collector registered beforehand (`AwsContext.allow_query`); athena:StopQueryExecution only for a query
  that context started (both checked by the context, which knows its own queries);
- S3 only with the parameters of a plain read (`S3_READ_PARAMETERS`): every S3 operation listed is a
  GET or HEAD in botocore's model, and nothing else (no SSE-C key, no response-header overrides) is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from rootaudit.allowlist import Allowlist, OperationRefused, ParamCheck, only, task_policy

# sqlglot warns on the console when it falls back to a generic command; such a statement is refused
# here with its reason, so its warning would be a second, confusing line.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

AUDIT_TASK_POLICY = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"

READ_ONLY_OPERATIONS: frozenset[tuple[str, str]] = frozenset({
    # who is calling, and the sessions collection opens
    ("sts", "GetCallerIdentity"),
    ("sts", "AssumeRoot"),
    ("sts", "AssumeRole"),
    # the organization, its accounts and settings
    ("organizations", "DescribeOrganization"),
    ("organizations", "ListAccounts"),
    ("organizations", "ListParents"),
    ("organizations", "ListRoots"),
    ("organizations", "ListOrganizationalUnitsForParent"),
    ("organizations", "ListAccountsForParent"),
    ("organizations", "DescribeOrganizationalUnit"),
    ("organizations", "ListAWSServiceAccessForOrganization"),
    ("organizations", "ListDelegatedAdministrators"),
    ("organizations", "ListDelegatedServicesForAccount"),
    ("account", "GetAlternateContact"),
    ("iam", "ListOrganizationsFeatures"),
    # root credentials: the IAMAuditRootUserCredentials reads, and the credential-report fallback
    ("iam", "GetAccountSummary"),
    ("iam", "GetLoginProfile"),
    ("iam", "GetUser"),
    ("iam", "ListAccessKeys"),
    ("iam", "GetAccessKeyLastUsed"),
    ("iam", "ListMFADevices"),
    ("iam", "ListSigningCertificates"),
    ("iam", "ListVirtualMFADevices"),
    ("iam", "GenerateCredentialReport"),
    ("iam", "GetCredentialReport"),
    # root activity: CloudTrail as LookupEvents, trail files in S3, or Athena over them
    ("cloudtrail", "LookupEvents"),
    ("cloudtrail", "DescribeTrails"),
    ("cloudtrail", "GetTrailStatus"),
    ("cloudtrail", "GetTrail"),
    ("cloudtrail", "GetEventSelectors"),
    ("s3", "ListObjectsV2"),
    ("s3", "GetObject"),
    ("s3", "HeadObject"),
    ("s3", "GetBucketLocation"),
    ("athena", "GetTableMetadata"),
    ("athena", "StartQueryExecution"),
    ("athena", "GetQueryExecution"),
    ("athena", "GetQueryResults"),
    ("athena", "StopQueryExecution"),
    ("athena", "GetTableMetadata"),
    ("ec2", "DescribeRegions"),
    ("account", "ListRegions"),
    # monitoring: the CIS metric filter, its alarm and subscribers, or an EventBridge rule
    ("logs", "DescribeMetricFilters"),
    ("logs", "DescribeLogGroups"),
    ("cloudwatch", "DescribeAlarms"),
    ("cloudwatch", "DescribeAlarmsForMetric"),
    ("sns", "ListSubscriptionsByTopic"),
    ("sns", "GetTopicAttributes"),
    ("events", "ListRules"),
    ("events", "ListTargetsByRule"),
    ("events", "DescribeRule"),
})


# The parameters each S3 read may carry: where to read, which part, and conditions on the object. None of
# them writes; SSE-C keys (a secret) and the Response* header overrides are not needed and not sent.
S3_READ_PARAMETERS: dict[str, tuple[str, ...]] = {
    "ListObjectsV2": ("Bucket", "Prefix", "Delimiter", "MaxKeys", "ContinuationToken", "StartAfter",
                      "EncodingType", "FetchOwner", "ExpectedBucketOwner", "RequestPayer"),
    "GetObject": ("Bucket", "Key", "Range", "VersionId", "PartNumber", "IfMatch", "IfNoneMatch",
                  "IfModifiedSince", "IfUnmodifiedSince", "ExpectedBucketOwner", "RequestPayer",
                  "ChecksumMode"),
    "HeadObject": ("Bucket", "Key", "Range", "VersionId", "PartNumber", "IfMatch", "IfNoneMatch",
                   "IfModifiedSince", "IfUnmodifiedSince", "ExpectedBucketOwner", "RequestPayer",
                   "ChecksumMode"),
    "GetBucketLocation": ("Bucket", "ExpectedBucketOwner"),
}

# Statement kinds that change something, wherever they appear in a parsed statement.
_WRITES = (exp.DDL, exp.DML, exp.Command, exp.Alter, exp.Drop)


def select_problem(sql: Any) -> str | None:
    """Why `sql` is not exactly one SELECT statement (a query, a UNION of queries, WITH … SELECT), or
    None when it is. Parsed with sqlglot in Athena's dialect; anything it cannot parse is refused."""
    if not isinstance(sql, str) or not sql.strip():
        return "QueryString must be one SELECT statement, not empty"
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError as exc:
        return f"QueryString could not be parsed as one SELECT statement ({str(exc).splitlines()[0]})"
    if len(statements) != 1:
        return f"QueryString must be one SELECT statement, not {len(statements)} statements"
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        return f"QueryString must be a SELECT statement, not {statement.key.upper()}"
    writes = [node.key.upper() for node in statement.walk() if isinstance(node, _WRITES)]
    if writes:
        return f"QueryString must only read, and holds {', '.join(writes)}"
    return None


def _one_select(params: Mapping[str, Any]) -> str | None:
    return select_problem(params.get("QueryString"))


_RULES: dict[tuple[str, str], tuple[ParamCheck, ...]] = dict.fromkeys(READ_ONLY_OPERATIONS, ())
_RULES[("sts", "AssumeRoot")] = (task_policy(AUDIT_TASK_POLICY),)
_RULES[("athena", "StartQueryExecution")] = (_one_select,)
for _operation, _parameters in S3_READ_PARAMETERS.items():
    _RULES[("s3", _operation)] = (only(*_parameters),)


class ReadOnlyViolation(OperationRefused):
    """An attempt to call an operation collection is not allowed to make, or with parameters it is not
    allowed to use; nothing was sent."""


# The allowlist every collection client enforces (see rootaudit/allowlist.py for the mechanism).
READ_ONLY = Allowlist("read-only", "rootaudit/readonly.py", _RULES, ReadOnlyViolation)


def is_allowed(service: str, operation: str) -> bool:
    return (service, operation) in READ_ONLY_OPERATIONS
