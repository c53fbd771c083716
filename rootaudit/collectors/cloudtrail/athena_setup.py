"""What `rootaudit athena-ddl` reads of the organization (read-only, when not given on the command line):
its id, its accounts and the regions enabled for the caller, the values the table's partition
projection enumerates."""

from __future__ import annotations

from rootaudit.aws import AwsContext, paginate


def organization_id(ctx: AwsContext) -> str:
    return str(ctx.client("organizations").describe_organization()["Organization"]["Id"])


def account_ids(ctx: AwsContext) -> list[str]:
    """Every account the organization lists, closed ones included: the trail kept their history."""
    accounts, _ = paginate(ctx.client("organizations"), "list_accounts", "Accounts")
    return sorted(str(a["Id"]) for a in accounts)


def region_names(ctx: AwsContext) -> list[str]:
    return sorted(r["RegionName"] for r in ctx.client("ec2").describe_regions()["Regions"])
