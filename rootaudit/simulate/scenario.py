"""Scenarios: a simulated organization described as plain data, deterministic from a seed.

A `Scenario` says what the simulated organization holds (accounts, OUs, root credential states, which
audits are refused, security contacts, the features) and what happened in the audit period (AssumeRoot
sessions and what they did, root sign-ins, a long-term root key's calls). Tests compare collected
frames against it; `SimulatedOrganization` seeds moto from it. Nothing here talks to moto.

The organization is mostly centrally cleaned accounts, plus one of each case an audit must tell apart
(see `SPECIAL_KINDS`). With fewer accounts than cases, the first cases in that order are kept.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rootaudit.period import Period, parse_period
from rootaudit.simulate import events
from rootaudit.simulate.rootstate import RootAccessKey, RootSigningCertificate, RootState
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

MANAGEMENT_ACCOUNT_ID = "123456789012"  # moto's default account: plain credentials act in it
DEFAULT_REGION = "us-east-1"
AUDIT_ROLE_NAME = "RootAuditReadOnly"  # the read-only role the credential-report fallback assumes
ADMIN_ROLE = "RootAccessAdmin"  # the role whose sessions called AssumeRoot in the seeded history

# Case label -> (account name, OU path). Order = priority when the organization is small.
SPECIAL_KINDS: dict[str, tuple[str, str]] = {
    "management": ("management", "Root"),
    "delegated_admin": ("security-tooling", "Root/Security"),
    "active_root_key": ("legacy-billing", "Root/Workloads/Prod"),
    "invited_password_virtual_mfa": ("acquired-analytics", "Root/Workloads/Prod/Acquired"),
    "password_hardware_mfa": ("payments-prod", "Root/Workloads/Prod"),
    "password_no_mfa": ("marketing-site", "Root/Workloads/NonProd"),
    "inactive_root_key": ("data-lake-dev", "Root/Workloads/NonProd"),
    "signing_certificate": ("mainframe-bridge", "Root/Workloads/Prod"),
    "assume_root_refused": ("partner-sandbox", "Root/Sandbox"),
    "audit_refused": ("research-isolated", "Root/Sandbox"),
    "suspended": ("retired-app", "Root/Suspended"),
    "pending_closure": ("old-poc", "Root/Suspended"),
}
CLEAN_OUS = ("Root/Workloads/Prod", "Root/Workloads/NonProd", "Root/Sandbox", "Root/Workloads/Prod/Acquired")
EXTRA_REGIONS = ("us-east-1", "eu-west-1")


@dataclass(frozen=True)
class TrailSpec:
    """The organization trail and its monitoring, for the cloudtrail helper to seed."""

    trail_name: str
    bucket: str
    prefix: str
    home_region: str
    log_group: str
    sns_topic: str
    subscriber_email: str
    regions: tuple[str, ...]
    account_id: str  # where the trail lives (the management account)
    metric_filter_name: str = "RootAccountUsage"
    alarm_name: str = "RootAccountUsageAlarm"
    # True: a digest every hour, empty ones included, as AWS writes them; False: only the hours with log
    # files, chained and covering the same time (cheap for a quarter of a large organization).
    hourly_digests: bool = False


@dataclass
class AccountSpec:
    """One account as the scenario declares it, with the root state an audit should find."""

    account_id: str
    name: str
    email: str
    state: str  # ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED (a test may set CLOSED)
    joined_method: str  # CREATED | INVITED
    joined_at: datetime
    ou_path: str  # "Root/Workloads/Prod"
    kind: str  # "clean" or a key of SPECIAL_KINDS
    root: RootState
    assume_root_refused: bool = False
    role_refused: bool = False
    security_contact: bool = True
    is_management: bool = False
    is_delegated_admin: bool = False

    @property
    def assessable_by_assume_root(self) -> bool:
        return not (self.is_management or self.assume_root_refused)


@dataclass
class Scenario:
    seed: int
    period: Period
    management_account_id: str
    delegated_admin_account_id: str | None
    accounts: dict[str, AccountSpec]  # by account id, management first
    ou_paths: tuple[str, ...]
    features: tuple[str, ...]  # IAM organization features enabled
    iam_trusted_access: bool
    history: list[events.RootEvent]
    trail: TrailSpec
    audit_role_name: str = AUDIT_ROLE_NAME
    region: str = DEFAULT_REGION
    regions: tuple[str, ...] = EXTRA_REGIONS

    def members(self) -> list[AccountSpec]:
        return [a for a in self.accounts.values() if not a.is_management]

    def account(self, account_id: str) -> AccountSpec:
        return self.accounts[account_id]

    def by_kind(self, kind: str) -> AccountSpec:
        """The (first) account of a case; KeyError when the organization is too small to hold it."""
        for spec in self.accounts.values():
            if spec.kind == kind:
                return spec
        raise KeyError(f"no {kind!r} account in a {len(self.accounts)}-account scenario")

    def kinds(self) -> set[str]:
        return {a.kind for a in self.accounts.values()}

    def events_of(self, kind: type) -> list[events.RootEvent]:
        return [e for e in self.history if isinstance(e, kind)]

    def in_period(self) -> Iterator[events.RootEvent]:
        return (e for e in self.history if self.period.contains(e.time))


# --- building -------------------------------------------------------------------------------------

class _Ids:
    """Deterministic, unique identifiers drawn from the scenario's random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = {MANAGEMENT_ACCOUNT_ID}

    def account(self) -> str:
        while True:
            candidate = str(self.rng.randrange(100_000_000_000, 999_999_999_999))
            if candidate not in self.seen:
                self.seen.add(candidate)
                return candidate

    def token(self, prefix: str, length: int = 16) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        while True:
            candidate = prefix + "".join(self.rng.choice(alphabet) for _ in range(length))
            if candidate not in self.seen:
                self.seen.add(candidate)
                return candidate

    def uuid(self) -> str:
        """A version-4 UUID drawn from the scenario's stream (uuid4() would not be reproducible)."""
        import uuid

        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _kinds_for(accounts: int, rng: random.Random) -> list[str]:
    specials = list(SPECIAL_KINDS)[:accounts]
    extra = accounts - len(specials)
    # At scale a few more legacy cases appear among the clean accounts (about 1 in 50), as in real estates.
    legacy = ("password_no_mfa", "inactive_root_key", "invited_password_virtual_mfa", "password_hardware_mfa")
    clean = ["clean" if rng.random() >= 0.02 else rng.choice(legacy) for _ in range(extra)]
    return specials + clean


def _root_state(kind: str, account_id: str, created: datetime, period: Period, ids: _Ids,
                rng: random.Random) -> RootState:
    state = RootState(account_id=account_id, created=created)
    mid = period.start + (period.end - period.start) / 2

    def password(last_used: datetime | None) -> None:
        state.password = True
        state.password_created = created + timedelta(days=1)
        state.password_last_used = last_used

    def virtual_mfa() -> None:
        state.mfa = "virtual"
        state.mfa_serial = f"arn:aws:iam::{account_id}:mfa/root-account-mfa-device"
        state.mfa_enabled_at = created + timedelta(days=2)

    if kind == "management":
        password(period.start - timedelta(days=40))
        state.mfa, state.mfa_serial = "hardware", f"GAHT{rng.randrange(10**7, 10**8)}"
        state.mfa_enabled_at = created + timedelta(days=1)
    elif kind == "invited_password_virtual_mfa":
        password(mid - timedelta(days=9))  # the successful console sign-in with MFA in the history
        virtual_mfa()
    elif kind == "password_hardware_mfa":
        password(None)  # never used since tracking began
        state.mfa, state.mfa_serial = "hardware", f"GAHT{rng.randrange(10**7, 10**8)}"
        state.mfa_enabled_at = created + timedelta(days=3)
    elif kind == "password_no_mfa":
        # Created in the period with IAMCreateRootUserPassword, then used without MFA.
        state.password = True
        state.password_created = mid - timedelta(days=20)
        state.password_last_used = mid - timedelta(days=3)
    elif kind == "active_root_key":
        state.access_keys.append(RootAccessKey(
            ids.token("AKIA"), "Active", created + timedelta(days=30), period.end - timedelta(days=6),
            "eu-west-1", "s3"))
    elif kind == "inactive_root_key":
        state.access_keys.append(RootAccessKey(
            ids.token("AKIA"), "Inactive", created + timedelta(days=10), created + timedelta(days=200),
            "us-east-1", "ec2"))
    elif kind == "signing_certificate":
        state.certificates.append(RootSigningCertificate(ids.token("", 32), "Active",
                                                         created + timedelta(days=15)))
    elif kind == "assume_root_refused":
        # Only the credential report (through the read-only role) can see this one.
        password(period.start + timedelta(days=12))
        virtual_mfa()
    elif kind == "audit_refused":
        password(None)  # present, but no audit can see it: it must come out not assessed
    return state


def build_scenario(accounts: int = 12, seed: int = 7, period: Period | None = None) -> Scenario:
    """A simulated organization of `accounts` accounts (management included), the same for the same seed
    and period. 1,000 accounts build in well under a second."""
    if not 1 <= accounts <= 5000:
        raise ValueError(f"accounts must be between 1 and 5000, got {accounts}")
    period = period or parse_period()
    rng = random.Random(seed)
    ids = _Ids(rng)
    kinds = _kinds_for(accounts, rng)
    specs: dict[str, AccountSpec] = {}
    clean_n = 0
    for kind in kinds:
        account_id = MANAGEMENT_ACCOUNT_ID if kind == "management" else ids.account()
        if kind in SPECIAL_KINDS and kind not in {s.kind for s in specs.values()}:
            name, ou = SPECIAL_KINDS[kind]
        else:
            clean_n += 1
            name, ou = f"workload-{clean_n:04d}", CLEAN_OUS[clean_n % len(CLEAN_OUS)]
        joined = period.start - timedelta(days=rng.randrange(200, 2500), seconds=rng.randrange(86400))
        root = _root_state(kind, account_id, joined, period, ids, rng)
        specs[account_id] = AccountSpec(
            account_id=account_id, name=name, email=f"aws+{name}@example.com",
            state={"suspended": "SUSPENDED", "pending_closure": "PENDING_CLOSURE"}.get(kind, "ACTIVE"),
            joined_method="INVITED" if kind.startswith("invited") else "CREATED",
            joined_at=joined, ou_path=ou, kind=kind, root=root,
            assume_root_refused=kind in ("assume_root_refused", "audit_refused"),
            role_refused=kind == "audit_refused",
            # A few accounts lack the SECURITY contact: the cases below and about 1 in 9 clean ones.
            security_contact=not (kind in ("password_no_mfa", "audit_refused")
                                  or (kind == "clean" and clean_n % 9 == 4)),
            is_management=kind == "management", is_delegated_admin=kind == "delegated_admin",
        )
    if MANAGEMENT_ACCOUNT_ID not in specs:  # accounts == 0 is refused above; keep management first
        raise AssertionError("the management account is always the first case")
    delegated = next((a.account_id for a in specs.values() if a.is_delegated_admin), None)
    ous = sorted({p for a in specs.values() for p in _ancestors(a.ou_path)} - {"Root"})
    trail = TrailSpec(
        trail_name="organization-trail", bucket=f"aws-cloudtrail-logs-{MANAGEMENT_ACCOUNT_ID}-org{seed}",
        prefix="org", home_region=DEFAULT_REGION, log_group="aws-cloudtrail-logs-organization",
        sns_topic="root-activity-alarms", subscriber_email="security-oncall@example.com",
        regions=EXTRA_REGIONS, account_id=MANAGEMENT_ACCOUNT_ID)
    scenario = Scenario(
        seed=seed, period=period, management_account_id=MANAGEMENT_ACCOUNT_ID,
        delegated_admin_account_id=delegated, accounts=specs, ou_paths=tuple(ous),
        features=("RootCredentialsManagement", "RootSessions"), iam_trusted_access=True,
        history=[], trail=trail)
    scenario.history = _history(scenario, ids, rng)
    return scenario


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


# --- the period's history -------------------------------------------------------------------------

@dataclass
class _Story:
    scenario: Scenario
    ids: _Ids
    rng: random.Random
    out: list[events.RootEvent] = field(default_factory=list)

    def caller(self, delegated: bool = False) -> tuple[str, str, str]:
        s = self.scenario
        account = s.delegated_admin_account_id if delegated and s.delegated_admin_account_id \
            else s.management_account_id
        who = "alice@example.com" if not delegated else "secops-automation"
        return account, f"arn:aws:sts::{account}:assumed-role/{ADMIN_ROLE}/{who}", \
            f"AROA{self.ids.token('', 17)}:{who}"

    def assume_root(self, when: datetime, target: str, task: str, actions: list[tuple[str, str, str, str]],
                    region: str = DEFAULT_REGION, delegated: bool = False, error: str = "") -> None:
        """An AssumeRoot call and the member-side actions (source, name, error, resource) made with it."""
        account, arn, principal = self.caller(delegated)
        key = "" if error else self.ids.token("ASIA")
        self.out.append(events.AssumeRootCall(
            event_id=self.ids.uuid(), time=when, region=region, caller_account=account, caller_arn=arn,
            caller_principal_id=principal, target_account=target, task_policy_arn=TASK_POLICY_PREFIX + task,
            duration_seconds=900, request_id=self.ids.uuid(), access_key_id=key,
            expiration=None if error else when + timedelta(seconds=900), error_code=error,
            # A token like AWS's (which CloudTrail records); derived from the key, not drawn from the
            # scenario's random stream, so adding it changed no other value of the scenario.
            session_token="" if error else "IQoJb3JpZ2luX2Vj" + hashlib.sha256(key.encode()).hexdigest() * 4,
            error_message=(f"User: {arn} is not authorized to perform: sts:AssumeRoot on resource: "
                           f"arn:aws:iam::{target}:root with an explicit deny in a service control policy"
                           if error else "")))
        for n, (source, name, err, resource) in enumerate(actions, start=1):
            params = {"accessKeyId": resource} if name.endswith("AccessKey") and resource else (
                {"bucketName": resource} if source.startswith("s3") and resource else (
                    {"queueUrl": resource} if source.startswith("sqs") and resource else None))
            self.out.append(events.RootSessionAction(
                event_id=self.ids.uuid(), time=when + timedelta(seconds=20 * n),
                region="us-east-1" if source == "iam.amazonaws.com" else region, account_id=target,
                access_key_id=key, event_source=source, event_name=name, request_id=self.ids.uuid(),
                request_parameters=params, error_code=err, read_only=name.startswith(("Get", "List"))))


def _history(s: Scenario, ids: _Ids, rng: random.Random) -> list[events.RootEvent]:
    story = _Story(s, ids, rng)
    start, end = s.period.start, s.period.end
    mid = start + (end - start) / 2
    # Sessions target accounts that hold no root credentials now (centrally cleaned); in a small
    # organization with no plain clean account, the delegated administrator's account stands in.
    clean = [a for a in s.members() if a.kind == "clean" and a.state == "ACTIVE"]
    admin = s.accounts.get(s.delegated_admin_account_id or "")
    if admin is not None:
        clean.append(admin)
    iam = "iam.amazonaws.com"

    def kind(name: str) -> AccountSpec | None:
        try:
            return s.by_kind(name)
        except KeyError:
            return None

    # A routine audit of a cleaned account, and one just before the period (outside it).
    audit_target = clean[0].account_id if clean else None
    if audit_target:
        audit = [(iam, "GetLoginProfile", "NoSuchEntity", ""), (iam, "ListAccessKeys", "", ""),
                 (iam, "ListMFADevices", "", ""), (iam, "ListSigningCertificates", "", ""),
                 (iam, "GetAccountSummary", "", "")]
        story.assume_root(start + timedelta(days=5, hours=9), audit_target, "IAMAuditRootUserCredentials",
                          audit, delegated=True)
        story.assume_root(start - timedelta(days=2, hours=3), audit_target, "IAMAuditRootUserCredentials",
                          audit[:2])
    # Central clean-up of an account that still had a password, a key and MFA; one call outside the task.
    cleaned = clean[1] if len(clean) > 1 else (clean[0] if clean else None)
    if cleaned:
        old_key = ids.token("AKIA")
        story.assume_root(start + timedelta(days=11, hours=14), cleaned.account_id,
                          "IAMDeleteRootUserCredentials",
                          [(iam, "ListAccessKeys", "", ""), (iam, "DeleteAccessKey", "", old_key),
                           (iam, "DeleteLoginProfile", "", ""), (iam, "DeactivateMFADevice", "", ""),
                           (iam, "CreateAccessKey", "AccessDenied", "")])
    # The password of marketing-site was created centrally, then used without MFA.
    no_mfa = kind("password_no_mfa")
    if no_mfa and no_mfa.root.password_created:
        story.assume_root(no_mfa.root.password_created, no_mfa.account_id, "IAMCreateRootUserPassword",
                          [(iam, "CreateLoginProfile", "", "")])
    # Unlocking a bucket policy and a queue policy that locked everyone out.
    unlock = clean[2] if len(clean) > 2 else (kind("password_hardware_mfa") or (clean[0] if clean else None))
    if unlock:
        bucket = f"{unlock.name}-artifacts"
        story.assume_root(mid + timedelta(days=4, hours=2), unlock.account_id, "S3UnlockBucketPolicy",
                          [("s3.amazonaws.com", "GetBucketPolicy", "", bucket),
                           ("s3.amazonaws.com", "DeleteBucketPolicy", "", bucket)], region="eu-west-1")
        queue = f"https://sqs.eu-west-1.amazonaws.com/{unlock.account_id}/{unlock.name}-events"
        story.assume_root(mid + timedelta(days=6, hours=16), unlock.account_id, "SQSUnlockQueuePolicy",
                          [("sqs.amazonaws.com", "GetQueueAttributes", "", queue),
                           ("sqs.amazonaws.com", "SetQueueAttributes", "", queue)], region="eu-west-1")
    # The refused one: an SCP denies AssumeRoot into partner-sandbox.
    refused = kind("assume_root_refused")
    if refused:
        story.assume_root(mid + timedelta(days=1, hours=8), refused.account_id, "IAMAuditRootUserCredentials",
                          [], error="AccessDenied")
    # Root console sign-ins: with MFA (success), a failure, and without MFA (success); one after the period.
    with_mfa = kind("invited_password_virtual_mfa")
    if with_mfa and with_mfa.root.password_last_used:
        story.out.append(events.RootConsoleLogin(ids.uuid(), with_mfa.root.password_last_used,
                                                 with_mfa.account_id, success=True, mfa_used=True))
    if no_mfa and no_mfa.root.password_last_used:
        story.out.append(events.RootConsoleLogin(ids.uuid(), no_mfa.root.password_last_used - timedelta(
            minutes=3), no_mfa.account_id, success=False, mfa_used=False, source_ip="203.0.113.99"))
        story.out.append(events.RootConsoleLogin(ids.uuid(), no_mfa.root.password_last_used,
                                                 no_mfa.account_id, success=True, mfa_used=False))
    mgmt = s.accounts[s.management_account_id]
    story.out.append(events.RootConsoleLogin(ids.uuid(), end + timedelta(days=1, hours=4),
                                             mgmt.account_id, success=True, mfa_used=True))
    # A call with the long-term root key, at the key's last use.
    keyed = kind("active_root_key")
    if keyed and keyed.root.access_keys and keyed.root.access_keys[0].last_used:
        key = keyed.root.access_keys[0]
        assert key.last_used is not None
        story.out.append(events.RootKeyCall(
            ids.uuid(), key.last_used, key.last_used_region, keyed.account_id, key.key_id,
            "s3.amazonaws.com", "ListBuckets", ids.uuid()))
    return sorted(story.out, key=lambda e: e.time)
