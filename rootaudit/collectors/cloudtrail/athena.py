"""Event source: an Athena table over the organization trail, `athena://<workgroup>/<database>.<table>`.

The query runs where the trail lives and only the matching records come back, so a large
organization's quarter is never downloaded. The flow, each step a read-only call:
GetTableMetadata (the table's columns and partitions) → StartQueryExecution (one SELECT, registered
beforehand with `AwsContext.allow_query`) → GetQueryExecution until it ends → GetQueryResults, page
after page. A query that fails, is cancelled or outlives its time is NOT_ASSESSED with the reason
(past its time, and when the run is interrupted, StopQueryExecution cancels it, so that it does not
go on scanning). The records come back into the frames the file sources make (`results.collected`);
the events each account holds come back counted, and a member account with none in the period is
`not_covered`, as the file sources mark an account with no log files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rootaudit.aws import AwsContext, error_text
from rootaudit.collectors.cloudtrail.athena_query import (
    TableInfo,
    build_query,
    count_of,
    header_of,
    is_header,
    parse_athena_uri,
    record_from_values,
    row_values,
)
from rootaudit.collectors.cloudtrail.classify import is_relevant, missing_fields
from rootaudit.collectors.cloudtrail.results import StreamTally, period_bounds
from rootaudit.period import Period

CATALOG = "AwsDataCatalog"
PAGE_SIZE = 1000  # GetQueryResults' largest page
RUNNING = frozenset({"QUEUED", "RUNNING"})


@dataclass
class AthenaSettings:
    output: str | None = None  # s3://… for the results; None: the workgroup's own result location
    timeout_seconds: float = 1800.0  # the query's whole run, queue included
    poll_seconds: float = 1.0  # first wait between GetQueryExecution calls, doubled up to 10 s
    # The clock and sleep the wait runs on (tests inject both, so that no test waits or races a clock).
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


@dataclass
class QueryRun:
    """One query's execution, as `sources` and the snapshot's metadata report it."""

    query_id: str = ""
    state: str = ""
    reason: str = ""
    bytes_scanned: int = 0
    run_time_ms: int = 0
    pages: int = 0
    rows: int = 0
    sql: str = ""

    def summary(self) -> str:
        return (f"query {self.query_id} {self.state}: {self.bytes_scanned:,} bytes scanned, run time "
                f"{self.run_time_ms:,} ms, {self.rows:,} row(s) in {self.pages} page(s)")

    def meta(self) -> dict[str, Any]:
        return {"query_id": self.query_id, "state": self.state, "bytes_scanned": self.bytes_scanned,
                "run_time_ms": self.run_time_ms, "rows": self.rows, "pages": self.pages, "query": self.sql}


def _reason_of(execution: Mapping[str, Any]) -> str:
    status = execution.get("Status", {})
    error = status.get("AthenaError") or {}
    parts = [str(status.get("StateChangeReason") or "")]
    if error.get("ErrorMessage") and error["ErrorMessage"] not in parts[0]:
        parts.append(str(error["ErrorMessage"]))
    return "; ".join(p for p in parts if p) or "no reason given"


def _statistics(run: QueryRun, execution: Mapping[str, Any]) -> None:
    stats = execution.get("Statistics", {})
    run.bytes_scanned = int(stats.get("DataScannedInBytes") or 0)
    run.run_time_ms = int(stats.get("TotalExecutionTimeInMillis") or stats.get("EngineExecutionTimeInMillis")
                          or 0)


def collect_athena(
    ctx: AwsContext,
    uri: str,
    period: Period,
    accounts: list[str],
    regions: list[str] | None,
    settings: AthenaSettings | None = None,
) -> tuple[list[StreamTally], list[dict[str, Any]], QueryRun]:
    """The period's root records from the table: (the query's tally, extra `sources` rows, the run)."""
    settings = settings or AthenaSettings()
    workgroup, database, table = parse_athena_uri(uri)
    bounds = period_bounds(period)
    run = QueryRun()

    def row(status: str, reason: str, item: str = "*", account: str = "*") -> dict[str, Any]:
        return {"source": uri, "account_id": account, "region": "*", "item": item, "status": status,
                "reason": reason, **bounds}

    athena = ctx.client("athena")
    try:
        metadata = athena.get_table_metadata(CatalogName=CATALOG, DatabaseName=database, TableName=table)
    except Exception as exc:
        return [], [row("failed", f"cannot read the table {database}.{table} "
                                  f"(athena:GetTableMetadata): {error_text(exc)}")], run
    info = TableInfo.from_metadata(database, table, metadata.get("TableMetadata", {}))
    if missing := info.missing_columns():
        return [], [row("failed", f"the table {database}.{table} has no column(s) {', '.join(missing)}: "
                                  "not a CloudTrail table (rootaudit athena-ddl prints one)")], run
    extra: list[dict[str, Any]] = []
    projected = info.projected(info.account_key)
    if projected is not None:
        for account in sorted(set(accounts) - set(projected)):
            extra.append(row("not_covered", f"the table's partition projection does not list this account "
                                            f"(projection.{info.account_key}.values)", account=account))
    run.sql = build_query(info, period, accounts, regions)
    unused = info.unused_partition_keys()
    note = f"; partition key(s) {', '.join(unused)} not restricted: every value is scanned" if unused else ""
    ctx.allow_query(run.sql)
    request: dict[str, Any] = {
        "QueryString": run.sql,
        "QueryExecutionContext": {"Catalog": CATALOG, "Database": database},
        "WorkGroup": workgroup,
    }
    if settings.output:
        request["ResultConfiguration"] = {"OutputLocation": settings.output}
    try:
        run.query_id = athena.start_query_execution(**request)["QueryExecutionId"]
    except Exception as exc:
        hint = ("" if settings.output
                else " (give --athena-output s3://… if the workgroup has no result location)")
        return [], [*extra, row("failed", f"the query could not be started (athena:StartQueryExecution): "
                                          f"{error_text(exc)}{hint}")], run
    item = f"query {run.query_id}"
    tally = StreamTally(source=uri, account_id="*", region="*")
    try:
        try:
            execution = _wait(athena, run, settings)
        except Exception as exc:  # its state cannot be read: stop it rather than leave it scanning
            _stop(athena, run)
            reason = (f"{item}: its state could not be read (athena:GetQueryExecution): "
                      f"{error_text(exc)}; stopped")
            return [], [*extra, row("failed", reason, item)], run
        _statistics(run, execution)
        if run.state != "SUCCEEDED":
            return [], [*extra, row("failed", f"{run.summary()}: {run.reason}{note}", item)], run
        held: dict[str, int] = {}
        error = _page(athena, run, tally, period, held)
    except BaseException:
        # Interrupted (Ctrl-C, a signal): the query would go on scanning, and be billed, without us.
        _stop(athena, run)
        raise
    if error:
        tally.problems.append({"item": item, "status": "failed", "reason": f"{run.summary()}: {error}"})
        return [tally], extra, run
    tally.problems.append({"item": item, "status": "read", "reason": run.summary() + note,
                           "pages_read": run.pages, "events_read": tally.events_read})
    left_out = {r["account_id"] for r in extra}
    # A row of its own for each account the query counted events of, as the file sources write one per
    # account and region read: coverage is never inferred from the query's totals alone. The count is
    # in the reason, not in events_read, which the totals row already holds.
    for account in sorted(set(accounts) & set(held) - left_out):
        extra.append(row("read", f"{item}: {held[account]:,} event(s) of this account in the period "
                                 "counted", item, account=account))
    for account in sorted(set(accounts) - set(held) - left_out):
        extra.append(row("not_covered", f"{item}: the table holds no event of this account in the period "
                                        "(no log files delivered for it, or none the table reads)",
                         account=account))
    return [tally], extra, run


def _wait(athena: Any, run: QueryRun, settings: AthenaSettings) -> Mapping[str, Any]:
    """GetQueryExecution until the query ends or its time is up (then it is stopped)."""
    started = settings.clock()
    pause = settings.poll_seconds
    while True:
        execution = athena.get_query_execution(QueryExecutionId=run.query_id)["QueryExecution"]
        run.state = str(execution.get("Status", {}).get("State") or "")
        if run.state not in RUNNING:
            if run.state != "SUCCEEDED":
                run.reason = _reason_of(execution)
            return execution
        if settings.clock() - started >= settings.timeout_seconds:
            _stop(athena, run)
            run.state = "TIMED_OUT"
            run.reason = (f"still {execution['Status']['State']} after {settings.timeout_seconds:g} s: "
                          "stopped (athena:StopQueryExecution)")
            return execution
        settings.sleep(pause)
        pause = min(pause * 2, 10.0)


def _stop(athena: Any, run: QueryRun) -> None:
    if not run.query_id:
        return
    try:
        athena.stop_query_execution(QueryExecutionId=run.query_id)
    except Exception as exc:  # the query may have ended meanwhile; say so, and go on failing closed
        run.reason = f"{run.reason}; StopQueryExecution failed: {error_text(exc)}".lstrip("; ")


def _page(athena: Any, run: QueryRun, tally: StreamTally, period: Period, held: dict[str, int]) -> str:
    """Every result page into the tally, and into `held` the events of each account; the error that
    stopped the paging, or ""."""
    header: list[str] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"QueryExecutionId": run.query_id, "MaxResults": PAGE_SIZE}
        if token:
            params["NextToken"] = token
        try:
            page = athena.get_query_results(**params)
        except Exception as exc:
            return (f"result page {run.pages + 1} could not be read (athena:GetQueryResults): "
                    f"{error_text(exc)}")
        run.pages += 1
        tally.pages_read += 1
        rows = page.get("ResultSet", {}).get("Rows", [])
        if run.pages == 1:
            header = header_of(page)
            if rows and is_header(header, row_values(rows[0])):
                rows = rows[1:]
        records = []
        for raw in rows:
            values = row_values(raw)
            run.rows += 1
            counted = count_of(header, values)
            if counted is None:  # not this query's answer: nothing in it can be trusted to be whole
                return (f"result row {run.rows} does not say its account and its number of events: "
                        "not the answer of the query sent")
            account, _region, events = counted
            held[account] = held.get(account, 0) + events
            tally.events_read += events
            record = record_from_values(header, values)
            if not record:  # the account and region's other events, counted above
                continue
            if not is_relevant(record):
                continue
            if lacking := missing_fields(record):
                tally.problems.append({
                    "item": f"query {run.query_id} row {run.rows}", "status": "partial",
                    "reason": f"record without the expected fields ({', '.join(lacking)})"})
                continue
            records.append(record)
        tally.add_records(records, period)
        token = page.get("NextToken")
        if not token:
            return ""
