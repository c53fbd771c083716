"""The history store: one SQLite file (standard library `sqlite3`; nothing to install or start).

    with HistoryStore.open(path) as store:
        store.add(record)          # True when stored, False when that pack was already there
        store.records(org)         # oldest first
        store.previous(record)     # the latest pack of the same organization before this one

The file says what it is: `PRAGMA application_id` is rootaudit's, `PRAGMA user_version` the schema
version. Opening applies the migrations the file lacks, in one transaction. A file that is not SQLite,
a SQLite database of another application, one made by a newer rootaudit, or a damaged one is refused
with a `HistoryError` naming the file, and is not written to: it is inspected read-only first.

Packs are keyed by their digest (the SHA-256 of manifest.json): the same pack recorded twice is stored
once. Each record is written in one `BEGIN IMMEDIATE` transaction, and a writer waits (busy timeout) for
another to finish, so two runs recording at once both land.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rootaudit.history.record import AccountState, ControlState, ExceptionState, PackRecord

APPLICATION_ID = 0x52544144  # "RTAD"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 60.0
DEFAULT_NAME = "rootaudit-history.sqlite"

# Migration n (1-based) takes the schema from version n-1 to n. Append; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE packs (
            digest TEXT PRIMARY KEY, snapshot_digest TEXT NOT NULL, organization_id TEXT NOT NULL,
            period TEXT NOT NULL, period_start TEXT NOT NULL, period_end TEXT NOT NULL,
            collected_at TEXT NOT NULL, tool_version TEXT NOT NULL, headline TEXT NOT NULL,
            features TEXT NOT NULL, source TEXT NOT NULL)""",
        "CREATE INDEX packs_by_org ON packs (organization_id, period_start, collected_at)",
        """CREATE TABLE accounts (
            digest TEXT NOT NULL REFERENCES packs (digest) ON DELETE CASCADE, account_id TEXT NOT NULL,
            name TEXT NOT NULL, state TEXT NOT NULL, ou_path TEXT NOT NULL, joined_method TEXT NOT NULL,
            is_management INTEGER NOT NULL, root TEXT NOT NULL, detail TEXT NOT NULL,
            credentials TEXT NOT NULL, PRIMARY KEY (digest, account_id))""",
        """CREATE TABLE control_results (
            digest TEXT NOT NULL REFERENCES packs (digest) ON DELETE CASCADE, framework TEXT NOT NULL,
            version TEXT NOT NULL, control_id TEXT NOT NULL, account_id TEXT NOT NULL, title TEXT NOT NULL,
            status TEXT NOT NULL, exception_id TEXT NOT NULL, exception_status TEXT NOT NULL,
            PRIMARY KEY (digest, framework, version, control_id, account_id))""",
        """CREATE TABLE exceptions (
            digest TEXT NOT NULL REFERENCES packs (digest) ON DELETE CASCADE, exception_id TEXT NOT NULL,
            account_id TEXT NOT NULL, control TEXT NOT NULL, status TEXT NOT NULL, expires TEXT NOT NULL,
            ticket TEXT NOT NULL, owner TEXT NOT NULL)""",
    ),
    (
        # 2: how each account's root credentials were read (assume_root_audit | credential_report | none):
        # credentials read by different methods are not compared id by id. "" in packs recorded before.
        "ALTER TABLE accounts ADD COLUMN method TEXT NOT NULL DEFAULT ''",
    ),
    (
        # 3: each control's rule as the pack's mapping files say (history.rules), so that a status that
        # changed with the control's mapping is told from one that changed with the organization. None
        # for packs recorded before: of those, nothing is said.
        """CREATE TABLE control_rules (
            digest TEXT NOT NULL REFERENCES packs (digest) ON DELETE CASCADE, framework TEXT NOT NULL,
            version TEXT NOT NULL, control_id TEXT NOT NULL, rule TEXT NOT NULL,
            PRIMARY KEY (digest, framework, version, control_id))""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
ACCOUNT_COLUMNS = ("digest", "account_id", "name", "state", "ou_path", "joined_method", "is_management",
                   "root", "detail", "credentials", "method")


class HistoryError(ValueError):
    """The history file cannot be used; the message names it. The file is left as it was."""


def _inspect(path: Path) -> int | None:
    """The schema version of an existing rootaudit history; None for a file to create. Read-only."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return None
    if not path.is_file():
        raise HistoryError(f"{path}: not a file (give the history's file name, e.g. {DEFAULT_NAME})")
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read the history file: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise HistoryError(f"{path}: not a rootaudit history (not an SQLite file); left unchanged")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app == APPLICATION_ID and conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise HistoryError(f"{path}: the history file is damaged (SQLite's quick_check fails); left "
                                   "unchanged: move it aside and `rootaudit history --rebuild PACK…`")
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path}: the history file is damaged ({exc}); left unchanged: move it aside "
                           "and `rootaudit history --rebuild PACK…`") from None
    if app != APPLICATION_ID:
        if app == 0 and tables == 0:
            return None  # an empty SQLite database: made a history
        raise HistoryError(f"{path}: an SQLite database, but not a rootaudit history; left unchanged")
    if version > SCHEMA_VERSION:
        raise HistoryError(f"{path}: a history of schema version {version}, made by a newer rootaudit (this "
                           f"one reads up to {SCHEMA_VERSION}); left unchanged: upgrade rootaudit")
    return int(version)


class HistoryStore:
    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    @staticmethod
    def check(path: Path) -> int | None:
        """The schema version of the history at `path`, None when there is none yet; HistoryError when the
        file cannot be used. Reads only: nothing is created or changed."""
        return _inspect(Path(path))

    @classmethod
    def open(cls, path: Path, create: bool = True) -> HistoryStore:
        """Open the history at `path`, creating it (and its folder) when `create` and it does not exist."""
        path = Path(path)
        version = _inspect(path)
        if version is None and not create:
            raise HistoryError(f"{path}: no history here yet (`report` and `run` record each pack they "
                               "write; `rootaudit history --rebuild PACK…` makes one from packs)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"{path}: cannot open the history file: {exc}") from None
        store = cls(path, conn)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            store._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise HistoryError(f"{path}: cannot use the history file: {exc}") from None
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that takes the write lock at once (waiting for another writer to finish)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        if self._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION and \
                self._conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
            return
        with self._write() as conn:
            # Read again under the lock: another process may have migrated it meanwhile.
            app = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if app not in (0, APPLICATION_ID) or version > SCHEMA_VERSION:
                raise HistoryError(f"{self.path}: changed by another program while being opened; left as "
                                   "it is")
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # ---- writing ---------------------------------------------------------------------------------

    def add(self, record: PackRecord) -> bool:
        """Store a pack's record; False when a pack with this digest is already stored (nothing changes)."""
        if not record.digest:
            raise ValueError("a record without its pack's digest cannot be stored")
        try:
            with self._write() as conn:
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO packs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (record.digest, record.snapshot_digest, record.organization_id, record.period,
                     record.period_start, record.period_end, record.collected_at, record.tool_version,
                     json.dumps(record.headline, sort_keys=True), json.dumps(record.features, sort_keys=True),
                     record.source)).rowcount == 1
                if inserted:
                    self._insert_children(conn, record)
                elif record.rules and conn.execute("SELECT 1 FROM control_rules WHERE digest = ? LIMIT 1",
                                                   (record.digest,)).fetchone() is None:
                    self._insert_rules(conn, record)  # recorded before schema 3: its rules, read now
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: cannot record the pack: {exc}") from None
        return inserted

    @staticmethod
    def _insert_children(conn: sqlite3.Connection, record: PackRecord) -> None:
        d = record.digest
        conn.executemany(f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) VALUES "
                         f"({', '.join('?' for _ in ACCOUNT_COLUMNS)})", [
            (d, a.account_id, a.name, a.state, a.ou_path, a.joined_method, int(a.is_management), a.root,
             a.detail, json.dumps([list(c) for c in a.credentials]), a.method) for a in record.accounts])
        conn.executemany("INSERT INTO control_results VALUES (?,?,?,?,?,?,?,?,?)", [
            (d, c.framework, c.version, c.control_id, c.account_id, c.title, c.status, c.exception_id,
             c.exception_status) for c in record.controls])
        conn.executemany("INSERT INTO exceptions VALUES (?,?,?,?,?,?,?,?)", [
            (d, e.exception_id, e.account_id, e.control, e.status, e.expires, e.ticket, e.owner)
            for e in record.exceptions])
        HistoryStore._insert_rules(conn, record)

    @staticmethod
    def _insert_rules(conn: sqlite3.Connection, record: PackRecord) -> None:
        conn.executemany("INSERT INTO control_rules VALUES (?,?,?,?,?)", [
            (record.digest, framework, version, control_id, rule)
            for (framework, version, control_id), rule in sorted(record.rules.items())])

    # ---- reading ---------------------------------------------------------------------------------

    def digests(self, organization_id: str | None = None) -> list[str]:
        """Every stored pack's digest, oldest first (by period, then collection time)."""
        sql = "SELECT digest FROM packs"
        params: tuple[Any, ...] = ()
        if organization_id:
            sql, params = sql + " WHERE organization_id = ?", (organization_id,)
        return [r[0] for r in self._read(sql + " ORDER BY period_start, collected_at, digest", params)]

    def organizations(self) -> list[str]:
        return [r[0] for r in self._read("SELECT DISTINCT organization_id FROM packs ORDER BY 1", ())]

    def records(self, organization_id: str | None = None, summary: bool = False) -> list[PackRecord]:
        """Every stored pack, oldest first. `summary`: the headline, features and organization-level
        control results only (no account rows): what the history table and the trend need, a small read
        however large the organization."""
        return [self.get(d, summary) for d in self.digests(organization_id)]

    def get(self, digest: str, summary: bool = False) -> PackRecord:
        [pack] = self._read("SELECT * FROM packs WHERE digest = ?", (digest,)) or [None]
        if pack is None:
            raise KeyError(digest)
        accounts = () if summary else tuple(AccountState(
            account_id=r[1], name=r[2], state=r[3], ou_path=r[4], joined_method=r[5],
            is_management=bool(r[6]), root=r[7], detail=r[8],
            credentials=tuple((str(k), str(i), str(s)) for k, i, s in json.loads(r[9])), method=r[10])
            for r in self._read(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts WHERE digest = ? "
                                "ORDER BY account_id", (digest,)))
        controls = tuple(ControlState(
            framework=r[1], version=r[2], control_id=r[3], account_id=r[4], title=r[5], status=r[6],
            exception_id=r[7], exception_status=r[8])
            for r in self._read("SELECT * FROM control_results WHERE digest = ?"
                                + (" AND account_id = ''" if summary else "")
                                + " ORDER BY framework, version, control_id, account_id", (digest,)))
        exceptions = tuple(ExceptionState(*r[1:]) for r in self._read(
            "SELECT * FROM exceptions WHERE digest = ? ORDER BY exception_id, account_id", (digest,)))
        rules = {(r[0], r[1], r[2]): r[3] for r in self._read(
            "SELECT framework, version, control_id, rule FROM control_rules WHERE digest = ?", (digest,))}
        return PackRecord(
            digest=pack[0], snapshot_digest=pack[1], organization_id=pack[2], period=pack[3],
            period_start=pack[4], period_end=pack[5], collected_at=pack[6], tool_version=pack[7],
            headline=json.loads(pack[8]), features=json.loads(pack[9]), accounts=accounts,
            controls=controls, exceptions=exceptions, source=pack[10], rules=rules)

    def previous(self, record: PackRecord) -> PackRecord | None:
        """The latest stored pack of the same organization that comes before `record` (an earlier
        period, or the same period collected earlier); never the pack itself."""
        found = self._read(
            "SELECT digest FROM packs WHERE organization_id = ? AND digest != ? AND (period_start < ? OR "
            "(period_start = ? AND collected_at < ?)) "
            "ORDER BY period_start DESC, collected_at DESC, digest DESC LIMIT 1",
            (record.organization_id, record.digest, record.period_start, record.period_start,
             record.collected_at))
        return self.get(found[0][0]) if found else None

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn.execute(sql, params))
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: cannot read the history: {exc}") from None


def record_as_dict(record: PackRecord) -> dict[str, Any]:
    """A record as JSON-able data (tuples become lists)."""
    return asdict(record)
