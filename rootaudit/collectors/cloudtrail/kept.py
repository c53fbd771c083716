"""What the CloudTrail collectors keep raw, and the streams again from it.

The log files (or LookupEvents pages, or Athena rows) are too many to keep; what each stream observed
of them is kept instead (`cloudtrail/streams`): the files read with the SHA-256 of each, the events
counted, the relevant records each yielded (by event id, the records themselves in
`cloudtrail/root_records`), the items it could not read, and, for the file sources, every digest file
listed for its window (as downloaded, with its S3 signature metadata) and the public keys
ListPublicKeys gave for its region (`cloudtrail/list_public_keys/<region>`). The `sources` rows that
rest on no stream (listings that failed, accounts not in the trail, the trail's logging gaps) are kept
as the collector wrote them. The three frames are then a pure function of this (`results.collected`
builds them from it, and `verify` again): CloudTrail's validation of every file is re-performed from
the digests, whose signatures only AWS could have made; the file hashes and event counts are the
scan's, which only the log files themselves could confirm.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rootaudit.collectors.cloudtrail.integrity import DigestObject, PublicKey, ReadFile, check_stream
from rootaudit.snapshot import utc_iso

STREAMS = "cloudtrail/streams"
# CloudTrail writes a digest every hour for every account and region, about 2,200 a quarter each, some
# 440 bytes apiece as kept: 100 accounts in 17 regions would be 1.6 GB. The streams are kept whole, in
# order, while their digests fit this budget (about 9 MB); past it, a stream keeps what CloudTrail's
# validation found when it was collected (its `sources` rows and each event's file status), and `verify`
# says those were not re-checked.
DIGEST_BUDGET = 20_000
RECORDS = "cloudtrail/root_records"
PUBLIC_KEYS = "cloudtrail/list_public_keys"  # /<region>
_COUNTS = ("files_read", "pages_read", "events_read")


class KeptError(ValueError):
    """The raw responses a CloudTrail frame rests on are not in the snapshot (or not in their form)."""


def _digest_kept(obj: DigestObject) -> dict[str, Any]:
    kept: dict[str, Any] = {"key": obj.key, "signature": obj.signature,
                            "signature_algorithm": obj.signature_algorithm, "error": obj.error}
    if obj.data is not None:
        try:  # the JSON text compresses with its neighbours; the gzip bytes would not
            kept["content"] = zlib.decompress(obj.data, wbits=47).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            kept["data_base64"] = base64.b64encode(obj.data).decode("ascii")
    return kept


def _digest_of(kept: Mapping[str, Any]) -> DigestObject:
    data: bytes | None = None
    if isinstance(kept.get("content"), str):
        data = zlib.compress(kept["content"].encode("utf-8"))
    elif isinstance(kept.get("data_base64"), str):
        data = base64.b64decode(kept["data_base64"])
    return DigestObject(str(kept["key"]), data, kept.get("signature"), kept.get("signature_algorithm"),
                        str(kept.get("error") or ""))


def keys_kept(keys: Mapping[str, PublicKey] | str) -> dict[str, Any]:
    """A region's ListPublicKeys answer as kept: its keys, or why there are none."""
    if isinstance(keys, str):
        return {"Unavailable": keys}
    return {"PublicKeyList": [
        {"Fingerprint": fingerprint, "Value": base64.b64encode(key.der).decode("ascii"),
         "ValidityStartTime": utc_iso(key.valid_from), "ValidityEndTime": utc_iso(key.valid_to)}
        for fingerprint, key in sorted(keys.items())]}


def _moment(value: Any) -> datetime | None:
    text = utc_iso(value)
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def keys_of(kept: Mapping[str, Any]) -> Mapping[str, PublicKey] | str:
    if "Unavailable" in kept:
        return str(kept["Unavailable"])
    keys = kept.get("PublicKeyList") or []
    return {str(k["Fingerprint"]): PublicKey(base64.b64decode(k["Value"]),
                                             _moment(k.get("ValidityStartTime")),
                                             _moment(k.get("ValidityEndTime"))) for k in keys}


def kept_raw(tallies: Iterable[Any], other_rows: Iterable[Mapping[str, Any]], period: Any,
             digest_budget: int | None = None) -> dict[str, Any]:
    """The raw keys (besides the records) that the streams `tallies` and the other `sources` rows rest
    on; the streams' digests within `digest_budget` (see DIGEST_BUDGET)."""
    from rootaudit.collectors.cloudtrail.results import source_rows

    raw: dict[str, Any] = {}
    streams = []
    left = DIGEST_BUDGET if digest_budget is None else digest_budget
    for t in tallies:
        if t.digests is not None and len(t.digests) > left:
            validate(t)  # here, at collection: what it finds is kept, not what it was found from
            streams.append({
                "source": t.source, "account_id": t.account_id, "region": t.region,
                **{name: getattr(t, name) for name in _COUNTS},
                "event_ids": [str(r.get("eventID")) for r in t.records],
                "recorded": {"rows": source_rows([t], period),
                             "event_integrity": {e: t.file_status(e) for e in t.event_files},
                             "digests": len(t.digests)}})
            left = 0  # the streams after it are not kept whole either: which ones are is then plain
            continue
        if t.digests is not None:
            left -= len(t.digests)
        stream: dict[str, Any] = {
            "source": t.source, "account_id": t.account_id, "region": t.region,
            "covered_start": t.covered_start, "covered_end": t.covered_end,
            **{name: getattr(t, name) for name in _COUNTS},
            "problems": [dict(p) for p in t.problems],
            "event_ids": [str(r.get("eventID")) for r in t.records],
            "event_files": dict(t.event_files),
            "read_window": list(t.read_window) if t.read_window else None,
            "read_files": [[f.key, f.sha256, f.readable] for f in t.read_files],
        }
        if t.digests is not None:
            stream["digests"] = [_digest_kept(d) for d in t.digests]
            stream["bucket"] = t.bucket
            raw[f"{PUBLIC_KEYS}/{t.region}"] = keys_kept(t.keys)
        streams.append(stream)
    raw[STREAMS] = {"streams": streams, "other_rows": [dict(r) for r in other_rows]}
    return raw


def recorded_streams(raw: Mapping[str, Any]) -> list[str]:
    """The streams kept as their validation found them (past DIGEST_BUDGET): "account/region (N digests)"."""
    kept = raw.get(STREAMS)
    streams = kept.get("streams") if isinstance(kept, Mapping) else None
    return [f"{s.get('account_id')}/{s.get('region')} ({(s['recorded'] or {}).get('digests')} digests)"
            for s in streams or [] if isinstance(s, Mapping) and isinstance(s.get("recorded"), Mapping)]


def streams_from_raw(raw: Mapping[str, Any], period: Any) -> tuple[list[Any], list[dict[str, Any]]]:
    """The streams (`StreamTally`, CloudTrail's validation re-performed) and the other `sources` rows,
    from the kept raw responses; `KeptError` naming what is missing."""
    from rootaudit.collectors.cloudtrail.results import StreamTally

    kept = raw.get(STREAMS)
    if not isinstance(kept, Mapping):
        raise KeptError(f"the pack holds no {STREAMS} (data/raw/{STREAMS}.json.gz)")
    records = raw.get(RECORDS)
    if not isinstance(records, list):
        raise KeptError(f"the pack holds no {RECORDS} (data/raw/{RECORDS}.json.gz)")
    by_id: dict[str, Mapping[str, Any]] = {}
    for record in records:
        by_id.setdefault(str(record.get("eventID")), record)
    tallies = []
    for s in kept.get("streams") or []:
        t = StreamTally(source=s["source"], account_id=s["account_id"], region=s["region"],
                        covered_start=s.get("covered_start"), covered_end=s.get("covered_end"),
                        **{name: int(s.get(name) or 0) for name in _COUNTS})
        t.problems = [dict(p) for p in s.get("problems") or []]
        lacking = [e for e in s.get("event_ids") or [] if e not in by_id]
        if lacking:
            raise KeptError(f"stream {t.account_id}/{t.region} names event(s) {', '.join(lacking[:3])} that "
                            f"{RECORDS} does not hold")
        t.add_records([by_id[e] for e in s.get("event_ids") or []], period)
        if isinstance(s.get("recorded"), Mapping):
            t.recorded = dict(s["recorded"])
            tallies.append(t)
            continue
        t.event_files = {str(k): str(v) for k, v in (s.get("event_files") or {}).items()}
        window = s.get("read_window")
        t.read_window = (str(window[0]), str(window[1])) if window else None
        t.read_files = [ReadFile(str(k), str(h), bool(r)) for k, h, r in s.get("read_files") or []]
        if "digests" in s:
            keys = raw.get(f"{PUBLIC_KEYS}/{t.region}")
            if not isinstance(keys, Mapping):
                raise KeptError(f"the pack holds no {PUBLIC_KEYS}/{t.region} (the region's public keys, "
                                "which the digests' signatures are checked with)")
            t.digests, t.bucket = [_digest_of(d) for d in s["digests"]], s.get("bucket")
            t.keys = keys_of(keys)
        tallies.append(t)
    return tallies, [dict(r) for r in kept.get("other_rows") or []]


def validate(tally: Any) -> None:
    """CloudTrail's own validation of a file source's stream (`integrity.check_stream`), in place."""
    if tally.digests is None or tally.read_window is None or tally.integrity is not None:
        return
    window = (_moment(tally.read_window[0]), _moment(tally.read_window[1]))
    if window[0] is None or window[1] is None:
        raise KeptError(f"stream {tally.account_id}/{tally.region}: its read window is not kept")
    tally.integrity = check_stream(tally.bucket, tally.digests, tally.keys, tally.read_files,
                                   (window[0], window[1]))
