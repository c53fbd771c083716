"""Fixtures for the simulated organization's tests: scenarios and open simulations in both modes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rootaudit.period import parse_period
from rootaudit.simulate import Scenario, SimulatedOrganization, build_scenario

PERIOD = parse_period("2026-Q3")


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return build_scenario(accounts=12, seed=7, period=PERIOD)


@pytest.fixture(scope="module")
def server_sim() -> Iterator[SimulatedOrganization]:
    """One server-mode simulation for a whole module: for tests that only read (or that undo what they do)."""
    with SimulatedOrganization(build_scenario(accounts=12, seed=7, period=PERIOD), mode="server") as sim:
        yield sim


@pytest.fixture
def fresh_sim() -> Iterator[SimulatedOrganization]:
    """A new in-process simulation per test: for tests that change state."""
    with SimulatedOrganization(build_scenario(accounts=12, seed=7, period=PERIOD), mode="inprocess") as sim:
        yield sim


@pytest.fixture
def fresh_server_sim() -> Iterator[SimulatedOrganization]:
    """A new server-mode simulation per test: for fault tests."""
    with SimulatedOrganization(build_scenario(accounts=12, seed=7, period=PERIOD), mode="server") as sim:
        yield sim
