"""Audit periods: `2026-Q3`, `2026-09`, `2026`, or explicit start and end dates, as UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive
    end: datetime  # exclusive

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def as_meta(self) -> dict[str, str]:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        return {"label": self.label, "start": self.start.strftime(fmt), "end": self.end.strftime(fmt)}


class PeriodError(ValueError):
    pass


def _day(value: str) -> datetime:
    try:
        d = date.fromisoformat(value)
    except ValueError as exc:
        raise PeriodError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def parse_period(label: str | None = None, start: str | None = None, end: str | None = None,
                 today: date | None = None) -> Period:
    """A period from a label or from dates (end inclusive, as people write it). With neither, the last
    complete calendar quarter before `today`."""
    if label and (start or end):
        raise PeriodError("give --period or --start/--end, not both")
    if start or end:
        if not (start and end):
            raise PeriodError("--start and --end go together")
        s, e = _day(start), _day(end) + timedelta(days=1)
        if e <= s:
            raise PeriodError(f"the period ends ({end}) before it starts ({start})")
        return Period(f"{start}_{end}", s, e)
    if not label:
        today = today or datetime.now(UTC).date()
        q = (today.month - 1) // 3  # current quarter index 0..3
        year, q = (today.year, q) if q > 0 else (today.year - 1, 4)
        label = f"{year}-Q{q}"
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        y, q = int(m[1]), int(m[2])
        s = datetime(y, 3 * q - 2, 1, tzinfo=UTC)
        e = datetime(y + 1, 1, 1, tzinfo=UTC) if q == 4 else datetime(y, 3 * q + 1, 1, tzinfo=UTC)
        return Period(label, s, e)
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise PeriodError(f"no month {mo} in {label!r}")
        s = datetime(y, mo, 1, tzinfo=UTC)
        e = datetime(y + 1, 1, 1, tzinfo=UTC) if mo == 12 else datetime(y, mo + 1, 1, tzinfo=UTC)
        return Period(label, s, e)
    if re.fullmatch(r"\d{4}", label):
        y = int(label)
        return Period(label, datetime(y, 1, 1, tzinfo=UTC), datetime(y + 1, 1, 1, tzinfo=UTC))
    raise PeriodError(f"unknown period {label!r}: use 2026-Q3, 2026-09, 2026, or --start/--end")
