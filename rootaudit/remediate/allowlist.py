"""The only calls rootaudit makes that change an account: two named allowlists, with parameter checks.

`rootaudit remediate --apply` makes its changing clients with one of these (never with the read-only
allowlist, and collection never with these); `rootaudit.aws` enforces them in every client before
anything is sent, exactly as the read-only allowlist is enforced for collection. Re-reading an
account's root credentials goes through a separate, read-only context.

- CREDENTIAL_REMOVAL: AssumeRoot with the IAMDeleteRootUserCredentials task policy only, and inside
  that root session the four IAM deletes, each without UserName (a root session acts on the root user).
- FEATURE_ENABLEMENT: the three calls that turn on centralized root access, in the management account:
  trusted access for IAM (that service principal only), RootCredentialsManagement, RootSessions.
GetCallerIdentity (who is calling) is in both: it changes nothing and the sessions need the caller.
"""

from __future__ import annotations

from rootaudit.allowlist import Allowlist, OperationRefused, equal_to, only, task_policy, without

DELETE_TASK_POLICY = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
IAM_SERVICE_PRINCIPAL = "iam.amazonaws.com"


class RemediationRefused(OperationRefused):
    """A call outside the remediation allowlist, or with parameters it refuses; nothing was sent."""


CREDENTIAL_REMOVAL = Allowlist(
    "credential-removal", "rootaudit/remediate/allowlist.py",
    {
        ("sts", "GetCallerIdentity"): (only(),),
        ("sts", "AssumeRoot"): (task_policy(DELETE_TASK_POLICY),
                                only("TargetPrincipal", "TaskPolicyArn", "DurationSeconds")),
        ("iam", "DeleteLoginProfile"): (without("UserName"), only()),
        ("iam", "DeleteAccessKey"): (without("UserName"), only("AccessKeyId")),
        ("iam", "DeleteSigningCertificate"): (without("UserName"), only("CertificateId")),
        ("iam", "DeactivateMFADevice"): (without("UserName"), only("SerialNumber")),
    },
    RemediationRefused,
)

FEATURE_ENABLEMENT = Allowlist(
    "feature-enablement", "rootaudit/remediate/allowlist.py",
    {
        ("sts", "GetCallerIdentity"): (only(),),
        ("organizations", "EnableAWSServiceAccess"): (equal_to("ServicePrincipal", IAM_SERVICE_PRINCIPAL),
                                                      only("ServicePrincipal")),
        ("iam", "EnableOrganizationsRootCredentialsManagement"): (only(),),
        ("iam", "EnableOrganizationsRootSessions"): (only(),),
    },
    RemediationRefused,
)

REMEDIATION_ALLOWLISTS = (CREDENTIAL_REMOVAL, FEATURE_ENABLEMENT)
