"""cloudtrail:LookupEvents for the simulation (moto 5.2.5 does not implement it).

What it answers, per account and region (the caller's account, the endpoint's region): the records of
`events.EVENT_LOG` (seeded history and live AssumeRoot / root-session calls) plus any records seeded
with `add_records` (noise), as AWS does:
- exactly one LookupAttribute per call; more, or an unknown key, is InvalidLookupAttributesException;
- MaxResults 1..50 (default 50), else InvalidMaxResultsException;
- StartTime after EndTime is InvalidTimeRangeException; both bounds are inclusive;
- only the last 90 days: older events are not returned. A StartTime older than 90 days is not an
  error (AWS documents none for it); the answer simply holds nothing older than 90 days;
- newest first, paged with NextToken; a token reused with other parameters is InvalidNextTokenException;
- EventCategory "insight" returns nothing here (no Insights in the simulation); another value is
  InvalidEventCategoryException.
Each event carries the raw record as a JSON string in CloudTrailEvent.

Seeded records live on moto's cloudtrail backend object, so a moto reset clears them with everything else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.exceptions import JsonRESTError

from rootaudit.simulate import events
from rootaudit.simulate.trail_records import lookup_event, lookup_resources, lookup_username, record_for

RETENTION = timedelta(days=90)
ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
_STORE_ATTR = "_rootaudit_lookup_records"


def _real_now() -> datetime:
    return datetime.now(UTC)


# The simulation's clock for the 90-day window; tests may replace it (set_clock).
_clock: Callable[[], datetime] = _real_now


def set_clock(clock: Callable[[], datetime] | None) -> None:
    global _clock
    _clock = clock or _real_now


class LookupError_(JsonRESTError):
    code = 400

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(error_type, message)


def _backend(account_id: str, region: str) -> Any:
    from moto.cloudtrail.models import cloudtrail_backends

    return cloudtrail_backends[account_id][region]


def add_records(records: Iterable[dict[str, Any]]) -> None:
    """Seed records for LookupEvents, each in its recipientAccountId and awsRegion."""
    for record in records:
        backend = _backend(str(record["recipientAccountId"]), str(record["awsRegion"]))
        store = getattr(backend, _STORE_ATTR, None)
        if store is None:
            store = []
            setattr(backend, _STORE_ATTR, store)
        store.append(record)


def records_for(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every record event history holds for the account and region, whatever its age."""
    out = [
        r
        for r in (record_for(e) for e in events.EVENT_LOG.events())
        if r["recipientAccountId"] == account_id and r["awsRegion"] == region
    ]
    out.extend(getattr(_backend(account_id, region), _STORE_ATTR, []))
    return out


def _matches(record: dict[str, Any], key: str, value: str) -> bool:
    if key == "EventId":
        return record.get("eventID") == value
    if key == "EventName":
        return record.get("eventName") == value
    if key == "EventSource":
        return record.get("eventSource") == value
    if key == "ReadOnly":
        return ("true" if record.get("readOnly") else "false") == value.lower()
    if key == "Username":
        return lookup_username(record) == value
    if key == "AccessKeyId":
        return (record.get("userIdentity") or {}).get("accessKeyId") == value
    if key == "ResourceType":
        return any(r["ResourceType"] == value for r in lookup_resources(record))
    if key == "ResourceName":
        return any(r["ResourceName"] == value for r in lookup_resources(record))
    return False


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _token(offset: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fingerprint}).encode()).decode()


def _untoken(token: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, used = int(data["o"]), str(data["f"])
    except (ValueError, KeyError, TypeError) as exc:
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.") from exc
    if used != fingerprint:
        raise LookupError_(
            "InvalidNextTokenException",
            "The NextToken was used with parameters other than those of the original call.",
        )
    return offset


def lookup(account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """The LookupEvents answer for request parameters `params` (the JSON body)."""
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise LookupError_(
            "InvalidLookupAttributesException", "You can specify only one lookup attribute per request."
        )
    for attribute in attributes:
        if attribute.get("AttributeKey") not in ATTRIBUTE_KEYS:
            raise LookupError_(
                "InvalidLookupAttributesException",
                f"Invalid lookup attribute key: {attribute.get('AttributeKey')}",
            )
    category = params.get("EventCategory")
    if category not in (None, "insight"):
        raise LookupError_("InvalidEventCategoryException", f"Invalid event category: {category}")
    max_results = int(params.get("MaxResults") or 50)
    if not 1 <= max_results <= 50:
        raise LookupError_("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    now = _clock()
    start, end = _time(params.get("StartTime")), _time(params.get("EndTime"))
    if start and end and start > end:
        raise LookupError_("InvalidTimeRangeException", "Start time must not be after end time.")
    fingerprint = hashlib.sha256(
        json.dumps(
            {k: v for k, v in params.items() if k != "NextToken"}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:16]
    offset = _untoken(params["NextToken"], fingerprint) if params.get("NextToken") else 0
    if category == "insight":
        return {"Events": []}
    oldest = now - RETENTION
    lower = max(oldest, start) if start else oldest
    upper = min(now, end) if end else now
    selected = []
    for record in records_for(account_id, region):
        moment = _time(record["eventTime"])
        if moment is None or not lower <= moment <= upper:
            continue
        if attributes and not _matches(
            record, attributes[0]["AttributeKey"], str(attributes[0]["AttributeValue"])
        ):
            continue
        selected.append(record)
    selected.sort(key=lambda r: (r["eventTime"], r["eventID"]), reverse=True)
    page = selected[offset : offset + max_results]
    answer: dict[str, Any] = {"Events": [lookup_event(r) for r in page]}
    if offset + max_results < len(selected):
        answer["NextToken"] = _token(offset + max_results, fingerprint)
    return answer


def _lookup_events(self: Any) -> str:
    """The moto response method: `self` is moto's CloudTrailResponse."""
    params = json.loads(self.body or "{}")
    return json.dumps(lookup(str(self.current_account), str(self.region), params))


_installed = False


def install() -> None:
    """Teach moto's CloudTrail LookupEvents (works under mock_aws and in server mode)."""
    global _installed
    if _installed:
        return
    from moto.cloudtrail.responses import CloudTrailResponse

    CloudTrailResponse.lookup_events = _lookup_events  # type: ignore[attr-defined]
    _installed = True
