"""What the root-credential modules share: an account's outcome, its deadline, rows, and error reasons."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from rootaudit.aws import IncompleteAnswer, error_matches, error_text

ASSESSED = "assessed"
NOT_ASSESSED = "not_assessed"
ASSUME_ROOT_AUDIT = "assume_root_audit"
CREDENTIAL_REPORT = "credential_report"
NO_METHOD = "none"

THROTTLING_CODES = ("Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
                    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
                    "SlowDown", "ProvisionedThroughputExceededException")
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
                       "AuthorizationError", "Forbidden")


class AccountTimedOut(Exception):
    """The account's time budget ran out; what was read so far is not presented as a result."""


class ReportNotReady(Exception):
    """The credential report did not become available within the wait bound."""


@dataclass(frozen=True)
class Deadline:
    at: float  # on `clock`
    seconds: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, seconds, clock)

    def remaining(self) -> float:
        return self.at - self.clock()

    def check(self, doing: str) -> None:
        if self.remaining() <= 0:
            raise AccountTimedOut(f"the account's {self.seconds:g} s budget ran out before {doing}")


@dataclass(frozen=True)
class Clock:
    """The time source of waits and budgets: the system's, or a test's (which then never sleeps for real)."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


SYSTEM_CLOCK = Clock()


@dataclass
class AccountOutcome:
    """One account's `root_credentials` row, its `root_credential_items` rows, and raw responses."""

    row: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None  # what the console is told when the outcome is accepted


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def not_assessed(account_id: str, reason: str, raw: dict[str, Any] | None = None) -> AccountOutcome:
    return AccountOutcome(row={"account_id": account_id, "assessment": NOT_ASSESSED, "method": NO_METHOD,
                               "reason": reason, "collected_at": now_iso()}, raw=raw or {})


def operation_of(exc: BaseException) -> str:
    name = getattr(exc, "operation_name", "") or ""
    return name or "a call"


def is_throttling(exc: BaseException) -> bool:
    return error_matches(exc, *THROTTLING_CODES)


def is_access_denied(exc: BaseException) -> bool:
    return error_matches(exc, *ACCESS_DENIED_CODES)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, ReadTimeoutError | ConnectTimeoutError | AccountTimedOut)


def failure_reason(exc: BaseException, doing: str, max_attempts: int) -> str:
    """A reason a person can act on, for an AWS call that failed while `doing` something."""
    op = operation_of(exc)
    if is_throttling(exc):
        return (f"throttled by AWS on {op} while {doing}, still after {max_attempts} attempts with adaptive "
                f"retries ({error_text(exc)}); re-run later or with fewer workers")
    if isinstance(exc, AccountTimedOut):
        return str(exc)
    if isinstance(exc, IncompleteAnswer):
        return (f"{exc} while {doing}; what it leaves out is unknown, so it is not read as \"none\" "
                "(re-run; if it persists, raise it with AWS Support)")
    if is_timeout(exc):
        return f"{op} timed out while {doing} ({error_text(exc)}); check connectivity and re-run"
    if isinstance(exc, ClientError | BotoCoreError):
        return f"{op} failed while {doing} ({error_text(exc)})"
    return f"unexpected {type(exc).__name__} while {doing}: {exc}"
