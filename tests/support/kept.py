"""A collector's result as a pack keeps it: its raw responses through JSON (as data/raw/ holds them), so
that re-deriving from them meets what verify meets."""

from __future__ import annotations

import json

from rootaudit.collectors import Collected
from rootaudit.period import Period
from rootaudit.snapshot import Snapshot, _json_default


def as_kept(result: Collected, period: Period) -> Snapshot:
    raw = {key: json.loads(json.dumps(value, default=_json_default)) for key, value in result.raw.items()}
    return Snapshot(meta={"period": period.as_meta()}, frames=dict(result.frames), raw=raw)
