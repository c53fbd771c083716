"""A 1,000-account simulation seeds in well under a minute and answers per-account calls quickly."""

from __future__ import annotations

import pytest

from rootaudit.period import parse_period
from rootaudit.simulate import SimulatedOrganization, build_scenario
from rootaudit.simulate.sessions import root_session


@pytest.mark.slow
def test_thousand_accounts_in_server_mode():
    scenario = build_scenario(1000, 11, parse_period("2026-Q3"))
    # How fast seeding and root sessions are is measured in bench/, never asserted here.
    with SimulatedOrganization(scenario, mode="server") as sim:
        orgs = sim.client("organizations")
        listed = [a for p in orgs.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
        assert len(listed) == 1000
        members = [a for a in scenario.members() if a.kind == "clean"][:20]
        for spec in members:
            iam = sim.client("iam", session=root_session(sim, spec.account_id))
            assert iam.list_access_keys()["AccessKeyMetadata"] == []
