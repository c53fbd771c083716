"""The Athena table over an organization trail: its columns (from `cloudtrail_table.json`) and the
`CREATE EXTERNAL TABLE` that `rootaudit athena-ddl` prints. Pure: no AWS.

The table is AWS's documented one (the CloudTrail JsonSerDe over the gzipped log files), partitioned
by account, region and delivery day with partition projection, so that no partition is ever added by
hand and a query names only the folders of its period:

    s3://bucket/prefix/AWSLogs/<o-id>/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from rootaudit.collectors.cloudtrail.layout import org_base

TABLE_FILE = Path(__file__).with_name("cloudtrail_table.json")
DATE_FORMAT = "yyyy/MM/dd"  # the trail's day folders, as partition projection spells the format
_IDENTIFIER = re.compile(r"^[a-z0-9_]{1,255}$")
_ORG_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

Type = Any  # "string" | {"struct": [[name, Type], ...]} | {"array": Type} | {"map": [Type, Type]}


@cache
def table_spec() -> dict[str, Any]:
    return json.loads(TABLE_FILE.read_text(encoding="utf-8"))


def columns() -> list[tuple[str, Type]]:
    return [(name, kind) for name, kind in table_spec()["columns"]]


def partitions() -> list[tuple[str, Type]]:
    return [(name, kind) for name, kind in table_spec()["partitions"]]


def hive_type(kind: Type) -> str:
    """A column type as Hive DDL (and Glue's catalog) write it: `struct<type:string,...>`."""
    if kind == "string":
        return "string"
    if "struct" in kind:
        return "struct<" + ",".join(f"{name}:{hive_type(sub)}" for name, sub in kind["struct"]) + ">"
    if "array" in kind:
        return f"array<{hive_type(kind['array'])}>"
    key, value = kind["map"]
    return f"map<{hive_type(key)},{hive_type(value)}>"


def ddl_type(kind: Type, indent: str = "    ") -> str:
    """A column type as AWS's documented statement lays it out: one struct field a line."""
    if kind == "string":
        return "STRING"
    inner = indent + "    "
    if "struct" in kind:
        fields = ",\n".join(f"{inner}{name}: {ddl_type(sub, inner)}" for name, sub in kind["struct"])
        return f"STRUCT<\n{fields}>"
    if "array" in kind:
        return f"ARRAY<{ddl_type(kind['array'], indent)}>"
    key, value = kind["map"]
    return f"MAP<{ddl_type(key, indent)}, {ddl_type(value, indent)}>"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_table_ddl(location: str, organization_id: str, accounts: list[str], regions: list[str],
                     table: str = "cloudtrail_logs", start: date | None = None) -> str:
    """The `CREATE EXTERNAL TABLE` for an organization trail delivering to `location`
    (`s3://bucket/prefix`), with partition projection over account, region and day.

    Projection enumerates accounts and regions (Athena projects only the values it is given), so the
    statement names them; a new account needs the table's `projection.account.values` updated, which
    the collector checks (an account the table does not project is reported not covered)."""
    if not location.startswith("s3://") or not location[5:].split("/", 1)[0]:
        raise ValueError(f"not an s3:// location: {location!r} (expected s3://bucket/prefix)")
    if not _IDENTIFIER.match(table):
        raise ValueError(f"not a table name Athena accepts: {table!r} (lowercase letters, digits, _)")
    if not _ORG_ID.match(organization_id):
        raise ValueError(f"not an organization id: {organization_id!r} (expected o-…)")
    bad = [a for a in accounts if not _ACCOUNT_ID.match(a)] + [r for r in regions if not _REGION.match(r)]
    if bad:
        raise ValueError(f"not an account id or region: {', '.join(bad)}")
    if not accounts or not regions:
        raise ValueError("partition projection needs at least one account and one region")
    bucket, _, prefix = location[5:].partition("/")
    base = f"s3://{bucket}/{org_base(prefix, organization_id)}"
    first = (start or date(2020, 1, 1)).strftime("%Y/%m/%d")
    lines = [f"CREATE EXTERNAL TABLE IF NOT EXISTS {table} ("]
    cols = columns()
    for i, (name, kind) in enumerate(cols):
        lines.append(f"    {name} {ddl_type(kind)}" + ("," if i < len(cols) - 1 else ""))
    lines.append(")")
    lines.append("PARTITIONED BY (" + ", ".join(f"`{n}` {ddl_type(k)}" for n, k in partitions()) + ")")
    properties = {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(sorted(set(accounts))),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(sorted(set(regions))),
        "projection.date.type": "date",
        "projection.date.format": DATE_FORMAT,
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "projection.date.range": f"{first},NOW",
        "storage.location.template": base + "${account}/CloudTrail/${region}/${date}",
    }
    lines += [
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'",
        "STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'",
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
        f"LOCATION {_sql_literal(base)}",
        "TBLPROPERTIES (",
        ",\n".join(f"    {_sql_literal(k)}={_sql_literal(v)}" for k, v in properties.items()),
        ")",
    ]
    return "\n".join(lines) + "\n"
