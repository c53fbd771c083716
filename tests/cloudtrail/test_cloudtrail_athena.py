"""The athena:// source: its query, its request flow against moto's Athena (start, poll, page, stop, fail),
and the proof that its SQL means what the file scan means (the same query, in DuckDB, over the same trail)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from rootaudit.collectors import Collected, CollectSettings
from rootaudit.collectors.cloudtrail import athena_table, collect_cloudtrail
from rootaudit.collectors.cloudtrail.athena import AthenaSettings, collect_athena
from rootaudit.collectors.cloudtrail.athena_query import (
    COUNT_COLUMNS,
    FIELDS,
    TableInfo,
    build_query,
    parse_athena_uri,
)
from rootaudit.period import parse_period
from rootaudit.readonly import ReadOnlyViolation
from rootaudit.simulate import trail
from rootaudit.simulate.trail_records import record_for
from rootaudit.simulate.trail_sample import MiniSim, accounts_frame, context, org_id_of, organization_frame
from tests.support.athena_duckdb import athena_results, load_trail, query_row

DATABASE, TABLE = "trail", "cloudtrail_logs"
URI = f"athena://primary/{DATABASE}.{TABLE}"
REGIONS = ["us-east-1", "eu-west-1", "us-west-2"]
MOTO_API = "http://motoapi.amazonaws.com/moto-api/static/athena/query-results"


@pytest.fixture
def athena_sim(mini_sim: MiniSim) -> Iterator[MiniSim]:
    """The mini simulation with the Athena extension and a partition-projected trail table in Glue."""
    from rootaudit.simulate import ext_athena

    ext_athena.install()
    glue_table(mini_sim, partitioned=True)
    yield mini_sim


def glue_table(sim: MiniSim, partitioned: bool, name: str = TABLE, accounts: list[str] | None = None) -> None:
    glue = sim.client("glue")
    if DATABASE not in {d["Name"] for d in glue.get_databases()["DatabaseList"]}:
        glue.create_database(DatabaseInput={"Name": DATABASE})
    spec = sim.scenario.trail
    projection = {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts or sorted(sim.scenario.accounts)),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(REGIONS),
        "projection.date.type": "date",
        "projection.date.format": "yyyy/MM/dd",
        "projection.date.range": "2020/01/01,NOW",
    }
    glue.create_table(DatabaseName=DATABASE, TableInput={
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", **(projection if partitioned else {})},
        "PartitionKeys": ([{"Name": n, "Type": athena_table.hive_type(k)}
                           for n, k in athena_table.partitions()] if partitioned else []),
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": athena_table.hive_type(k)} for n, k in athena_table.columns()],
            "Location": f"s3://{spec.bucket}/{spec.prefix}/AWSLogs/{org_id_of(sim)}/",
            "InputFormat": "com.amazon.emr.cloudtrail.CloudTrailInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hive.hcatalog.data.JsonSerDe"},
        },
    })


def queue(*results: dict[str, Any]) -> None:
    """Results for the next queries, through moto's own API."""
    done = requests.post(MOTO_API, json={"account_id": "123456789012", "region": "us-east-1",
                                         "results": list(results)}, timeout=10)
    assert done.status_code == 201


def executions() -> list[Any]:
    from moto.athena.models import athena_backends

    return list(athena_backends["123456789012"]["us-east-1"].executions.values())


def settings_for(sim: MiniSim, source: str) -> CollectSettings:
    return CollectSettings(period=sim.scenario.period, regions=REGIONS, cloudtrail=source, workers=4,
                           athena_output="s3://athena-results/rootaudit/")


def collect(sim: MiniSim, source: str) -> tuple[Collected, Any]:
    ctx = context()
    return collect_cloudtrail(ctx, settings_for(sim, source), accounts_frame(),
                              organization_frame(org_id_of(sim))), ctx


def calls(ctx: Any, operation: str) -> list[dict[str, Any]]:
    return [json.loads(c["parameters"]) for c in ctx.call_log.rows() if c["operation"] == operation]


def table_info(partitioned: bool = True) -> TableInfo:
    return TableInfo(DATABASE, TABLE, tuple(n for n, _ in athena_table.columns()),
                     tuple(n for n, _ in athena_table.partitions()) if partitioned else ())


def frame(result: Collected, name: str) -> pd.DataFrame:
    # `source` names where a row came from, which differs by design; so does `log_file_integrity`
    # (CloudTrail's digests vouch for files a file source read; an Athena table has no such files);
    # everything else must not.
    kept = result.frames[name].drop(columns=["source", "log_file_integrity"])
    return kept.astype(object).where(kept.notna(), None)


# ---------------------------------------------------------------- the query


def test_the_uri_names_workgroup_database_and_table() -> None:
    assert parse_athena_uri("athena://primary/trail.logs") == ("primary", "trail", "logs")
    for bad in ("athena://primary/nodot", "athena:///db.t", "athena://wg/db.t;DROP", "s3://x/y"):
        with pytest.raises(ValueError, match=r"athena://<workgroup>/<database>\.<table>"):
            parse_athena_uri(bad)


def test_the_query_names_only_the_periods_partitions() -> None:
    period = parse_period("2026-Q3")
    sql = build_query(table_info(), period, ["222222222222", "111111111111"], ["eu-west-1"])
    assert "\"date\" BETWEEN '2026/07/01' AND '2026/10/01'" in sql  # the delivery days the S3 source lists
    assert "\"account\" IN ('111111111111', '222222222222')" in sql
    assert "\"region\" IN ('eu-west-1')" in sql
    assert "eventtime >= '2026-07-01T00:00:00Z' AND eventtime < '2026-10-01T00:00:00Z'" in sql
    assert "useridentity.type = 'Root'" in sql and "eventname = 'AssumeRoot'" in sql
    unpartitioned = build_query(table_info(partitioned=False), period, ["111111111111"], None)
    assert "recipientaccountid IN ('111111111111')" in unpartitioned and "BETWEEN" not in unpartitioned


def test_a_column_the_table_lacks_is_selected_as_null() -> None:
    info = TableInfo(DATABASE, TABLE, ("eventid", "eventtime", "eventsource", "eventname", "useridentity"))
    sql = build_query(info, parse_period("2026-Q3"), [], None)
    assert "CAST(NULL AS varchar) AS sessioncredentialfromconsole" in sql
    assert sql.count(" AS ") >= len(FIELDS)


def test_year_month_day_partitions_are_restricted_too() -> None:
    info = TableInfo(DATABASE, TABLE, table_info().columns, ("region", "year", "month", "day"))
    sql = build_query(info, parse_period(start="2026-07-30", end="2026-08-02"), [], None)
    # the period ends at midnight after 08-02: that day's first files still hold its last minutes
    assert "concat(\"year\", '/', \"month\", '/', \"day\") BETWEEN '2026/07/30' AND '2026/08/03'" in sql


def test_only_a_registered_select_is_sent() -> None:
    ctx = context()
    athena = ctx.client("athena", account_id="123456789012")
    athena.meta.events.register("before-send", lambda **_: pytest.fail("a refused query reached the wire"))
    with pytest.raises(ReadOnlyViolation, match="not a statement this collection registered"):
        athena.start_query_execution(QueryString="SELECT 1", WorkGroup="primary")
    for sql in ("UNLOAD (SELECT 1) TO 's3://x/' WITH (format = 'JSON')", "SELECT 1; DROP TABLE t",
                "CREATE TABLE t AS SELECT 1", "INSERT INTO t SELECT 1"):
        with pytest.raises(ReadOnlyViolation):
            ctx.allow_query(sql)
    ctx.allow_query("SELECT ';' AS \"a;b\" -- ; DROP\n")  # a ; in text, a name or a comment is no statement
    assert {r["outcome"] for r in ctx.call_log.rows()} == {"refused"}


# ---------------------------------------------------------------- the request flow, against moto


def _header(names: list[str]) -> dict[str, Any]:
    return {"Data": [{"VarCharValue": n} for n in names]}


def _info(names: list[str]) -> list[dict[str, Any]]:
    return [{"Name": n, "Label": n, "Type": "varchar"} for n in names]


def _query_totals(sources: pd.DataFrame) -> pd.DataFrame:
    """The query's totals row (an account's own rows have `item` `*` too)."""
    return sources[(sources["item"] == "*") & (sources["account_id"] == "*")]


def _login(sim: MiniSim) -> dict[str, Any]:
    records = [record_for(e) for e in sim.scenario.history]
    return next(r for r in records if r["eventName"] == "ConsoleLogin" and r["eventID"] == "cl-2")


def test_results_are_paged_back_into_the_frames(athena_sim: MiniSim) -> None:
    names = [*FIELDS, *COUNT_COLUMNS]
    logins = [{**_login(athena_sim), "eventID": f"login-{i:05d}"} for i in range(2345)]
    queue({"rows": [_header(names)] + [query_row(r, names) for r in logins], "column_info": _info(names)})
    result, ctx = collect(athena_sim, URI)
    activity = result.frames["root_activity"]
    assert sorted(activity["event_id"]) == [r["eventID"] for r in logins]
    assert set(activity["kind"]) == {"console_login"} and activity["mfa_used"].all()
    sources = result.frames["sources"]
    [total] = _query_totals(sources).to_dict("records")
    assert total["status"] == "read" and total["pages_read"] == 3 and total["events_read"] == 2345
    [execution] = executions()
    query_rows = sources[sources["item"] == f"query {execution.id}"]
    [query] = query_rows[query_rows["account_id"] == "*"].to_dict("records")
    assert query["status"] == "read" and "SUCCEEDED" in query["reason"] and "bytes scanned" in query["reason"]
    # and a row for the one account whose events were counted, its count in the reason only
    [own] = query_rows[query_rows["account_id"] != "*"].to_dict("records")
    assert own["account_id"] == logins[0]["recipientAccountId"] and own["status"] == "read"
    assert "2,345 event(s) of this account" in own["reason"] and pd.isna(own["events_read"])
    assert execution.query == result.meta["athena_query"]["query"]
    assert execution.config["OutputLocation"].startswith("s3://athena-results/rootaudit/")
    assert [p.get("NextToken") for p in calls(ctx, "GetQueryResults")] == [None, "1000", "2000"]
    [started] = calls(ctx, "StartQueryExecution")
    assert started["WorkGroup"] == "primary" and started["QueryExecutionContext"]["Database"] == DATABASE


def test_an_account_the_table_holds_no_event_of_is_not_covered(athena_sim: MiniSim) -> None:
    """The query counts every account's events: an account that delivered nothing must not pass for one
    without root activity."""
    names = [*FIELDS, *COUNT_COLUMNS]
    login = _login(athena_sim)
    quiet = next(a for a in sorted(accounts_frame()["account_id"]) if a != login["recipientAccountId"])
    others = {"Data": [{} for _ in FIELDS] + [{"VarCharValue": v} for v in (quiet, "us-east-1", "412")]}
    queue({"rows": [_header(names), query_row(login, names), others], "column_info": _info(names)})
    result, _ = collect(athena_sim, URI)
    sources = result.frames["sources"]
    gaps = sources[sources["status"] == "not_covered"]
    heard = {quiet, login["recipientAccountId"]}
    assert set(gaps["account_id"]) == set(accounts_frame()["account_id"]) - heard
    assert gaps["reason"].str.contains("holds no event of this account").all()
    read = sources[(sources["status"] == "read") & (sources["account_id"] != "*")]
    assert dict(zip(read["account_id"], read["reason"].str.extract(r": ([\d,]+) event")[0], strict=True)) == {
        login["recipientAccountId"]: "1", quiet: "412"}
    [total] = _query_totals(sources).to_dict("records")
    assert total["events_read"] == 413  # the login and the quiet account's 412 others
    assert list(result.frames["root_activity"]["event_id"]) == [login["eventID"]]


def test_an_answer_without_the_querys_counts_is_not_trusted(athena_sim: MiniSim) -> None:
    names = list(FIELDS)  # an answer shaped as some other query's: no account, region or count
    queue({"rows": [_header(names), query_row(_login(athena_sim), names)], "column_info": _info(names)})
    result, _ = collect(athena_sim, URI)
    sources = result.frames["sources"]
    [query] = sources[sources["item"].str.startswith("query ")].to_dict("records")
    assert query["status"] == "failed" and "does not say its account" in query["reason"]
    assert set(_query_totals(sources)["status"]) == {"failed"}


def test_an_account_the_projection_leaves_out_is_not_covered(athena_sim: MiniSim) -> None:
    glue_table(athena_sim, partitioned=True, name="narrow", accounts=["123456789012"])
    result, _ = collect(athena_sim, f"athena://primary/{DATABASE}.narrow")
    sources = result.frames["sources"]
    gaps = sources[sources["status"] == "not_covered"]
    left_out = gaps[gaps["reason"].str.contains("projection.account.values")]
    assert set(left_out["account_id"]) == set(athena_sim.scenario.accounts) - {"123456789012"}
    # moto answered no rows: the one account the table covers held no event either
    assert list(gaps[~gaps.index.isin(left_out.index)]["account_id"]) == ["123456789012"]


@pytest.fixture
def slow_queries() -> Iterator[None]:
    """Queries stay QUEUED for a few GetQueryExecution calls (moto's state manager)."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="athena::execution",
                                 transition={"progression": "manual", "times": 3})
    yield
    state_manager.unset_transition("athena::execution")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _run(sim: MiniSim, settings: AthenaSettings) -> tuple[Any, ...]:
    ctx = context()
    return (*collect_athena(ctx, URI, sim.scenario.period, sorted(sim.scenario.accounts), REGIONS, settings),
            ctx)


def test_a_query_that_outlives_its_time_is_stopped_and_not_assessed(athena_sim: MiniSim,
                                                                    slow_queries: None) -> None:
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="athena::execution", transition={"progression": "manual",
                                                                              "times": 1000})
    clock = FakeClock()
    tallies, extra, run, ctx = _run(athena_sim, AthenaSettings(timeout_seconds=60, clock=clock,
                                                               sleep=clock.sleep))
    assert tallies == [] and run.state == "TIMED_OUT"
    [row] = extra
    assert row["status"] == "failed" and "after 60 s" in row["reason"] and "stopped" in row["reason"]
    assert calls(ctx, "StopQueryExecution") == [{"QueryExecutionId": run.query_id}]
    [execution] = executions()
    assert execution.status == "CANCELLED"
    assert clock.sleeps[:4] == [1.0, 2.0, 4.0, 8.0] and max(clock.sleeps) == 10.0
    assert calls(ctx, "GetQueryResults") == []


def test_a_failed_query_is_not_assessed_with_athenas_reason(athena_sim: MiniSim, slow_queries: None) -> None:
    clock = FakeClock()

    def fail(seconds: float) -> None:
        clock.sleep(seconds)
        [execution] = executions()
        execution.status = "FAILED"
        execution.state_change_reason = ("TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.trail.x' "
                                         "does not exist")

    tallies, extra, run, ctx = _run(athena_sim, AthenaSettings(clock=clock, sleep=fail))
    assert tallies == [] and run.state == "FAILED"
    [row] = extra
    assert row["status"] == "failed" and "TABLE_NOT_FOUND" in row["reason"] and run.query_id in row["item"]
    assert calls(ctx, "StopQueryExecution") == [] and calls(ctx, "GetQueryResults") == []


def test_a_failed_query_makes_the_evidence_incomplete(athena_sim: MiniSim, slow_queries: None) -> None:
    from rootaudit.collectors.cloudtrail.results import collected
    from rootaudit.controls.signals import coverage_gaps, records

    clock = FakeClock()

    def cancel(seconds: float) -> None:
        clock.sleep(seconds)
        [execution] = executions()
        execution.status = "CANCELLED"
        execution.state_change_reason = "Query cancelled by user"

    tallies, extra, run, _ = _run(athena_sim, AthenaSettings(clock=clock, sleep=cancel))
    assert run.state == "CANCELLED"
    frames = collected(tallies, athena_sim.scenario.period, extra).frames
    covered, why = coverage_gaps(records(frames["sources"]), ["222222222222"])
    assert not covered and "cancelled" in why


def test_an_interrupted_run_stops_its_query(athena_sim: MiniSim, slow_queries: None) -> None:
    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    ctx = context()
    with pytest.raises(KeyboardInterrupt):
        collect_athena(ctx, URI, athena_sim.scenario.period, [], REGIONS, AthenaSettings(sleep=interrupt))
    [execution] = executions()
    assert execution.status == "CANCELLED"
    assert calls(ctx, "StopQueryExecution") == [{"QueryExecutionId": execution.id}]


def test_a_table_that_is_not_there_is_not_assessed(athena_sim: MiniSim) -> None:
    result, ctx = collect(athena_sim, f"athena://primary/{DATABASE}.missing")
    [row] = result.frames["sources"].to_dict("records")
    assert row["status"] == "failed" and "GetTableMetadata" in row["reason"]
    assert "MetadataException" in row["reason"]
    assert calls(ctx, "StartQueryExecution") == []


def test_a_table_without_cloudtrails_columns_is_refused(athena_sim: MiniSim) -> None:
    athena_sim.client("glue").create_table(DatabaseName=DATABASE, TableInput={
        "Name": "other", "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "string"}]}})
    result, ctx = collect(athena_sim, f"athena://primary/{DATABASE}.other")
    [row] = result.frames["sources"].to_dict("records")
    assert row["status"] == "failed" and "not a CloudTrail table" in row["reason"]
    assert calls(ctx, "StartQueryExecution") == []


# ---------------------------------------------------------------- the proof: the SQL means what a scan means


def test_the_query_in_duckdb_gives_the_ledger_and_activity_of_the_local_scan(athena_sim: MiniSim,
                                                                              tmp_path: Path) -> None:
    """The collector's query, transpiled from Athena's SQL to DuckDB's, over a view with the table's columns
    filled from the scenario's trail files, gives what the local scan of the same files gives; its result,
    in Athena's shape, queued in moto and paged back by the collector, gives the same frames again."""
    import duckdb
    import sqlglot

    sim = athena_sim
    root = tmp_path / "trail"
    trail.write_scenario_trail(sim.scenario, org_id_of(sim), root)
    # One member account delivered nothing: both sources must say so, not read it as quiet.
    [silent] = root.glob(f"**/AWSLogs/{org_id_of(sim)}/444444444444")
    shutil.rmtree(silent)
    local, _ = collect(sim, str(root))
    con = duckdb.connect()
    held = load_trail(con, root, DATABASE, TABLE, tmp_path)
    metadata = context().client("athena").get_table_metadata(
        CatalogName="AwsDataCatalog", DatabaseName=DATABASE, TableName=TABLE)["TableMetadata"]
    info = TableInfo.from_metadata(DATABASE, TABLE, metadata)
    accounts = sorted(accounts_frame()["account_id"])
    sql = build_query(info, sim.scenario.period, accounts, REGIONS)
    [in_duckdb] = sqlglot.transpile(sql, read="athena", write="duckdb")
    cursor = con.execute(in_duckdb)
    answer = athena_results(cursor)
    matched = len(answer["rows"]) - 1
    assert held > 10 * matched > 0  # the noise is in the table, and the query counts it, not returns it
    period = sim.scenario.period
    start, end = (f"{moment:%Y-%m-%dT%H:%M:%SZ}" for moment in (period.start, period.end))
    [(in_period,)] = con.execute(f'SELECT count(*) FROM "{DATABASE}"."{TABLE}" '
                                 f"WHERE eventtime >= '{start}' AND eventtime < '{end}'").fetchall()
    queue(answer)
    result, _ = collect(sim, URI)
    [execution] = executions()
    assert execution.query == sql  # what ran in DuckDB is what the collector sent
    for name in ("privileged_sessions", "root_activity"):
        assert len(local.frames[name]) > 0
        pd.testing.assert_frame_equal(frame(result, name), frame(local, name))
    sources = result.frames["sources"]
    assert set(sources["status"]) <= {"read", "not_covered"}
    # every event of the period counted once, whichever group it fell in
    assert int(_query_totals(sources)["events_read"].iloc[0]) == in_period
    local_sources = local.frames["sources"]
    assert (set(sources[sources["status"] == "not_covered"]["account_id"])
            == set(local_sources[local_sources["status"] == "not_covered"]["account_id"]) == {"444444444444"})
    # CLOUDTRAIL_COVERAGE rests on this: the accounts the query read are covered, as the files say,
    # and the silent one is not, by either source.
    from rootaudit.controls.signals import Coverage, records

    for rows in (records(sources), records(local_sources)):
        coverage = Coverage(rows)
        assert all(coverage.of([a])[0] for a in accounts if a != "444444444444"), rows
        assert not coverage.of(["444444444444"])[0]


def test_athena_never_claims_validated_log_files_and_is_re_derived(athena_sim: MiniSim) -> None:
    """The Athena query reads the delivered files, rootaudit does not: its sources row, LOG_FILE_INTEGRITY
    and the report say log-file integrity was not checked (NOT_ASSESSED whatever the trail's setting);
    its frames are re-derived from what it kept raw."""
    from rootaudit.controls.signals import NOT_ASSESSED, PASS, LogIntegrity, Signal, records
    from rootaudit.render.model import source_summary
    from tests.support.kept import edited_is_named

    names = [*FIELDS, *COUNT_COLUMNS]
    logins = [{**_login(athena_sim), "eventID": f"login-{i:03d}"} for i in range(3)]
    queue({"rows": [_header(names)] + [query_row(r, names) for r in logins], "column_info": _info(names)})
    result, _ = collect(athena_sim, URI)
    sources = records(result.frames["sources"])
    [total] = records(_query_totals(result.frames["sources"]))
    assert "log-file integrity was not checked by rootaudit" in total["reason"]
    assert "Athena" in total["reason"]
    assert total["files_validated"] is None
    coverage = LogIntegrity(sources).of("222222222222", Signal(PASS, "organization trail with validation"))
    assert coverage.value == NOT_ASSESSED
    assert f"{URI}: log-file integrity was not checked" in coverage.evidence
    [summary] = source_summary([{k: "" if v is None else str(v) for k, v in total.items()}])
    assert "did not check them against CloudTrail's signed digests" in summary["integrity_note"]

    detail = edited_is_named(result, athena_sim.scenario.period, "root_activity", "kind", "other")
    assert "kind is other, the responses give console_login" in detail
