"""`rootaudit athena-ddl`: the CREATE EXTERNAL TABLE for an organization trail (AWS's documented CloudTrail
columns, partition projection over account, region and day) over the folders the S3 source reads."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlglot
from sqlglot import exp

from rootaudit.cli import main
from rootaudit.collectors.cloudtrail import athena_table
from rootaudit.collectors.cloudtrail.layout import day_prefix, org_base
from rootaudit.simulate.trail_sample import MiniSim, org_id_of

ORG = "o-abcd123456"
ACCOUNTS = ["444455556666", "111122223333"]


def ddl(**kwargs: object) -> str:
    args = {"location": "s3://trail-bucket/org", "organization_id": ORG, "accounts": ACCOUNTS,
            "regions": ["us-east-1", "eu-west-1"], **kwargs}
    return athena_table.create_table_ddl(**args)  # type: ignore[arg-type]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def test_the_statement_has_the_documented_columns_and_the_partitions() -> None:
    statement = sqlglot.parse_one(ddl(), read="hive")
    assert isinstance(statement, exp.Create) and statement.this.this.name == "cloudtrail_logs"
    columns = [(c.name, _compact(c.args["kind"].sql("hive"))) for c in statement.this.expressions]
    assert columns == [(n, _compact(athena_table.hive_type(k))) for n, k in athena_table.columns()]
    names = [n for n, _ in columns]
    # the columns AWS's statement documents (Athena User Guide, partition projection), in its order
    documented = ["eventversion", "useridentity", "eventtime", "eventsource", "eventname", "awsregion",
                  "sourceipaddress", "useragent", "errorcode", "errormessage", "requestparameters",
                  "responseelements", "additionaleventdata", "requestid", "eventid", "readonly", "resources",
                  "eventtype", "apiversion", "recipientaccountid", "serviceeventdetails", "sharedeventid",
                  "vpcendpointid", "vpcendpointaccountid", "eventcategory", "addendum",
                  "sessioncredentialfromconsole", "edgedevicedetails", "tlsdetails"]
    assert names == documented
    identity = dict(columns)["useridentity"]
    assert "sessioncontext:struct<attributes:struct<mfaauthenticated:string" in identity
    assert "assumedroot:string" in identity  # what CloudTrail writes on a root session, added
    text = ddl()
    assert "PARTITIONED BY (`account` STRING, `region` STRING, `date` STRING)" in text
    assert "'org.apache.hive.hcatalog.data.JsonSerDe'" in text
    assert "'com.amazon.emr.cloudtrail.CloudTrailInputFormat'" in text


def test_projection_names_the_folders_the_s3_source_reads() -> None:
    text = ddl(start=date(2024, 1, 1))
    props = dict(re.findall(r"'([a-z.]+)'='([^']*)'", text))
    assert props["projection.enabled"] == "true"
    assert props["projection.account.type"] == "enum"
    assert props["projection.account.values"] == "111122223333,444455556666"
    assert props["projection.region.values"] == "eu-west-1,us-east-1"
    assert props["projection.date.type"] == "date" and props["projection.date.format"] == "yyyy/MM/dd"
    assert props["projection.date.range"] == "2024/01/01,NOW"
    folder = (props["storage.location.template"].replace("${account}", "111122223333")
              .replace("${region}", "eu-west-1").replace("${date}", "2026/07/04")) + "/"
    assert folder == "s3://trail-bucket/" + day_prefix(org_base("org", ORG), "111122223333", "eu-west-1",
                                                       date(2026, 7, 4))
    assert f"LOCATION 's3://trail-bucket/org/AWSLogs/{ORG}/'" in text


@pytest.mark.parametrize(("change", "message"), [
    ({"location": "trail-bucket/org"}, "not an s3:// location"),
    ({"organization_id": "abc"}, "not an organization id"),
    ({"accounts": ["12"]}, "not an account id or region: 12"),
    ({"regions": ["us-east-1'; DROP"]}, "not an account id or region"),
    ({"table": "Bad-Name"}, "not a table name"),
    ({"accounts": []}, "at least one account"),
])
def test_bad_input_is_named(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ddl(**change)


def test_the_command_reads_the_organization(mini_sim: MiniSim, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["athena-ddl", "s3://trail-bucket/org", "--table", "trail_logs", "--regions", "us-east-1"])
    assert code == 0
    text = capsys.readouterr().out
    assert text.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS trail_logs (")
    org = org_id_of(mini_sim)
    accounts = sorted(a["Id"] for a in mini_sim.client("organizations").list_accounts()["Accounts"])
    assert f"'projection.account.values'='{','.join(accounts)}'" in text
    assert f"s3://trail-bucket/org/AWSLogs/{org}/" in text


def test_the_command_names_a_bad_flag_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["athena-ddl", "s3://b/p", "--organization-id", ORG, "--accounts", "111122223333",
                 "--regions", "us-east-1", "--since", "yesterday"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and err == ["rootaudit: --since must be YYYY-MM-DD, not 'yesterday'"]
