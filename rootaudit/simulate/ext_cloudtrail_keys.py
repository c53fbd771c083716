"""cloudtrail:ListPublicKeys for the simulation (moto 5.2.5 does not implement it).

As the CloudTrail API reference describes it: the public keys whose private keys signed digest files in
[StartTime, EndTime] of the endpoint's region (both default to now), each with its DER value (PKCS#1),
validity and fingerprint; StartTime after EndTime is InvalidTimeRangeException. The keys are the
simulation's per-region signing keys (`trail_digests.region_key`), so every digest the simulated trail
wrote verifies against this answer.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from rootaudit.simulate.lookup_events import LookupError_, _time
from rootaudit.simulate.trail_digests import public_keys


def list_public_keys(region: str, params: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    moment = now or datetime.now(UTC)
    start = _time(params.get("StartTime")) or moment
    end = _time(params.get("EndTime")) or moment
    if start > end:
        raise LookupError_("InvalidTimeRangeException", "Start time must not be after end time.")
    return {
        "PublicKeyList": [
            {
                "Value": base64.b64encode(key.der).decode("ascii"),
                "ValidityStartTime": key.valid_from.timestamp(),
                "ValidityEndTime": key.valid_to.timestamp(),
                "Fingerprint": key.fingerprint,
            }
            for key in public_keys(region, start, end)
        ]
    }


def _list_public_keys(self: Any) -> str:
    """The moto response method: `self` is moto's CloudTrailResponse."""
    return json.dumps(list_public_keys(str(self.region), json.loads(self.body or "{}")))


_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.cloudtrail.responses import CloudTrailResponse

    CloudTrailResponse.list_public_keys = _list_public_keys  # type: ignore[attr-defined]
    _installed = True
