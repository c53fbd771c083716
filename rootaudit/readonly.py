"""The operations collection may call: read-only by construction.

Every client made by `rootaudit.aws.AwsContext` refuses, before anything is sent, any operation that is
not listed here (`ReadOnlyViolation`). The list is the whole surface rootaudit touches in an audited
organization: List/Get/Describe reads, the credential report (Generate/Get), STS session calls
(AssumeRoot with the audit task policy, AssumeRole into the read-only fallback role), CloudTrail
LookupEvents and Athena queries over the trail.
"""

from __future__ import annotations

from rootaudit.allowlist import Allowlist, OperationRefused

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
    ("cloudtrail", "ListPublicKeys"),
    ("s3", "ListObjectsV2"),
    ("s3", "GetObject"),
    ("s3", "HeadObject"),
    ("s3", "GetBucketLocation"),
    ("athena", "StartQueryExecution"),
    ("athena", "GetQueryExecution"),
    ("athena", "GetQueryResults"),
    ("athena", "StopQueryExecution"),
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


class ReadOnlyViolation(OperationRefused):
    """An attempt to call an operation collection is not allowed to make; nothing was sent."""


# The allowlist every collection client enforces (see rootaudit/allowlist.py for the mechanism).
READ_ONLY = Allowlist("read-only", "rootaudit/readonly.py", dict.fromkeys(READ_ONLY_OPERATIONS, ()),
                      ReadOnlyViolation)


def is_allowed(service: str, operation: str) -> bool:
    return (service, operation) in READ_ONLY_OPERATIONS
