"""The Athena table over a local organization trail, in DuckDB: the proof that the collector's SQL means
what the file scan means.

The view has the table's columns (`cloudtrail_table.json`, the same ones `rootaudit athena-ddl` writes)
and its partitions (account, region, date), filled as Athena's JsonSerDe fills them from the trail's files:
field names matched without regard to case, a nested object in a string column kept as its JSON text,
a field the record lacks NULL. Results come back in GetQueryResults' shape: a header row, then every
value as a string (no VarCharValue for NULL)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rootaudit.collectors.cloudtrail import athena_table
from rootaudit.collectors.cloudtrail.athena_query import ACCOUNT_COLUMN, EVENTS_COLUMN, REGION_COLUMN

_FILE = re.compile(r"AWSLogs/(?P<org>[^/]+)/(?P<account>\d{12})/CloudTrail/(?P<region>[^/]+)/"
                   r"(?P<date>\d{4}/\d{2}/\d{2})/[^/]+\.json\.gz$")


def duckdb_type(kind: Any) -> str:
    if kind == "string":
        return "VARCHAR"
    if "struct" in kind:
        return "STRUCT(" + ", ".join(f'"{n}" {duckdb_type(k)}' for n, k in kind["struct"]) + ")"
    if "array" in kind:
        return duckdb_type(kind["array"]) + "[]"
    key, value = kind["map"]
    return f"MAP({duckdb_type(key)}, {duckdb_type(value)})"


def _serde(value: Any, kind: Any) -> Any:
    if value is None:
        return None
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value, separators=(",", ":"))
    if "struct" in kind:
        if not isinstance(value, Mapping):
            return None
        lowered = {str(k).lower(): v for k, v in value.items()}
        return {name: _serde(lowered.get(name), sub) for name, sub in kind["struct"]}
    if "array" in kind:
        return [_serde(v, kind["array"]) for v in value] if isinstance(value, list) else None
    if not isinstance(value, Mapping):
        return None
    return {str(k): _serde(v, kind["map"][1]) for k, v in value.items()}


def documented_columns() -> list[tuple[str, Any]]:
    """The columns of AWS's own documented statement: rootaudit's, less
    useridentity.sessioncontext.assumedroot."""
    out = []
    for name, kind in athena_table.columns():
        if name == "useridentity":
            fields = [(n, {"struct": [f for f in k["struct"] if f[0] != "assumedroot"]})
                      if n == "sessioncontext" else (n, k) for n, k in kind["struct"]]
            kind = {"struct": [list(f) for f in fields]}
        out.append((name, kind))
    return out


def serde_row(record: Mapping[str, Any], partition: Mapping[str, str],
              columns: list[tuple[str, Any]] | None = None) -> dict[str, Any]:
    """One table row from one CloudTrail record, as the JsonSerDe reads it."""
    lowered = {str(k).lower(): v for k, v in record.items()}
    row = {name: _serde(lowered.get(name), kind) for name, kind in (columns or athena_table.columns())}
    row.update(partition)
    return row


def load_trail(con: Any, root: Path, database: str, table: str, work: Path,
               columns: list[tuple[str, Any]] | None = None) -> int:
    """A view `database.table` over every log file under `root` (with `columns`, default the table's);
    the number of records it holds."""
    columns = columns or athena_table.columns()
    lines = []
    for path in sorted(root.rglob("*.json.gz")):
        match = _FILE.search(path.as_posix())
        if not match:
            continue
        partition = {"account": match["account"], "region": match["region"], "date": match["date"]}
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            lines.append(json.dumps(serde_row(record, partition, columns)))
    data = work / f"{table}.ndjson"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    kinds = [*columns, *athena_table.partitions()]
    spec = ", ".join(f"'{name}': '{duckdb_type(kind)}'" for name, kind in kinds)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
    con.execute(f'CREATE OR REPLACE TABLE "{database}"."{table}_rows" AS SELECT * FROM '
                f"read_json('{data.as_posix()}', format='newline_delimited', columns={{{spec}}})")
    con.execute(f'CREATE OR REPLACE VIEW "{database}"."{table}" AS SELECT * FROM "{database}"."{table}_rows"')
    return len(lines)


def athena_results(cursor: Any) -> dict[str, Any]:
    """A DuckDB result as Athena's GetQueryResults holds it (what moto's queue takes)."""
    names = [d[0] for d in cursor.description]
    rows = [{"Data": [{"VarCharValue": n} for n in names]}]
    for values in cursor.fetchall():
        rows.append({"Data": [{} if v is None else {"VarCharValue": str(v)} for v in values]})
    info = [{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n, "Label": n,
             "Type": "varchar", "Precision": 2147483647, "Scale": 0, "Nullable": "UNKNOWN",
             "CaseSensitive": True} for n in names]
    return {"rows": rows, "column_info": info}


def query_row(record: Mapping[str, Any], names: list[str], events: int = 1) -> dict[str, Any]:
    """One GetQueryResults row for `record`, with the columns the collector's query selects (`names`):
    the record's own, and the account, region and number of events of its group."""
    row = {**serde_row(record, {}), ACCOUNT_COLUMN: record.get("recipientAccountId"),
           REGION_COLUMN: record.get("awsRegion"), EVENTS_COLUMN: events}
    values = []
    for name in names:
        value = row.get(name)
        if name == "useridentity" and value is not None:
            value = json.dumps(value)
        values.append({} if value is None else {"VarCharValue": str(value)})
    return {"Data": values}
