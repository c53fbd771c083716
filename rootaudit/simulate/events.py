"""What happened in the simulated organization that CloudTrail would record.

The simulation's vocabulary of root-related happenings, shared by the parts that make them
(the AssumeRoot and root-session extensions, which record live calls; the scenario, which seeds
the period's history) and the part that turns them into CloudTrail records (LookupEvents and the
organization trail's log files). Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AssumeRootCall:
    """A call to sts:AssumeRoot: recorded in the caller's account, in the STS endpoint's region."""

    event_id: str
    time: datetime
    region: str
    caller_account: str
    caller_arn: str
    caller_principal_id: str
    target_account: str
    task_policy_arn: str
    duration_seconds: int
    request_id: str
    access_key_id: str = ""  # ASIA… of the root session; empty when refused
    expiration: datetime | None = None
    error_code: str = ""  # e.g. AccessDenied; empty when it succeeded
    error_message: str = ""
    source_ip: str = "198.51.100.10"
    user_agent: str = "aws-cli/2.17.0"
    target_principal: str = ""  # as the caller wrote it (an account id or the member's ARN); "": the id
    duration_given: bool = True  # whether the caller passed DurationSeconds (the record shows it only then)
    caller_access_key_id: str = ""  # the key that signed the call (the record's userIdentity.accessKeyId)
    # The session token issued: CloudTrail's record carries it (responseElements.credentials.sessionToken);
    # the collector must never store it.
    session_token: str = field(default="", repr=False)


@dataclass(frozen=True)
class RootSessionAction:
    """A call made with a root session's credentials: recorded in the MEMBER account, naming no caller."""

    event_id: str
    time: datetime
    region: str  # IAM actions are recorded in us-east-1
    account_id: str
    access_key_id: str  # the ASIA… key of the AssumeRoot session
    event_source: str  # iam.amazonaws.com, s3.amazonaws.com, sqs.amazonaws.com
    event_name: str
    request_id: str
    request_parameters: dict[str, Any] | None = None
    error_code: str = ""  # AccessDenied for a call outside the task policy
    read_only: bool = True
    source_ip: str = "198.51.100.10"
    user_agent: str = "aws-cli/2.17.0"


@dataclass(frozen=True)
class RootConsoleLogin:
    """A root sign-in to the console (signin.amazonaws.com ConsoleLogin, accessKeyId "")."""

    event_id: str
    time: datetime
    account_id: str
    success: bool
    mfa_used: bool
    source_ip: str = "203.0.113.7"
    user_agent: str = "Mozilla/5.0 (X11; Linux x86_64)"
    region: str = "us-east-1"


@dataclass(frozen=True)
class RootKeyCall:
    """A call made with a long-term root access key (AKIA…)."""

    event_id: str
    time: datetime
    region: str
    account_id: str
    access_key_id: str
    event_source: str
    event_name: str
    request_id: str
    source_ip: str = "192.0.2.44"
    user_agent: str = "Boto3/1.34.0 Python/3.11"
    read_only: bool = True
    error_code: str = ""


RootEvent = AssumeRootCall | RootSessionAction | RootConsoleLogin | RootKeyCall


@dataclass
class EventLog:
    """Thread-safe, append-only record of every root-related happening, seeded or live."""

    _events: list[RootEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: RootEvent) -> None:
        with self._lock:
            self._events.append(event)

    def events(self) -> list[RootEvent]:
        with self._lock:
            return list(self._events)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


# One log for the process, as moto's backends are one per process.
EVENT_LOG = EventLog()
