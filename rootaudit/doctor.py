"""`rootaudit doctor`: would a run be complete? Checked read-only, through the same guarded AwsContext
collection uses, each failed check saying what to fix.

Checks, in order (a later check is skipped when what it needs failed):
  caller              who is calling; never root credentials
  account             the management account or the IAM delegated administrator (AssumeRoot needs one)
  trusted access      IAM's trusted access in AWS Organizations
  root features       RootCredentialsManagement and RootSessions (IAM organization features)
  AssumeRoot          a root session with the audit task policy works on one member, and reads
  member role         the read-only member role can be assumed in a sample of members
  CloudTrail          the source `--cloudtrail` resolves to is readable, and what it covers
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from rootaudit.aws import AwsContext, error_text, paginate
from rootaudit.collectors import CollectSettings
from rootaudit.outcome import Outcome, Output

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skipped"
IAM_PRINCIPAL = "iam.amazonaws.com"
FEATURES = ("RootCredentialsManagement", "RootSessions")

DOCTOR_EPILOG = """exit status:
  0  every check passed (warnings allowed): a run would be complete
  2  a check failed: a run would be refused or its evidence incomplete (each failure says what to fix)
  3  a usage or runtime error (no credentials, a bad option)"""


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail | skipped
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        out = [f"  {self.status.upper():<7} {self.name}: {self.detail}"]
        if self.fix:
            out.append(f"          fix: {self.fix}")
        return out


@dataclass
class _Facts:
    caller: dict[str, str] | None = None
    management: str = ""
    delegated_admins: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # ACTIVE member accounts
    organization_id: str = ""
    can_assume_root: bool = False


def _caller(ctx: AwsContext, facts: _Facts) -> Check:
    try:
        facts.caller = ctx.caller()
    except Exception as exc:
        return Check("caller", FAIL, f"GetCallerIdentity failed: {error_text(exc)}",
                     "configure credentials: --profile, AWS_PROFILE, or `aws sso login`")
    arn = facts.caller["Arn"]
    if arn.endswith(":root"):
        return Check("caller", FAIL, f"{arn} is the root user",
                     "run as an IAM role or user in the management or delegated-administrator account "
                     "(AssumeRoot refuses root credentials)")
    return Check("caller", OK, arn)


def _account(ctx: AwsContext, facts: _Facts) -> Check:
    assert facts.caller is not None
    org = ctx.client("organizations")
    try:
        described = org.describe_organization()["Organization"]
        facts.management = described["MasterAccountId"]
        facts.organization_id = described["Id"]
        accounts, _ = paginate(org, "list_accounts", "Accounts")
        facts.members = tuple(sorted(a["Id"] for a in accounts
                                     if a["Id"] != facts.management and a.get("Status") == "ACTIVE"))
    except Exception as exc:
        return Check("account", FAIL, f"cannot read the organization: {error_text(exc)}",
                     "grant the runner policy (policies/runner-policy.json); run in the organization's "
                     "management account or its IAM delegated administrator")
    me = facts.caller["Account"]
    try:
        admins, _ = paginate(org, "list_delegated_administrators", "DelegatedAdministrators",
                             ServicePrincipal=IAM_PRINCIPAL)
        facts.delegated_admins = tuple(sorted(a["Id"] for a in admins))
    except Exception as exc:
        if me != facts.management:
            return Check("account", FAIL, f"cannot list the IAM delegated administrators: {error_text(exc)}",
                         "grant organizations:ListDelegatedAdministrators (policies/runner-policy.json)")
    members = f"{len(facts.members)} ACTIVE member accounts in {facts.organization_id}"
    if me == facts.management:
        return Check("account", OK, f"{me} is the management account; {members}")
    if me in facts.delegated_admins:
        return Check("account", OK, f"{me} is the IAM delegated administrator; {members}")
    return Check("account", FAIL, f"{me} is neither the management account ({facts.management}) nor the IAM "
                 "delegated administrator; AssumeRoot is refused elsewhere",
                 f"run from {facts.management}, or register this account: `aws organizations "
                 f"register-delegated-administrator --service-principal {IAM_PRINCIPAL} --account-id {me}`")


def _trusted_access(ctx: AwsContext) -> Check:
    try:
        enabled, _ = paginate(ctx.client("organizations"), "list_aws_service_access_for_organization",
                              "EnabledServicePrincipals")
    except Exception as exc:
        return Check("trusted access", FAIL, f"cannot read it: {error_text(exc)}",
                     "grant organizations:ListAWSServiceAccessForOrganization (policies/runner-policy.json)")
    if any(p.get("ServicePrincipal") == IAM_PRINCIPAL for p in enabled):
        return Check("trusted access", OK, f"{IAM_PRINCIPAL} has trusted access")
    return Check("trusted access", FAIL, f"{IAM_PRINCIPAL} has no trusted access in the organization",
                 "in the management account: `aws organizations enable-aws-service-access "
                 f"--service-principal {IAM_PRINCIPAL}`")


def _features(ctx: AwsContext) -> Check:
    try:
        enabled = set(ctx.client("iam").list_organizations_features().get("EnabledFeatures", []))
    except Exception as exc:
        return Check("root features", FAIL, f"ListOrganizationsFeatures failed: {error_text(exc)}",
                     "grant iam:ListOrganizationsFeatures; enable trusted access first")
    missing = [f for f in FEATURES if f not in enabled]
    if not missing:
        return Check("root features", OK, "RootCredentialsManagement and RootSessions are enabled")
    commands = {"RootCredentialsManagement": "`aws iam enable-organizations-root-credentials-management`",
                "RootSessions": "`aws iam enable-organizations-root-sessions`"}
    return Check("root features", FAIL, f"not enabled: {', '.join(missing)}",
                 "in the management account: " + " and ".join(commands[f] for f in missing))


def _assume_root(ctx: AwsContext, facts: _Facts) -> Check:
    if not facts.members:
        return Check("AssumeRoot", WARN, "no ACTIVE member account to try it on")
    target = facts.members[0]
    try:
        creds = ctx.assume_root(target)
    except Exception as exc:
        return Check("AssumeRoot", FAIL, f"refused in {target}: {error_text(exc)}",
                     "allow sts:AssumeRoot with the condition sts:TaskPolicyArn = "
                     "IAMAuditRootUserCredentials (policies/runner-policy.json), and enable RootSessions")
    try:
        ctx.client("iam", credentials=creds, account_id=target).get_account_summary()
    except Exception as exc:
        return Check("AssumeRoot", FAIL, f"the root session in {target} cannot read: {error_text(exc)}",
                     "check that the session uses the IAMAuditRootUserCredentials task policy")
    finally:
        ctx.forget(creds)
    facts.can_assume_root = True
    return Check("AssumeRoot", OK, f"a root session with IAMAuditRootUserCredentials works in {target}")


def _member_role(ctx: AwsContext, facts: _Facts, settings: CollectSettings, sample: int) -> Check:
    role = settings.fallback_role
    accounts = list(facts.members[:sample])
    if not accounts:
        return Check("member role", SKIP, "no member account sampled")
    refused = []
    for account in accounts:
        try:
            ctx.forget(ctx.assume_role(account, role, session_name="rootaudit-doctor"))
        except Exception as exc:
            refused.append(f"{account} ({error_text(exc)})")
    needed = settings.cloudtrail == "lookup" or not facts.can_assume_root
    if not refused:
        return Check("member role", OK, f"{role} can be assumed in {len(accounts)} of {len(accounts)} "
                     "sampled accounts")
    status = FAIL if needed else WARN
    why = ("LookupEvents is read in each member through it" if settings.cloudtrail == "lookup"
           else "it is the fallback where AssumeRoot cannot be used")
    return Check("member role", status, f"{role} cannot be assumed in {len(refused)} of {len(accounts)} "
                 f"sampled accounts: {'; '.join(refused)}; {why}",
                 "deploy it to every member with policies/member-role-stackset.yaml (a service-managed "
                 "StackSet), trusting this account")


def _cloudtrail(ctx: AwsContext, settings: CollectSettings, facts: _Facts, now: datetime) -> Check:
    from rootaudit.collectors.cloudtrail.continuity import continuity_rows
    from rootaudit.collectors.cloudtrail.discover import choose_source
    from rootaudit.collectors.cloudtrail.layout import org_base
    from rootaudit.collectors.cloudtrail.s3 import parse_s3_uri

    period = settings.period
    choice = choose_source(ctx, settings.cloudtrail, period, now=now)
    if choice.source == "lookup":
        if choice.gap:
            return Check("CloudTrail", FAIL, f"{choice.why}; a pack would not cover {choice.gap}",
                         "give --cloudtrail s3://bucket/prefix, the organization trail's bucket (or "
                         "create an organization trail), or choose a period within the last 90 days")
        return Check("CloudTrail", OK, f"{choice.why}; it covers {period.label}")
    if choice.source.startswith("athena://"):
        return _athena(ctx, choice.source, facts)
    if not choice.source.startswith("s3://"):
        return Check("CloudTrail", WARN,
                     f"{choice.source}: not checked by doctor (only s3://, athena:// and lookup are)")
    bucket, prefix = parse_s3_uri(choice.source)
    base = org_base(prefix, facts.organization_id)
    try:
        listed = ctx.client("s3").list_objects_v2(Bucket=bucket, Prefix=base, Delimiter="/", MaxKeys=5)
    except Exception as exc:
        return Check("CloudTrail", FAIL, f"cannot list s3://{bucket}/{base}: {error_text(exc)}",
                     "grant s3:ListBucket and s3:GetObject on the trail's bucket "
                     "(policies/runner-policy.json) and, if the bucket is encrypted with KMS, kms:Decrypt")
    if not listed.get("CommonPrefixes"):
        return Check("CloudTrail", FAIL, f"no account folders under s3://{bucket}/{base}",
                     "check the bucket and prefix (the trail's S3KeyPrefix) and the organization id")
    gaps = continuity_rows(lambda region: ctx.client("cloudtrail", region=region), choice.source, bucket,
                           prefix, period, ctx.region)
    if gaps:
        return Check("CloudTrail", FAIL, f"{choice.source}: " + "; ".join(r["reason"] for r in gaps),
                     "a pack for this period will show those times as not covered; collect from the "
                     "account that owns the trail, or choose a period the trail logged whole")
    return Check("CloudTrail", OK, f"{choice.source} ({choice.why}); the trail logged the whole of "
                 f"{period.label}")


def _athena(ctx: AwsContext, source: str, facts: _Facts) -> Check:
    """The table is there, is a CloudTrail table, and projects every account (no query is run)."""
    from rootaudit.collectors.cloudtrail.athena import CATALOG
    from rootaudit.collectors.cloudtrail.athena_query import TableInfo, parse_athena_uri

    try:
        _workgroup, database, table = parse_athena_uri(source)
        metadata = ctx.client("athena").get_table_metadata(CatalogName=CATALOG, DatabaseName=database,
                                                           TableName=table)["TableMetadata"]
    except Exception as exc:
        return Check("CloudTrail", FAIL, f"{source}: cannot read the table: {error_text(exc)}",
                     "grant athena:GetTableMetadata and glue:GetTable on it, or create it with "
                     "`rootaudit athena-ddl s3://bucket/prefix`")
    info = TableInfo.from_metadata(database, table, metadata)
    if missing := info.missing_columns():
        return Check("CloudTrail", FAIL, f"{source}: no column(s) {', '.join(missing)}: not a CloudTrail "
                     "table", "create one with `rootaudit athena-ddl s3://bucket/prefix`")
    accounts = sorted({a for a in (facts.management, *facts.members) if a})
    projected = info.projected(info.account_key)
    left_out = sorted(set(accounts) - set(projected)) if projected is not None else []
    if left_out:
        return Check("CloudTrail", FAIL, f"{source}: the table's partition projection leaves out "
                     f"{len(left_out)} account(s): {', '.join(left_out[:10])}"
                     + (" …" if len(left_out) > 10 else ""),
                     f"add them to projection.{info.account_key}.values (ALTER TABLE … SET TBLPROPERTIES), "
                     "or print a new table with `rootaudit athena-ddl`")
    unused = info.unused_partition_keys()
    restricted = [k for k in (info.account_key, info.region_key, *info.day_keys) if k]
    if unused or not info.day_keys:
        return Check("CloudTrail", WARN, f"{source}: the query cannot restrict "
                     + (f"partition key(s) {', '.join(unused)}" if unused else "the delivery day")
                     + ": it scans (and Athena bills) every value",
                     "partition the table by account, region and day (`rootaudit athena-ddl`)")
    return Check("CloudTrail", OK, f"{source}: a CloudTrail table, the query restricted by "
                 f"{', '.join(restricted)} (no query run by doctor)")


def doctor_checks(ctx: AwsContext, settings: CollectSettings, sample: int = 3,
                  now: datetime | None = None) -> list[Check]:
    now = now or datetime.now(UTC)
    facts = _Facts()
    checks = [_caller(ctx, facts)]
    names = ["account", "trusted access", "root features", "AssumeRoot", "member role", "CloudTrail"]
    if checks[0].status == FAIL:
        return checks + [Check(n, SKIP, "needs the caller") for n in names]
    checks.append(_account(ctx, facts))
    if checks[-1].status == FAIL and not facts.organization_id:
        return checks + [Check(n, SKIP, "needs the organization") for n in names[1:]]
    checks += [_trusted_access(ctx), _features(ctx), _assume_root(ctx, facts),
               _member_role(ctx, facts, settings, sample), _cloudtrail(ctx, settings, facts, now)]
    return checks


def run_doctor(ctx: AwsContext, settings: CollectSettings, out: Output, sample: int = 3) -> int:
    checks = doctor_checks(ctx, settings, sample)
    failed = [c for c in checks if c.status == FAIL]
    status = 2 if failed else 0
    lines = ["rootaudit doctor (read-only):", *(line for c in checks for line in c.lines())]
    outcome = Outcome("doctor", status,
                      f"{len(failed)} check(s) failed: a run would be refused or incomplete" if failed
                      else "a run would be complete",
                      next_step=("fix what the failed checks say, then run `rootaudit doctor` again" if failed
                                 else "`rootaudit run --out DIR` collects the period and writes the pack"),
                      details={"checks": [asdict(c) for c in checks], "period": settings.period.label})
    return out.finish(outcome, lines)

