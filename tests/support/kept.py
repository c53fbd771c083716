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


def edited_is_named(result: Collected, period: Period, frame: str, column: str, value: str) -> str:
    """Re-derive the CloudTrail frames of `result` as kept (nothing named), then with the first row of
    `frame` given `value` in `column`: the one problem, which names the file and the row's event id."""
    from rootaudit.collectors.rederive import rederive_cloudtrail

    kept = as_kept(result, period)
    assert len(kept[frame]) and rederive_cloudtrail(kept) == []
    rows = kept.frames[frame]
    rows.loc[0, column] = value
    [problem] = rederive_cloudtrail(kept)
    assert problem.file == f"data/{frame}.csv"
    assert f"event_id {rows.loc[0, 'event_id']}" in problem.detail
    return problem.detail
