"""The Athena source's query and its answer, as pure functions: no AWS here.

- `parse_athena_uri`: `athena://<workgroup>/<database>.<table>`.
- `TableInfo.from_metadata`: what GetTableMetadata says of the table (its columns, its partition keys,
  the accounts and regions its partition projection covers).
- `build_query`: one SELECT in Athena's SQL (Trino) for the period, restricted by the table's partitions
  (account, region, delivery day) where it has them, and by event time. It returns AssumeRoot calls and
  every record whose `userIdentity.type` is Root (root console sign-ins are among them), one row each,
  and also how many events each account and region holds: the other records are grouped, their columns
  NULL, into one counted row per account and region. So one scan of the table tells both what happened
  and which accounts delivered logs at all (an account with no row delivered nothing the table reads,
  which must not pass for an account without root activity).
- `record_from_values`, `count_of`: the rows GetQueryResults pages back (a header row, then every value
  as a string) turned back into CloudTrail records, as the file sources read them, for `classify`, and
  into their counts.

The day restriction names the same delivery-day folders the S3 and local sources read
(`layout.period_days`), so the three sources see the same records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rootaudit.collectors.cloudtrail.layout import period_days
from rootaudit.period import Period
from rootaudit.snapshot import utc_iso

_WORKGROUP = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")

# The table's columns a record needs, and the record field each becomes (CloudTrail's own spelling;
# the JsonSerDe matches field names case-insensitively, so the table writes them in lowercase).
FIELDS: dict[str, str] = {
    "eventversion": "eventVersion",
    "eventid": "eventID",
    "eventtime": "eventTime",
    "eventsource": "eventSource",
    "eventname": "eventName",
    "eventtype": "eventType",
    "eventcategory": "eventCategory",
    "awsregion": "awsRegion",
    "sourceipaddress": "sourceIPAddress",
    "useragent": "userAgent",
    "errorcode": "errorCode",
    "errormessage": "errorMessage",
    "requestid": "requestID",
    "recipientaccountid": "recipientAccountId",
    "requestparameters": "requestParameters",
    "responseelements": "responseElements",
    "additionaleventdata": "additionalEventData",
    "serviceeventdetails": "serviceEventDetails",
    "sessioncredentialfromconsole": "sessionCredentialFromConsole",
    "useridentity": "userIdentity",
}
# String columns that hold a JSON object (the SerDe keeps a nested object in a string column as its text).
JSON_TEXT = frozenset({"requestparameters", "responseelements", "additionaleventdata", "serviceeventdetails"})
# userIdentity is a struct: it comes back as JSON with the table's lowercase field names.
IDENTITY_FIELDS: dict[str, str] = {
    "principalid": "principalId",
    "accountid": "accountId",
    "invokedby": "invokedBy",
    "accesskeyid": "accessKeyId",
    "username": "userName",
    "onbehalfof": "onBehalfOf",
    "userid": "userId",
    "identitystorearn": "identityStoreArn",
    "sessioncontext": "sessionContext",
    "attributes": "attributes",
    "mfaauthenticated": "mfaAuthenticated",
    "creationdate": "creationDate",
    "sessionissuer": "sessionIssuer",
    "ec2roledelivery": "ec2RoleDelivery",
    "webidfederationdata": "webIdFederationData",
    "federatedprovider": "federatedProvider",
    "sourceidentity": "sourceIdentity",
    "assumedroot": "assumedRoot",
    "credentialid": "credentialId",
    "identityprovider": "identityProvider",
}
# The columns the query adds to the records': where each row's events come from, and how many.
ACCOUNT_COLUMN, REGION_COLUMN, EVENTS_COLUMN = "rootaudit_account", "rootaudit_region", "rootaudit_events"
COUNT_COLUMNS = (ACCOUNT_COLUMN, REGION_COLUMN, EVENTS_COLUMN)
REQUIRED_COLUMNS = ("eventid", "eventtime", "eventsource", "eventname", "useridentity")
ACCOUNT_KEYS = ("account", "accountid", "account_id")
REGION_KEYS = ("region", "awsregion", "aws_region")
DAY_KEYS = ("date", "timestamp", "dt", "day")
_JAVA_DATE = {"yyyy": "%Y", "MM": "%m", "dd": "%d"}


def parse_athena_uri(uri: str) -> tuple[str, str, str]:
    """(workgroup, database, table) of `athena://<workgroup>/<database>.<table>`."""
    usage = "expected athena://<workgroup>/<database>.<table>"
    if not uri.startswith("athena://"):
        raise ValueError(f"not an athena:// source: {uri!r} ({usage})")
    workgroup, _, rest = uri[len("athena://"):].partition("/")
    database, dot, table = rest.strip("/").partition(".")
    if not _WORKGROUP.match(workgroup) or not dot or not _NAME.match(database) or not _NAME.match(table):
        raise ValueError(f"not an athena:// source: {uri!r} ({usage})")
    return workgroup, database, table


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(_literal(v) for v in values) + ")"


@dataclass(frozen=True)
class TableInfo:
    """What the collector needs to know of the table."""

    database: str
    table: str
    columns: tuple[str, ...]
    partition_keys: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, database: str, table: str, metadata: Mapping[str, Any]) -> TableInfo:
        """From GetTableMetadata's `TableMetadata`."""
        return cls(
            database=database,
            table=table,
            columns=tuple(str(c["Name"]).lower() for c in metadata.get("Columns", [])),
            partition_keys=tuple(str(c["Name"]).lower() for c in metadata.get("PartitionKeys", [])),
            parameters={str(k): str(v) for k, v in (metadata.get("Parameters") or {}).items()},
        )

    def key(self, candidates: Sequence[str]) -> str:
        return next((k for k in candidates if k in self.partition_keys), "")

    @property
    def account_key(self) -> str:
        return self.key(ACCOUNT_KEYS)

    @property
    def region_key(self) -> str:
        return self.key(REGION_KEYS)

    @property
    def day_keys(self) -> tuple[str, ...]:
        """The key(s) that name the delivery day: ("year", "month", "day"), or one date-like key."""
        if all(k in self.partition_keys for k in ("year", "month", "day")):
            return ("year", "month", "day")
        key = self.key(DAY_KEYS)
        return (key,) if key else ()

    def day_format(self, key: str) -> str:
        """strftime format of a one-key day partition, from its projection format (yyyy/MM/dd if none)."""
        java = self.parameters.get(f"projection.{key}.format", "yyyy/MM/dd")
        return re.sub("yyyy|MM|dd", lambda m: _JAVA_DATE[m.group(0)], java)

    def missing_columns(self) -> list[str]:
        return [c for c in REQUIRED_COLUMNS if c not in self.columns]

    def unused_partition_keys(self) -> list[str]:
        used = {self.account_key, self.region_key, *self.day_keys} - {""}
        return [k for k in self.partition_keys if k not in used]

    def projected(self, key: str) -> list[str] | None:
        """The values partition projection enumerates for `key`, or None when it does not enumerate it."""
        if self.parameters.get("projection.enabled", "").lower() != "true" or not key:
            return None
        if self.parameters.get(f"projection.{key}.type", "").lower() != "enum":
            return None
        values = self.parameters.get(f"projection.{key}.values", "")
        return [v.strip() for v in values.split(",") if v.strip()]


def relevance_condition() -> str:
    """The SQL of `classify.is_relevant`: an AssumeRoot call, or any record of the root identity (root
    console sign-ins, signin.amazonaws.com, are records of the root identity too)."""
    return ("((eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoot') "
            "OR useridentity.type = 'Root')")


def build_query(info: TableInfo, period: Period, accounts: Sequence[str],
                regions: Sequence[str] | None) -> str:
    """The period's query over the table (see the module's docstring)."""
    for value in [*accounts, *(regions or [])]:
        if not (_ACCOUNT_ID.match(value) or _REGION.match(value)):
            raise ValueError(f"not an account id or region: {value!r}")
    selected = []
    for column in FIELDS:
        if column not in info.columns:
            selected.append(f"CAST(NULL AS varchar) AS {column}")  # the table has no such column
        elif column == "useridentity":
            selected.append("json_format(CAST(useridentity AS JSON)) AS useridentity")
        else:
            selected.append(f"{column} AS {column}")
    where: list[str] = []
    days = period_days(period)
    day_keys = info.day_keys
    if day_keys == ("year", "month", "day"):
        day = "concat(\"year\", '/', \"month\", '/', \"day\")"
        first, last = _literal(f"{days[0]:%Y/%m/%d}"), _literal(f"{days[-1]:%Y/%m/%d}")
        where.append(f"{day} BETWEEN {first} AND {last}")
    elif day_keys:
        fmt = info.day_format(day_keys[0])
        where.append(f"{_quoted(day_keys[0])} BETWEEN {_literal(days[0].strftime(fmt))} "
                     f"AND {_literal(days[-1].strftime(fmt))}")
    account_column = _quoted(info.account_key) if info.account_key else "recipientaccountid"
    region_column = _quoted(info.region_key) if info.region_key else "awsregion"
    if accounts:
        where.append(f"{account_column} IN {_in_list(sorted(set(accounts)))}")
    if regions:
        where.append(f"{region_column} IN {_in_list(sorted(set(regions)))}")
    where.append(f"eventtime >= {_literal(utc_iso(period.start) or '')} "
                 f"AND eventtime < {_literal(utc_iso(period.end) or '')}")
    scoped = (
        "SELECT " + ", ".join(selected) + f", {account_column} AS {ACCOUNT_COLUMN}, "
        f"{region_column} AS {REGION_COLUMN}, {relevance_condition()} AS rootaudit_relevant\n"
        f"  FROM {_quoted(info.database)}.{_quoted(info.table)}\n"
        "  WHERE " + "\n    AND ".join(where)
    )
    # A relevant record keeps its columns (its own group); any other keeps none, so all of an account
    # and region's other records fall into one group, whose count is all the query returns of them.
    kept = [f"CASE WHEN rootaudit_relevant THEN {column} END AS {column}" for column in FIELDS]
    positions = ", ".join(str(i) for i in range(1, len(FIELDS) + 3))
    return (
        "SELECT " + ", ".join(kept) + f", {ACCOUNT_COLUMN}, {REGION_COLUMN}, count(*) AS {EVENTS_COLUMN}\n"
        f"FROM ({scoped}) AS scoped\n"
        f"GROUP BY {positions}\n"
        f"ORDER BY {ACCOUNT_COLUMN}, {REGION_COLUMN}, eventtime, eventid"
    )


def _identity(value: Any, parent: str = "") -> Any:
    """The table's lowercase struct fields back in CloudTrail's spelling; the one map (the web identity
    attributes) holds data as keys, kept as they are. Null fields are left out, as CloudTrail does."""
    if isinstance(value, Mapping):
        if parent == "webIdFederationData.attributes":
            return dict(value)
        out = {}
        for key, sub in value.items():
            if sub is None:
                continue
            name = IDENTITY_FIELDS.get(key, key)
            out[name] = _identity(sub, f"{parent.rsplit('.', 1)[-1]}.{name}" if parent else name)
        return out
    if isinstance(value, list):
        return [_identity(v, parent) for v in value]
    return value


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # kept as written: the classifier reads only objects


def header_of(page: Mapping[str, Any]) -> list[str]:
    """The column labels of GetQueryResults' first page (its first row repeats them)."""
    info = page.get("ResultSet", {}).get("ResultSetMetadata", {}).get("ColumnInfo", [])
    return [str(c.get("Label") or c.get("Name") or "").lower() for c in info]


def row_values(row: Mapping[str, Any]) -> list[str | None]:
    """One result row's values: a string each, None for SQL NULL (a Datum with no VarCharValue)."""
    return [d.get("VarCharValue") for d in row.get("Data", [])]


def record_from_values(header: Sequence[str], values: Sequence[str | None]) -> dict[str, Any]:
    """A CloudTrail record from one result row."""
    record: dict[str, Any] = {}
    for column, value in zip(header, values, strict=False):
        name = FIELDS.get(column)
        if name is None or value is None:
            continue
        if column == "useridentity":
            parsed = _json_or_text(value)
            record[name] = _identity(parsed) if isinstance(parsed, Mapping) else parsed
        elif column in JSON_TEXT:
            record[name] = _json_or_text(value)
        else:
            record[name] = value
    return record


def count_of(header: Sequence[str], values: Sequence[str | None]) -> tuple[str, str, int] | None:
    """(account, region, events) of one result row; None when the row does not say them (then the
    answer is not this query's, and the caller must not trust it)."""
    found = dict(zip(header, values, strict=False))
    events = found.get(EVENTS_COLUMN)
    if not found.get(ACCOUNT_COLUMN) or events is None or not events.isdigit() or int(events) < 1:
        return None
    return str(found[ACCOUNT_COLUMN]), str(found.get(REGION_COLUMN) or ""), int(events)


def is_header(header: Sequence[str], values: Sequence[str | None]) -> bool:
    """GetQueryResults repeats the column labels as the first row of a SELECT's first page."""
    return [str(v or "").lower() for v in values] == list(header)


