"""What the history keeps of one evidence pack: a `PackRecord`, read from the pack's own files.

A record holds the organization, the period, the collection time, the pack's digest (the SHA-256 of its
manifest.json, which covers every other file), the headline counts, every control result and every
account's root-credential state, the organization's features and the risk acceptances. It is made the
same way from a pack on disk (a folder or its zip: `read_pack`, `record_from_files`) and, while a pack
is being written, from the snapshot and results in memory (`record_of`): so what `report` records and
what `history --rebuild` reads back from the pack are the same.

The `Ledger` (the AssumeRoot sessions and root activity of the pack's period) is read beside it: `diff`
names the session or sign-in behind a change from it. The store does not keep it; the packs do.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from rootaudit.bounded import InputTooLarge, check_folder_files, check_zip_members
from rootaudit.controls.signals import headline as compute_headline
from rootaudit.history.rules import PACK_MAPPINGS, control_rules
from rootaudit.snapshot import Snapshot, frame_from_csv_bytes, frame_texts

MANIFEST = "manifest.json"
SNAPSHOT_META = "snapshot.json"
SNAPSHOT_FRAMES = ("accounts", "organization", "root_credentials", "root_credential_items")
RESULT_FRAMES = ("control_results", "exceptions")
LEDGER_FRAMES = ("privileged_sessions", "root_activity")
PACK_FILES = (MANIFEST, SNAPSHOT_META,
              *(f"data/{name}.csv" for name in (*SNAPSHOT_FRAMES, *RESULT_FRAMES, *LEDGER_FRAMES)))
FEATURE_COLUMNS = ("feature_set", "iam_trusted_access", "root_credentials_management", "root_sessions",
                   "delegated_admins", "features_status")
HEADLINE_KEYS = ("member_accounts", "assessed", "not_assessed", "with_active_root_credentials", "clean",
                 "claim_made", "claim")


class PackReadError(ValueError):
    """The path is not a pack the history can read; the message names the file."""


@dataclass(frozen=True)
class AccountState:
    """One account's place in the organization and its root-credential state at collection."""

    account_id: str
    name: str
    state: str  # ACTIVE | SUSPENDED | …
    ou_path: str
    joined_method: str
    is_management: bool
    root: str  # active | clean | not_assessed | unknown (assessed, password presence not visible)
    detail: str  # the active credentials, or why the account is not assessed
    credentials: tuple[tuple[str, str, str], ...]  # (kind, id, status), sorted; empty when not assessed
    method: str = ""  # how root was read: assume_root_audit | credential_report | none ("" unknown)


@dataclass(frozen=True)
class ControlState:
    framework: str
    version: str
    control_id: str
    title: str
    account_id: str  # "" for the organization-level result
    status: str
    exception_id: str
    exception_status: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.framework, self.version, self.control_id, self.account_id)

    @property
    def label(self) -> str:
        return f"{self.framework} {self.version} {self.control_id}"

    @property
    def shown_status(self) -> str:
        return f"{self.status} ({self.exception_status})" if self.exception_status else self.status


@dataclass(frozen=True)
class ExceptionState:
    exception_id: str
    account_id: str
    control: str
    status: str  # active | expired | malformed | unused
    expires: str
    ticket: str
    owner: str


@dataclass(frozen=True)
class PackRecord:
    digest: str  # SHA-256 of the pack's manifest.json: the pack's identity in the history
    snapshot_digest: str
    organization_id: str
    period: str
    period_start: str
    period_end: str
    collected_at: str
    tool_version: str
    headline: dict[str, Any]
    features: dict[str, str]
    accounts: tuple[AccountState, ...]
    controls: tuple[ControlState, ...]
    exceptions: tuple[ExceptionState, ...]
    source: str = ""  # where it was recorded from (a path); not part of the pack's identity
    # (framework, version, control id) -> the control's rule as the pack's mapping files say
    # (history.rules); empty for packs recorded before the history kept them
    rules: Mapping[tuple[str, str, str], str] = field(default_factory=dict)

    @property
    def order(self) -> tuple[str, str, str]:
        """Packs are ordered by period, then by collection time."""
        return (self.period_start, self.collected_at, self.digest)

    def account(self, account_id: str) -> AccountState | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    def organization_controls(self) -> list[ControlState]:
        return [c for c in self.controls if not c.account_id]


@dataclass(frozen=True)
class Ledger:
    """The pack's AssumeRoot sessions and root activity, as rows of text."""

    sessions: list[dict[str, str]] = field(default_factory=list)
    activity: list[dict[str, str]] = field(default_factory=list)


# ---- reading a pack --------------------------------------------------------------------------------

def read_pack(path: Path) -> dict[str, bytes]:
    """The files the history reads (PACK_FILES, and the mapping files it was evaluated with) from a pack
    folder or its zip."""
    path = Path(path)
    if path.is_dir():
        found = [rel for rel in PACK_FILES if (path / rel).is_file()]
        found += sorted(p.relative_to(path).as_posix() for p in (path / PACK_MAPPINGS).glob("*.y*ml")
                        if p.is_file())
        try:
            check_folder_files(path, [path / rel for rel in found])
        except InputTooLarge as exc:
            raise PackReadError(str(exc)) from None
        files = {rel: (path / rel).read_bytes() for rel in found}
    elif path.is_file():
        files = _read_zip(path)
    else:
        raise PackReadError(f"{path}: no such pack folder or zip")
    missing = [rel for rel in PACK_FILES if rel not in files]
    if missing:
        raise PackReadError(f"{path}: not an evidence pack ({', '.join(missing[:3])} missing)")
    return files


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            files: dict[str, bytes] = {}
            try:
                check_zip_members(path, [i for i in zf.infolist() if not i.is_dir()])
            except InputTooLarge as exc:
                raise PackReadError(str(exc)) from None
            for info in zf.infolist():
                parts = PurePosixPath(info.filename).parts
                rel = "/".join(parts[1:])  # a pack zip holds one folder: rootaudit-<org>-<period>/
                if not info.is_dir() and (rel in PACK_FILES or rel.startswith(PACK_MAPPINGS)):
                    if rel in files:
                        raise PackReadError(f"{path}: a pack zip holds one pack; {rel} is there twice")
                    files[rel] = zf.read(info)
            return files
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackReadError(f"{path}: not a pack folder or zip ({exc})") from exc


def _json(files: Mapping[str, bytes], rel: str, source: str) -> dict[str, Any]:
    try:
        doc = json.loads(files[rel].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackReadError(f"{source}: {rel} is not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise PackReadError(f"{source}: {rel} is not a JSON object")
    return doc


def _frames(files: Mapping[str, bytes], names: tuple[str, ...], source: str) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in names:
        try:
            frames[name] = frame_from_csv_bytes(name, files[f"data/{name}.csv"])
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            raise PackReadError(f"{source}: data/{name}.csv cannot be read ({exc})") from exc
    return frames


def record_from_files(files: Mapping[str, bytes], source: str = "") -> PackRecord:
    """The record of a pack from its files (relative path -> bytes)."""
    manifest = _json(files, MANIFEST, source)
    meta = _json(files, SNAPSHOT_META, source)
    frames = _frames(files, SNAPSHOT_FRAMES + RESULT_FRAMES, source)
    snapshot = Snapshot(meta=meta, frames={k: frames[k] for k in SNAPSHOT_FRAMES})
    return build_record(snapshot, frames["control_results"], frames["exceptions"],
                        digest=hashlib.sha256(files[MANIFEST]).hexdigest(),
                        snapshot_digest=str(manifest.get("snapshot_digest") or ""),
                        tool_version=str(manifest.get("tool_version") or meta.get("tool_version") or ""),
                        source=source, rules=control_rules(files))


def ledger_from_files(files: Mapping[str, bytes], source: str = "") -> Ledger:
    frames = _frames(files, LEDGER_FRAMES, source)
    return Ledger(sessions=rows(frames["privileged_sessions"]), activity=rows(frames["root_activity"]))


def ledger_of(snapshot: Snapshot) -> Ledger:
    return Ledger(sessions=rows(snapshot["privileged_sessions"]), activity=rows(snapshot["root_activity"]))


def load_pack(path: Path) -> tuple[PackRecord, Ledger]:
    files = read_pack(path)
    return record_from_files(files, str(path)), ledger_from_files(files, str(path))


# ---- the record, from frames ---------------------------------------------------------------------

rows = frame_texts  # every row as text, as in the pack's CSV


def record_of(snapshot: Snapshot, control_results: pd.DataFrame, exceptions: pd.DataFrame,
              digest: str = "", snapshot_digest: str | None = None,
              inputs: Mapping[str, bytes] | None = None) -> PackRecord:
    """The record of a pack being made, before its manifest exists (the digest is then ""). Its
    tool_version is this rootaudit's, which renders the pack, as the manifest will say (`record_from_files`
    reads it from there); `snapshot_digest` None: computed from the snapshot; `inputs`: the evaluation's
    input files (`Results.inputs`), whose mapping files give the controls' rules."""
    from rootaudit import __version__

    return build_record(snapshot, control_results, exceptions, digest=digest,
                        snapshot_digest=snapshot.digest() if snapshot_digest is None else snapshot_digest,
                        tool_version=__version__, rules=control_rules(inputs or {}))


def build_record(snapshot: Snapshot, control_results: pd.DataFrame, exceptions: pd.DataFrame, *,
                 digest: str, snapshot_digest: str, tool_version: str, source: str = "",
                 rules: Mapping[tuple[str, str, str], str] | None = None) -> PackRecord:
    meta = snapshot.meta
    org = rows(snapshot["organization"])
    org0 = org[0] if org else {}
    period = meta.get("period") if isinstance(meta.get("period"), dict) else {}
    headline = compute_headline(snapshot)
    return PackRecord(
        digest=digest, snapshot_digest=snapshot_digest,
        organization_id=str(meta.get("organization_id") or org0.get("organization_id") or ""),
        period=str(period.get("label") or ""), period_start=str(period.get("start") or ""),
        period_end=str(period.get("end") or ""), collected_at=str(meta.get("collected_at") or ""),
        tool_version=tool_version, headline=headline_counts(headline),
        features={c: org0.get(c, "") for c in FEATURE_COLUMNS},
        accounts=tuple(_accounts(snapshot, headline)),
        controls=tuple(_controls(control_results)), exceptions=tuple(_exceptions(exceptions)),
        source=source, rules=dict(rules or {}))


def headline_counts(headline: Mapping[str, Any]) -> dict[str, Any]:
    """The headline figures the history charts: members, with active root credentials, not assessed, and
    clean (assessed and holding no active root credential, password presence known)."""
    active = int(headline.get("with_active_root_credentials") or 0)
    unknown = len(headline.get("password_unknown_accounts") or {})
    assessed = int(headline.get("assessed") or 0)
    return {"member_accounts": int(headline.get("member_accounts") or 0), "assessed": assessed,
            "not_assessed": int(headline.get("not_assessed") or 0), "with_active_root_credentials": active,
            "clean": max(assessed - active - unknown, 0), "claim_made": headline.get("claim_made") is True,
            "claim": str(headline.get("claim") or "")}


def _accounts(snapshot: Snapshot, headline: Mapping[str, Any]) -> list[AccountState]:
    active = headline.get("active_root_credentials") or {}
    not_assessed = headline.get("not_assessed_accounts") or {}
    unknown = headline.get("password_unknown_accounts") or {}
    credentials: dict[str, list[tuple[str, str, str]]] = {}
    for item in rows(snapshot["root_credential_items"]):
        credentials.setdefault(item["account_id"], []).append((item["kind"], item["id"], item["status"]))
    assessment = {r["account_id"]: r for r in rows(snapshot["root_credentials"])}
    management = str(snapshot.meta.get("management_account_id") or "")
    out = []
    for account in rows(snapshot["accounts"]):
        aid = account["account_id"]
        is_management = account["is_management"] == "true" or aid == management
        if aid in not_assessed:
            root, detail = "not_assessed", str(not_assessed[aid])
        elif aid in active:
            root, detail = "active", str(active[aid])
        elif aid in unknown:
            root, detail = "unknown", str(unknown[aid])
        elif is_management:  # the headline speaks of members; the management account by its own rows
            rc = assessment.get(aid, {})
            assessed = rc.get("assessment") == "assessed"
            held = any(kind != "mfa_device" and status in ("Active", "present")
                       for kind, _, status in credentials.get(aid, []))
            root = ("active" if held else "clean") if assessed else "not_assessed"
            detail = "" if assessed else rc.get("reason", "")
        else:
            root, detail = "clean", ""
        out.append(AccountState(
            account_id=aid, name=account["name"], state=account["state"], ou_path=account["ou_path"],
            joined_method=account["joined_method"], is_management=is_management, root=root, detail=detail,
            credentials=() if root == "not_assessed" else tuple(sorted(credentials.get(aid, []))),
            method=assessment.get(aid, {}).get("method", "")))
    return out


def _controls(frame: pd.DataFrame) -> list[ControlState]:
    return [ControlState(framework=r["framework"], version=r["version"], control_id=r["control_id"],
                         title=r["title"], account_id=r["account_id"], status=r["status"],
                         exception_id=r["exception_id"], exception_status=r["exception_status"])
            for r in rows(frame)]


def _exceptions(frame: pd.DataFrame) -> list[ExceptionState]:
    return [ExceptionState(exception_id=r["exception_id"], account_id=r["account_id"], control=r["control"],
                           status=r["status"], expires=r["expires"], ticket=r["ticket"], owner=r["owner"])
            for r in rows(frame)]
