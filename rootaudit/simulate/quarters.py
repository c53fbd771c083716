"""Two consecutive periods of one simulated organization, for the demo's history and the history tests.

The later period is the usual scenario (`build_scenario`), except that the invited account joins during
it. The earlier period is the organization as it stood at the end of the period before, consistent with
what the later period's trail records:
- the invited account had not joined yet (it arrives in the later period holding root credentials);
- the account whose password the later period creates through an IAMCreateRootUserPassword session had
  no password;
- the account the later period cleans through an IAMDeleteRootUserCredentials session still held its
  password, the access key that session deletes, and a virtual MFA device;
and its trail holds the earlier period's own events, less those of these three accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rootaudit.period import Period, parse_period
from rootaudit.simulate import events
from rootaudit.simulate.rootstate import RootAccessKey
from rootaudit.simulate.scenario import Scenario, build_scenario
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX

INVITED_KIND = "invited_password_virtual_mfa"
PASSWORD_CREATED_KIND = "password_no_mfa"
JOINS_AFTER = timedelta(days=10)  # the invited account joins this long into the later period


@dataclass(frozen=True)
class Quarters:
    earlier: Scenario
    later: Scenario
    invited: str | None  # account ids of the three changes (None when the organization is too small)
    password_created: str | None
    cleaned: str | None
    cleaned_key: str | None  # the access key the later period's clean-up deletes

    def earlier_exceptions(self) -> list[dict[str, str]]:
        """The risk acceptance the earlier period held for the account the later period cleans: it is
        withdrawn once the clean-up is done."""
        if not self.cleaned:
            return []
        return [{"id": "RISK-DEMO-3", "account": self.cleaned,
                 "reason": "Root password, key and MFA kept until the central clean-up of this account.",
                 "owner": "platform@example.com", "approver": "ciso@example.com", "ticket": "RISK-230",
                 "expires": (self.later.period.end + timedelta(days=180)).date().isoformat()}]


def previous_period(period: Period) -> Period:
    """The period just before: the previous quarter, month or year, or one as long ending at its start."""
    label = period.label
    if len(label) == 7 and label[4:6] == "-Q":
        year, quarter = int(label[:4]), int(label[6])
        return parse_period(f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}")
    if len(label) == 7 and label[4] == "-" and label[5:].isdigit():
        year, month = int(label[:4]), int(label[5:])
        return parse_period(f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}")
    if len(label) == 4 and label.isdigit():
        return parse_period(str(int(label) - 1))
    length = period.end - period.start
    start = period.start - length
    last = period.start - timedelta(days=1)
    return parse_period(start=start.strftime("%Y-%m-%d"), end=last.strftime("%Y-%m-%d"))


def _account_of(event: events.RootEvent) -> str:
    return str(getattr(event, "target_account", "") or getattr(event, "account_id", ""))


def _cleanup(later: Scenario) -> tuple[str | None, str | None]:
    """The account the later period's IAMDeleteRootUserCredentials session cleans, and the key it deletes."""
    for call in later.in_period():
        if isinstance(call, events.AssumeRootCall) and not call.error_code and \
                call.task_policy_arn == TASK_POLICY_PREFIX + "IAMDeleteRootUserCredentials":
            key = next((e.request_parameters.get("accessKeyId") for e in later.history
                        if isinstance(e, events.RootSessionAction) and e.access_key_id == call.access_key_id
                        and e.event_name == "DeleteAccessKey" and e.request_parameters), None)
            return call.target_account, key
    return None, None


def two_quarters(accounts: int, seed: int, period: Period) -> Quarters:
    later = build_scenario(accounts=accounts, seed=seed, period=period)
    earlier = build_scenario(accounts=accounts, seed=seed, period=previous_period(period))
    kinds = later.kinds()
    invited = later.by_kind(INVITED_KIND).account_id if INVITED_KIND in kinds else None
    created = later.by_kind(PASSWORD_CREATED_KIND).account_id if PASSWORD_CREATED_KIND in kinds else None
    cleaned, key = _cleanup(later)
    if invited:
        later.accounts[invited].joined_at = period.start + JOINS_AFTER
        del earlier.accounts[invited]
    for account_id, spec in earlier.accounts.items():  # one organization: the same join dates
        spec.joined_at = later.accounts[account_id].joined_at
    if created:
        root = earlier.accounts[created].root
        root.password, root.password_created, root.password_last_used = False, None, None
    if cleaned:
        root = earlier.accounts[cleaned].root
        joined: datetime = earlier.accounts[cleaned].joined_at
        root.password, root.password_created = True, joined + timedelta(days=1)
        root.password_last_used = earlier.period.start + timedelta(days=20)
        root.mfa, root.mfa_serial = "virtual", f"arn:aws:iam::{cleaned}:mfa/root-account-mfa-device"
        root.mfa_enabled_at = joined + timedelta(days=2)
        if key:
            root.access_keys.append(RootAccessKey(key, "Active", joined + timedelta(days=30),
                                                  joined + timedelta(days=60), "us-east-1", "ec2"))
    changed = {a for a in (invited, created, cleaned) if a}
    earlier = replace(earlier, history=[e for e in earlier.history if _account_of(e) not in changed])
    return Quarters(earlier=earlier, later=later, invited=invited, password_created=created, cleaned=cleaned,
                    cleaned_key=key)
