"""The IAM credential report, parsed totally: any input gives a root row, or a counted, reasoned rejection.

Pure: bytes in, a `ReportParse` out; no exception escapes `parse_credential_report`. The report's root row
(`user` = `<root_account>`) is what rootaudit reads; other rows are counted, not kept.

Values the report uses for "nothing to say" (`N/A`, `not_supported`, `no_information`, empty) become None,
booleans are read case-insensitively, and anything else that cannot be read is a named problem, never a
guess: a field that cannot be parsed makes that field unknown and is listed in `problems`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ROOT_USER = "<root_account>"

COLUMNS: tuple[str, ...] = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
    "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
    "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)
# Without these the root row cannot say anything about the root credentials it is read for.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "user", "arn", "mfa_active", "access_key_1_active", "access_key_2_active",
    "cert_1_active", "cert_2_active",
)

NO_VALUE = frozenset({"", "n/a", "not_supported", "no_information", "none", "null", "-"})


@dataclass(frozen=True)
class ReportKey:
    """An access key or signing certificate slot of the root row (the report does not give its id)."""

    slot: str  # access_key_1 | access_key_2 | cert_1 | cert_2
    active: bool
    last_rotated: str | None
    last_used_at: str | None = None
    last_used_service: str | None = None


@dataclass(frozen=True)
class RootRow:
    arn: str
    password_enabled: bool | None  # None: not_supported (always so for root) or unreadable
    password_last_used: str | None
    mfa_active: bool | None
    access_keys: tuple[ReportKey, ...]
    certificates: tuple[ReportKey, ...]
    unknown: tuple[str, ...] = ()  # credential fields whose state could not be read (never read as "none")


@dataclass
class ReportParse:
    root: RootRow | None = None
    rows_read: int = 0
    rows_rejected: int = 0
    rejection: str = ""  # why no root row could be read; empty when `root` is set
    problems: list[str] = field(default_factory=list)  # fields read as unknown, rows rejected

    @property
    def ok(self) -> bool:
        return self.root is not None


def parse_bool(value: Any) -> bool | None:
    """true/false in any case; None for the report's no-value markers and for anything else."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    low = value.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    return None


def parse_time(value: Any) -> str | None:
    """An ISO-8601 timestamp as UTC `...Z`, or None for no-value markers and unreadable text."""
    if not isinstance(value, str) or value.strip().lower() in NO_VALUE:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any) -> str | None:
    if not isinstance(value, str) or value.strip().lower() in NO_VALUE:
        return None
    return value.strip()


def _decode(content: Any) -> str | None:
    if isinstance(content, bytes | bytearray):
        try:
            return bytes(content).decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    return None


def parse_credential_report(content: Any, account_id: str = "") -> ReportParse:
    """The root row of a credential report, or why there is none. Never raises."""
    try:
        return _parse(content, account_id)
    except Exception as exc:  # totality: a parser bug becomes a reasoned rejection, not a crash
        return ReportParse(rejection=f"credential report could not be parsed ({type(exc).__name__}: {exc})")


def _parse(content: Any, account_id: str) -> ReportParse:
    text = _decode(content)
    if text is None:
        return ReportParse(rejection="credential report content is not UTF-8 text")
    if not text.strip():
        return ReportParse(rejection="credential report is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        return ReportParse(rejection=f"credential report has no readable header ({exc or 'empty'})")
    out = ReportParse()
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        out.rejection = f"credential report lacks column(s) {', '.join(missing)}"
        return out
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        out.problems.append(f"columns absent (read as unknown): {', '.join(absent)}")
    roots: list[dict[str, str]] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.rows_rejected += 1
            out.problems.append(f"row {out.rows_read + out.rows_rejected + 1}: unreadable CSV ({exc})")
            continue
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            out.rows_rejected += 1
            out.problems.append(f"row {out.rows_read + out.rows_rejected + 1}: {len(cells)} fields, "
                                f"header has {len(header)}")
            continue
        out.rows_read += 1
        row = dict(zip(header, cells, strict=True))
        if row.get("user", "").strip() == ROOT_USER:
            roots.append(row)
    if not roots:
        out.rejection = f"credential report has no {ROOT_USER} row ({out.rows_read} rows read)"
        return out
    if len(roots) > 1:
        out.rejection = f"credential report has {len(roots)} {ROOT_USER} rows; which one is true is unknown"
        return out
    out.root = _root_row(roots[0], account_id, out.problems)
    if out.root is None:
        out.rejection = "; ".join(out.problems[-1:]) or "root row unreadable"
    return out


def _root_row(row: dict[str, str], account_id: str, problems: list[str]) -> RootRow | None:
    arn = row.get("arn", "").strip()
    if account_id and arn != f"arn:aws:iam::{account_id}:root" and not (
            arn.endswith(f":iam::{account_id}:root") and arn.startswith("arn:")):
        problems.append(f"root row ARN {arn!r} is not account {account_id}'s root")
        return None

    def boolean(col: str) -> bool | None:
        raw = row.get(col)
        value = parse_bool(raw)
        if value is None and raw is not None and raw.strip().lower() not in NO_VALUE:
            problems.append(f"{col}={raw!r} is not true/false (read as unknown)")
        return value

    def timestamp(col: str) -> str | None:
        raw = row.get(col)
        value = parse_time(raw)
        if value is None and raw is not None and raw.strip().lower() not in NO_VALUE:
            problems.append(f"{col}={raw!r} is not a timestamp (read as unknown)")
        return value

    unknown: list[str] = []
    keys: list[ReportKey] = []
    for slot in ("access_key_1", "access_key_2"):
        key = _slot(slot, row, boolean(f"{slot}_active"), timestamp(f"{slot}_last_rotated"),
                    timestamp(f"{slot}_last_used_date"), _text(row.get(f"{slot}_last_used_service")), unknown)
        if key is not None:
            keys.append(key)
    certs: list[ReportKey] = []
    for slot in ("cert_1", "cert_2"):
        cert = _slot(slot, row, boolean(f"{slot}_active"), timestamp(f"{slot}_last_rotated"), None, None,
                     unknown)
        if cert is not None:
            certs.append(cert)
    mfa_active = boolean("mfa_active")
    if mfa_active is None:
        unknown.append(f"mfa_active ({row.get('mfa_active', 'column absent')!r})")
    return RootRow(arn=arn, password_enabled=boolean("password_enabled"),
                   password_last_used=timestamp("password_last_used"), mfa_active=mfa_active,
                   access_keys=tuple(keys), certificates=tuple(certs), unknown=tuple(unknown))


def _slot(slot: str, row: dict[str, str], active: bool | None, rotated: str | None, used: str | None,
          service: str | None, unknown: list[str]) -> ReportKey | None:
    """A key/cert slot that exists: active, or inactive with a rotation time or a recorded use. The IAM
    user guide writes `N/A` as last_rotated for any key that is not active, so an inactive key may show
    only its last use; one never used shows nothing at all (GetAccountSummary tells, see report_method)."""
    if active is None:
        raw = row.get(f"{slot}_active", "").strip().lower()
        if raw in ("", "n/a") and rotated is None:
            return None  # "not applicable" and never rotated: no such key
        unknown.append(f"{slot}_active ({row.get(f'{slot}_active', 'column absent')!r})")
        return None
    if active or rotated or used or service:
        return ReportKey(slot=slot, active=active, last_rotated=rotated, last_used_at=used,
                         last_used_service=service)
    return None
