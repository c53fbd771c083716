"""Which parts of the period a trail did not log, from its GetTrailStatus answer."""

from __future__ import annotations

from datetime import UTC, datetime

from rootaudit.collectors.cloudtrail.continuity import logging_gaps
from rootaudit.period import parse_period

Q3 = parse_period("2026-Q3")


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def test_a_trail_logging_since_before_the_period_leaves_no_gap() -> None:
    assert logging_gaps({"IsLogging": True, "StartLoggingTime": at(1, 1)}, Q3) == []


def test_a_trail_started_in_the_period_leaves_the_time_before_uncovered() -> None:
    [(start, end, why)] = logging_gaps({"IsLogging": True, "StartLoggingTime": at(8, 15)}, Q3)
    assert (start, end) == (Q3.start, at(8, 15))
    assert "latest start" in why


def test_a_stopped_trail_leaves_the_time_after_uncovered() -> None:
    [(start, end, why)] = logging_gaps(
        {"IsLogging": False, "StartLoggingTime": at(1, 1), "StopLoggingTime": at(9, 1)}, Q3)
    assert (start, end) == (at(9, 1), Q3.end)
    assert "stopped" in why


def test_stopped_before_the_period_leaves_all_of_it_uncovered() -> None:
    gaps = logging_gaps({"IsLogging": False, "StartLoggingTime": at(1, 1), "StopLoggingTime": at(2, 1)}, Q3)
    assert [(s, e) for s, e, _ in gaps] == [(Q3.start, Q3.end)]


def test_no_logging_record_at_all_is_a_whole_gap() -> None:
    assert [(s, e) for s, e, _ in logging_gaps({"IsLogging": False}, Q3)] == [(Q3.start, Q3.end)]


def test_epoch_seconds_as_the_api_model_may_give_them_are_read() -> None:
    started = at(8, 15).timestamp()
    [(start, _, _)] = logging_gaps({"IsLogging": True, "StartLoggingTime": started}, Q3)
    assert start == Q3.start
