"""The frames' schemas, and the snapshot: frames + provenance, saved to and loaded from disk.

The snapshot is the boundary between AWS and everything after it. `collect` writes one;
`report` and `verify` read one with no AWS access. On disk it is a folder:

    snapshot.json            metadata (organization, period, caller, regions, sources, tool version, times)
    data/<frame>.csv         one CSV per frame, columns in schema order, rows in schema sort order
    data/raw/<key>.json.gz   raw API responses (secrets removed), gzip with a zero mtime
    snapshot.signature.json  the collection's signature of the digest, when collect signed it (outside
                             the digest: a signature cannot be inside what it signs; rootaudit.signing)

The same folder layout is what an evidence pack carries, so a pack can be loaded as a snapshot.

Column types are a small vocabulary, so that a CSV round trip gives back the same frame:
    str   text                      (pandas "string")
    bool  true / false / empty       (pandas "boolean")
    int   whole number / empty       (pandas "Int64")
    time  UTC ISO-8601 text, e.g. 2026-09-30T23:59:59Z   (kept as text: deterministic, sortable)
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rootaudit.atomic import OutputExists, Staging, output_lock, write_file_atomically
from rootaudit.bounded import PACK_LIMIT, InputTooLarge, MiB, check_folder_files

SCHEMA_VERSION = 1
SIGNATURE_FILE = "snapshot.signature.json"

# frame name -> ordered {column: type}. Declared here once; every stage reads it.
SCHEMAS: dict[str, dict[str, str]] = {
    "accounts": {
        "account_id": "str",
        "name": "str",
        "email": "str",
        "state": "str",  # PENDING_ACTIVATION | ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED | UNKNOWN
        "joined_method": "str",  # CREATED | INVITED
        "joined_at": "time",
        "ou_path": "str",  # OU names, root first: Root/Workloads/Prod (ids in the raw listings)
        "is_management": "bool",
        "is_delegated_admin": "bool",
        "security_contact": "str",  # registered | none | not_assessed
        "security_contact_reason": "str",
        # The listings that named the account (rootaudit/population.py: list_accounts, ou_walk,
        # list_parents, delegated_administrators, management_account, cloudtrail, root_credentials),
        # sorted, comma separated.
        "listed_by": "str",
        # Empty when ListAccounts and the OU tree both name the account; otherwise which listing named
        # it and which did not: the account is then not assessed, whatever else was read about it.
        "population_reason": "str",
    },
    "organization": {
        "organization_id": "str",
        "management_account_id": "str",
        "feature_set": "str",  # ALL | CONSOLIDATED_BILLING
        "iam_trusted_access": "bool",
        "root_credentials_management": "bool",  # NA = could not be read
        "root_sessions": "bool",
        "delegated_admins": "str",  # IAM delegated administrators' account ids, comma separated, sorted
        "caller_arn": "str",
        "caller_account": "str",
        "features_status": "str",  # assessed | not_assessed
        "features_reason": "str",
    },
    "root_credentials": {
        "account_id": "str",
        "assessment": "str",  # assessed | not_assessed
        "method": "str",  # assume_root_audit | credential_report | none
        "reason": "str",  # why not assessed, or what limits the assessment
        "password_present": "bool",  # NA when the method cannot tell (credential report: not_supported)
        "access_keys_active": "int",
        "access_keys_inactive": "int",
        "signing_certificates_active": "int",
        "signing_certificates_inactive": "int",
        "mfa_devices": "int",
        "mfa_kind": "str",  # none | virtual | hardware | unknown
        "password_last_used": "time",
        "access_key_last_used": "time",
        "source_time": "time",  # the time the source describes (report GeneratedTime, or call time)
        "collected_at": "time",
    },
    "root_credential_items": {
        "account_id": "str",
        "kind": "str",  # password | access_key | signing_certificate | mfa_device
        "id": "str",  # access key id, certificate id, MFA serial; "root" for the password
        "status": "str",  # Active | Inactive | present
        "created_at": "time",
        "last_used_at": "time",
        "last_used_service": "str",
    },
    "privileged_sessions": {
        "event_id": "str",
        "event_time": "time",
        "region": "str",
        "caller_arn": "str",
        "caller_account": "str",
        "source_ip": "str",
        "user_agent": "str",
        "target_account": "str",
        "task_policy": "str",  # the task policy's name, e.g. IAMAuditRootUserCredentials
        "error_code": "str",  # empty for a successful call
        "error_message": "str",
        "session_key_id": "str",  # ASIA… access key id of the root session
        "expires_at": "time",
        "member_action_count": "int",
        "member_actions": "str",  # the action names made with the session, in time order, "; " separated
        "justification": "str",  # filled at evaluation from the justifications file
        # file sources: CloudTrail's validation of the log file the record came from (validated,
        # hash_mismatch, …; docs/cloudtrail-integrity.md); empty for LookupEvents
        "log_file_integrity": "str",
        "source": "str",  # which event source the record came from
    },
    "root_activity": {
        "event_id": "str",
        "event_time": "time",
        "account_id": "str",
        "region": "str",
        "event_source": "str",
        "event_name": "str",
        "kind": "str",  # console_login | long_term_key | root_session | other
        "success": "bool",
        "error_code": "str",
        "mfa_used": "bool",
        "source_ip": "str",
        "user_agent": "str",
        "access_key_id": "str",
        "session_event_id": "str",  # the AssumeRoot event this root-session call belongs to
        "flag": "str",  # e.g. a root-session call with no AssumeRoot in the period
        "log_file_integrity": "str",  # as in privileged_sessions
        "source": "str",
        "basis": "str",  # the record's fields the kind rests on (markers, key prefix, userAgent)
    },
    "monitoring": {
        "account_id": "str",
        "region": "str",
        "trail_arn": "str",
        "is_organization_trail": "bool",
        "is_multi_region": "bool",
        "is_logging": "bool",
        "management_events": "bool",
        "log_file_validation": "bool",
        "log_group": "str",
        "metric_filter": "str",  # the filter's name
        "filter_pattern": "str",
        "matches_cis_pattern": "str",  # exact | equivalent | no
        "alarm": "str",
        "alarm_subscribers": "int",
        "eventbridge_rule": "str",
        "status": "str",  # assessed | not_assessed
        "reason": "str",
    },
    "sources": {
        "source": "str",  # lookup | s3://bucket/prefix | a local directory | athena://…
        "account_id": "str",
        "region": "str",
        "item": "str",  # a file key or page; "*" for the totals of a source, account and region
        "status": "str",  # read | skipped | partial | not_covered | failed
        "period_start": "time",
        "period_end": "time",
        "covered_start": "time",
        "covered_end": "time",
        "files_read": "int",
        "pages_read": "int",
        "events_read": "int",
        "events_in_period": "int",
        "events_out_of_period": "int",
        "events_matched": "int",
        "reason": "str",
        # file sources: the delivery times read (the period plus the stated grace window), and CloudTrail's
        # own validation (docs/cloudtrail-integrity.md); item rows at fault carry its statuses
        "read_start": "time",
        "read_end": "time",
        "files_validated": "int",
        "digests_read": "int",
        "digests_validated": "int",
    },
    "api_calls": {
        "time": "time",
        "account_id": "str",
        "region": "str",
        "service": "str",
        "operation": "str",
        "parameters": "str",  # JSON, secrets removed
        "request_id": "str",
        "outcome": "str",  # ok | error | refused (outside the read-only allowlist, never sent)
        "error_code": "str",
    },
}

# What a results set holds (made by controls, never collected).
RESULT_SCHEMAS: dict[str, dict[str, str]] = {
    "signals": {
        "scope": "str",  # organization | account
        "account_id": "str",  # empty for the organization
        "signal": "str",
        "value": "str",  # PASS | FAIL | NOT_APPLICABLE | NOT_ASSESSED | MANUAL (PACK_INTEGRITY only)
        "evidence": "str",
    },
    "control_results": {
        "framework": "str",
        "version": "str",
        "control_id": "str",
        "title": "str",
        "scope": "str",  # member_accounts | management_account | organization
        "account_id": "str",  # empty for an organization-level result
        "status": "str",  # PASS | FAIL | NOT_APPLICABLE | MANUAL | NOT_ASSESSED
        "rationale": "str",
        "basis": "str",  # published | rationale, with the source
        "exception_id": "str",  # the active exception that accepts this FAIL
        "exception_status": "str",  # accepted | "" ; never turns a FAIL into PASS
    },
    "exceptions": {
        "exception_id": "str",
        "account_id": "str",
        "control": "str",
        "reason": "str",
        "owner": "str",
        "approver": "str",
        "ticket": "str",
        "expires": "str",
        "status": "str",  # active | expired | malformed | unused
        "problem": "str",
    },
}

ALL_SCHEMAS: dict[str, dict[str, str]] = {**SCHEMAS, **RESULT_SCHEMAS}

# Row order of each frame, so that the same content always gives the same bytes.
SORT_KEYS: dict[str, list[str]] = {
    "accounts": ["account_id"],
    "organization": ["organization_id"],
    "root_credentials": ["account_id"],
    "root_credential_items": ["account_id", "kind", "id"],
    "privileged_sessions": ["event_time", "event_id"],
    "root_activity": ["event_time", "event_id"],
    "monitoring": ["account_id", "region", "trail_arn"],
    "sources": ["source", "account_id", "region", "item"],
    "api_calls": ["time", "account_id", "region", "service", "operation", "request_id"],
    "signals": ["scope", "account_id", "signal"],
    "control_results": ["framework", "version", "control_id", "account_id"],
    "exceptions": ["exception_id"],
}

# The columns that name a row, in the frames that hold one row per thing. Collection never writes two
# rows for one key; a snapshot that holds two (edited, or put together from two) leaves which one is
# true unknown, and whichever a reader happens to take last (a clean row after a dirty one) would win.
UNIQUE_KEYS: dict[str, list[str]] = {
    "accounts": ["account_id"],
    "organization": ["organization_id"],
    "root_credentials": ["account_id"],
    "root_credential_items": ["account_id", "kind", "id"],
    "privileged_sessions": ["event_id"],  # CloudTrail's eventID; collection keeps each event once
    "root_activity": ["event_id"],
}

_PANDAS_TYPES = {"str": "string", "bool": "boolean", "int": "Int64", "time": "string"}


class SchemaError(ValueError):
    """A frame that does not fit its schema: a programming error, never bad AWS data."""


class SnapshotLoadError(ValueError):
    """A snapshot on disk that cannot be read as one collection: e.g. two rows for one account."""


def duplicate_keys(name: str, frame: pd.DataFrame) -> list[str]:
    """The keys (`UNIQUE_KEYS`) that more than one row of the frame holds, each as `column=value, …`;
    and, for `organization`, more than one row at all."""
    keys = [k for k in UNIQUE_KEYS.get(name, []) if k in frame.columns]
    if not keys or not len(frame):
        return []
    twice = frame[frame.duplicated(keys, keep=False)]
    named = sorted({", ".join(f"{k}={'' if pd.isna(v) else v}" for k, v in zip(keys, row, strict=True))
                    for row in twice[keys].itertuples(index=False)})
    if name == "organization" and len(frame) > 1 and not named:
        named = [f"{len(frame)} rows for one organization ({', '.join(map(str, frame['organization_id']))})"]
    return named


def check_unique_keys(frames: Mapping[str, pd.DataFrame], where: str) -> None:
    """SnapshotLoadError naming the frame and the key when a keyed frame holds a key twice."""
    for name, frame in frames.items():
        twice = duplicate_keys(name, frame)
        if twice:
            shown = "; ".join(twice[:5]) + (f"; and {len(twice) - 5} more" if len(twice) > 5 else "")
            raise SnapshotLoadError(f"{where}: data/{name}.csv holds more than one row for {shown}; which "
                                    "one is true is unknown, so the snapshot is not read (collect again)")


def utc_iso(value: datetime | date | str | None) -> str | None:
    """UTC ISO-8601 with a Z, to the second: the one spelling of time in every frame."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime(value.year, value.month, value.day, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _coerce(series: pd.Series, kind: str) -> pd.Series:
    if kind == "bool":
        def to_bool(v: Any) -> Any:
            if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)) or v == "":
                return pd.NA
            if isinstance(v, str):
                low = v.strip().lower()
                if low in ("true", "1", "yes"):
                    return True
                if low in ("false", "0", "no"):
                    return False
                raise SchemaError(f"not a boolean: {v!r}")
            return bool(v)

        return series.map(to_bool).astype("boolean")
    if kind == "int":
        return pd.to_numeric(series.replace("", pd.NA), errors="raise").astype("Int64")
    if kind == "time":
        return series.map(lambda v: utc_iso(v) if isinstance(v, datetime | date) else v).replace(
            "", pd.NA).astype("string")
    return series.replace("", pd.NA).astype("string") if len(series) else series.astype("string")


def make_frame(name: str, rows: Iterable[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """A frame of the named schema from row dicts: unknown keys are an error, missing ones are NA.

    Rows come out in the schema's sort order, so equal content gives equal frames.
    """
    schema = ALL_SCHEMAS[name]
    rows = list(rows)
    for row in rows:
        unknown = set(row) - set(schema)
        if unknown:
            raise SchemaError(f"{name}: unknown column(s) {sorted(unknown)}")
    frame = pd.DataFrame.from_records(rows, columns=list(schema)) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in schema})
    return conform(name, frame)


def conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Check and coerce a frame to its schema: columns in order, types, sorted rows, fresh index."""
    schema = ALL_SCHEMAS[name]
    missing = [c for c in schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema]
    if missing or extra:
        raise SchemaError(f"{name}: missing columns {missing}, unexpected columns {extra}")
    out = pd.DataFrame({c: _coerce(frame[c].astype(object), t) for c, t in schema.items()})
    keys = [k for k in SORT_KEYS.get(name, []) if k in out.columns]
    if keys and len(out):
        out = out.sort_values(keys, kind="mergesort", na_position="first")
    return out.reset_index(drop=True)


# Rows turned into CSV text at a time: a million-row frame never becomes one string of every row.
CSV_ROWS_PER_CHUNK = 50_000


class _CsvField:
    """A value's CSV field text, quoted as the csv module quotes it (QUOTE_MINIMAL), computed once per
    distinct value: columns repeat a few values many times.

    The writer's line terminator is CRLF because Python 3.11's csv module quotes a field holding a line
    break only if the break is in its terminator: with LF alone, a bare CR in a value (an account name,
    say) went out unquoted and split the row when read back. Rows still end with LF."""

    def __init__(self) -> None:
        self._buf = io.StringIO()
        self._writer = csv.writer(self._buf, lineterminator="\r\n")

    def __call__(self, text: str) -> str:
        if text == "":
            return ""
        self._buf.seek(0)
        self._buf.truncate()
        self._writer.writerow([text])
        return self._buf.getvalue()[:-2]


def _csv_column(series: pd.Series, kind: str, field: _CsvField) -> np.ndarray:
    """Each value's field text: NA empty, booleans true/false, numbers and text as to_csv writes them."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if kind == "bool":
        texts = ["true" if u else "false" for u in uniques]
    else:
        texts = [field(str(u)) for u in uniques]
    # NA has the code -1: the last entry, empty
    return np.asarray([*texts, ""], dtype=object)[codes]


def frame_to_csv_bytes(name: str, frame: pd.DataFrame, rows_per_chunk: int = CSV_ROWS_PER_CHUNK) -> bytes:
    """Deterministic CSV: schema column order, true/false, NA as empty, LF line ends, UTF-8.

    The bytes are those of pandas' to_csv on the frame with NA as empty and booleans as true/false.
    Each distinct value of a column is quoted once (by the csv module itself), and rows are joined and
    encoded a chunk at a time, so the memory beyond the frame is the CSV's bytes and one chunk."""
    schema = ALL_SCHEMAS[name]
    frame = conform(name, frame)
    field = _CsvField()
    buf = io.BytesIO()
    buf.write((",".join(field(c) for c in schema) + "\n").encode("utf-8"))
    lone_column = len(schema) == 1
    for start in range(0, len(frame), max(rows_per_chunk, 1)):
        part = frame.iloc[start:start + rows_per_chunk]
        columns = [_csv_column(part[c], kind, field) for c, kind in schema.items()]
        if lone_column:  # the csv module writes a row of one empty field as "" (else it is a blank line)
            columns[0][columns[0] == ""] = '""'
        text = "\n".join(map(",".join, zip(*columns, strict=True))) + "\n"
        buf.write(text.encode("utf-8"))
    return buf.getvalue()


def frame_from_csv_bytes(name: str, data: bytes) -> pd.DataFrame:
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_filter=False)
    if frame.empty and len(frame.columns) == 0:
        frame = pd.DataFrame(columns=list(ALL_SCHEMAS[name]))
    return conform(name, frame)


def raw_to_bytes(obj: Any) -> bytes:
    """Gzipped canonical JSON with a zero mtime: the same object always gives the same bytes."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default, ensure_ascii=False)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=6) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return utc_iso(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


@dataclass
class Snapshot:
    """What `collect` produced: metadata, one frame per schema, and the raw responses behind them."""

    meta: dict[str, Any]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # "organizations/list_accounts" -> JSON-able
    # The signature record's bytes (SIGNATURE_FILE), carried as they are: not part of files() or digest().
    signature: bytes | None = None

    def __post_init__(self) -> None:
        for name in SCHEMAS:
            self.frames[name] = conform(name, self.frames[name]) if name in self.frames else make_frame(name)
        unknown = set(self.frames) - set(SCHEMAS)
        if unknown:
            raise SchemaError(f"snapshot: unknown frame(s) {sorted(unknown)}")
        self.meta.setdefault("schema_version", SCHEMA_VERSION)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def files(self) -> dict[str, bytes]:
        """Relative path -> bytes of every file of the snapshot, deterministic."""
        out: dict[str, bytes] = {
            "snapshot.json": (json.dumps(self.meta, sort_keys=True, indent=2, default=_json_default,
                                         ensure_ascii=False) + "\n").encode("utf-8")
        }
        for name in SCHEMAS:
            out[f"data/{name}.csv"] = frame_to_csv_bytes(name, self.frames[name])
        for key in sorted(self.raw):
            out[f"data/raw/{safe_relpath(key)}.json.gz"] = raw_to_bytes(self.raw[key])
        return out

    def digest(self) -> str:
        """SHA-256 over the snapshot's files (path and content, in path order)."""
        return digest_files(self.files())


def digest_files(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(files[path]).hexdigest().encode("ascii") + b"\n")
    return h.hexdigest()


def safe_relpath(key: str) -> str:
    """A raw-response key as a relative path that cannot leave its folder."""
    parts = [p for p in key.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    cleaned = ["".join(ch if ch.isalnum() or ch in "-_.=" else "_" for ch in p)[:120] for p in parts]
    if not cleaned:
        raise SchemaError(f"raw key {key!r} names no file")
    return "/".join(cleaned)


def write_files_atomically(files: Mapping[str, bytes], target: Path, replace: bool = True) -> None:
    """Write every file into a temporary folder beside `target`, then rename it into place (rootaudit.atomic).

    A failure or an interrupt part way leaves no folder at `target` that looks whole, and an older
    `target` as it was; with `replace`, the older one is deleted only once the new one is in place.
    """
    target = Path(target)
    with output_lock(target.parent), Staging(target.parent, target.name) as stage:
        staged = stage.write_tree(files)
        stage.publish({staged: target}, replace=replace)


def save_snapshot(snapshot: Snapshot, target: Path) -> Path:
    """Write the snapshot folder, replacing an older snapshot there; a folder that holds other things
    is never replaced (`collect --out ~` must not delete a home folder)."""
    target = Path(target)
    if target.is_dir() and any(target.iterdir()) and not (target / "snapshot.json").is_file():
        raise OutputExists(f"{target} is a folder that holds no rootaudit snapshot (no snapshot.json): "
                           "it is not replaced; give a new or empty folder")
    write_files_atomically(snapshot.files(), target)
    return target


def is_snapshot_file(rel: str) -> bool:
    """Whether a relative path is one of a snapshot's files (those its digest covers)."""
    if rel == "snapshot.json":
        return True
    if rel.startswith("data/raw/"):
        return rel.endswith(".json.gz")
    return rel.startswith("data/") and rel.count("/") == 1 and rel[5:-4] in SCHEMAS and rel.endswith(".csv")


class SnapshotFileError(ValueError):
    """One file of a snapshot that cannot be read; `path` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class SnapshotTooLarge(SnapshotFileError, SnapshotLoadError, InputTooLarge):
    """A raw response file that inflates past the snapshot's limit (`bounded.PACK_LIMIT`, the files
    uncompressed, in all); refused once the limit is passed, never inflated whole."""


def read_raw(rel: str, data: bytes, limit: int = PACK_LIMIT) -> Any:
    """A raw response file's JSON; a SnapshotFileError naming it when it is not gzipped JSON, and
    SnapshotTooLarge when it inflates to more than `limit` bytes."""
    return _raw_json(rel, _inflate(rel, data, limit))


def _inflate(rel: str, data: bytes, limit: int) -> bytes:
    # At most limit + 1 bytes come out: a few kilobytes of gzip can inflate to gigabytes. zlib, member by
    # member as gzip.decompress goes, since a GzipFile read of limit + 1 bytes allocates that much first.
    parts: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest:
            member = zlib.decompressobj(wbits=31)  # one gzip member, its CRC and length checked
            part = member.decompress(rest, limit + 1 - size)
            size += len(part)
            if size > limit:
                raise SnapshotTooLarge(rel, f"refused: inflated, the snapshot's files would hold more than "
                                       f"{PACK_LIMIT:,} bytes ({PACK_LIMIT // MiB} MiB), the most rootaudit "
                                       "reads")
            if not member.eof:
                raise zlib.error("incomplete or trailing gzip data")
            parts.append(part)
            rest = member.unused_data
    except zlib.error as exc:
        raise SnapshotFileError(rel, f"not a gzipped JSON response ({exc})") from exc
    return b"".join(parts)


def _raw_json(rel: str, text: bytes) -> Any:
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotFileError(rel, f"not a gzipped JSON response ({exc})") from exc


def _is_raw(rel: str) -> bool:
    return rel.startswith("data/raw/") and rel.endswith(".json.gz")


def snapshot_from_files(files: Mapping[str, bytes], where: str = "the snapshot") -> Snapshot:
    """A snapshot from its files (relative path -> bytes), as a folder or a pack holds them. A keyed
    frame holding one key twice (`UNIQUE_KEYS`) is a SnapshotLoadError, never read as either row."""
    if "snapshot.json" not in files:
        raise FileNotFoundError("no snapshot.json: is it a snapshot or pack folder?")
    try:
        meta = json.loads(files["snapshot.json"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotFileError("snapshot.json", f"not JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise SnapshotFileError("snapshot.json", "not a JSON object")
    frames: dict[str, pd.DataFrame] = {}
    for name in SCHEMAS:
        rel = f"data/{name}.csv"
        if rel not in files:
            raise FileNotFoundError(f"data/{name}.csv is missing; the snapshot is incomplete")
        try:
            frames[name] = frame_from_csv_bytes(name, files[rel])
        except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise SnapshotFileError(rel, f"not a {name} frame ({exc})") from exc
    check_unique_keys(frames, where)
    raw: dict[str, Any] = {}
    # The limit holds for the snapshot's files as they are read, raw responses inflated, in all.
    left = PACK_LIMIT - sum(len(data) for rel, data in files.items()
                            if is_snapshot_file(rel) and not _is_raw(rel))
    for rel in sorted(files):
        if _is_raw(rel):
            text = _inflate(rel, files[rel], max(left, 0))
            left -= len(text)
            raw[rel[len("data/raw/"): -len(".json.gz")]] = _raw_json(rel, text)
    return Snapshot(meta=meta, frames=frames, raw=raw, signature=files.get(SIGNATURE_FILE))


def load_snapshot(folder: Path) -> Snapshot:
    """Read a snapshot folder (or an evidence pack folder, which holds the same files). A keyed frame
    holding one key twice (`UNIQUE_KEYS`) is a SnapshotLoadError, never read as either row."""
    folder = Path(folder)
    if not (folder / "snapshot.json").is_file():
        raise FileNotFoundError(f"{folder} holds no snapshot.json: is it a snapshot or pack folder?")
    paths = {path.relative_to(folder).as_posix(): path
             for path in [folder / "snapshot.json", *sorted((folder / "data").rglob("*"))]}
    paths = {rel: path for rel, path in paths.items() if path.is_file() and is_snapshot_file(rel)}
    if (folder / SIGNATURE_FILE).is_file():
        paths[SIGNATURE_FILE] = folder / SIGNATURE_FILE
    check_folder_files(folder, paths.values())  # before any is read
    files = {rel: path.read_bytes() for rel, path in paths.items()}
    try:
        return snapshot_from_files(files, str(folder))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{folder}: {exc}") from exc
    except SnapshotFileError as exc:  # named with its folder, as the person gave it
        raise type(exc)(str(folder / exc.path), exc.message) from exc


def snapshot_digest_of(files: Mapping[str, bytes]) -> str:
    """The digest over the snapshot's files among `files`, as they are (not re-serialised)."""
    return digest_files({rel: data for rel, data in files.items() if is_snapshot_file(rel)})


def write_signature(folder: Path, data: bytes) -> Path:
    """The signature record beside snapshot.json, written to a temporary name and renamed into place."""
    return write_file_atomically(Path(folder) / SIGNATURE_FILE, data)


def cell_text(value: Any) -> str:
    """A frame value as the pack's CSV writes it: NA is "", booleans are true/false."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def frame_texts(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every row of `frame` as text (`cell_text`), to compare frames whatever their dtypes."""
    records = frame.astype(object).to_dict("records")
    return [{k: cell_text(v) for k, v in record.items()} for record in records]
