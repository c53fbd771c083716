"""Fixtures: the sample root history in a stand-in for the simulated organization (moto's mock_aws with
the cloudtrail extension and trail.seed)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from rootaudit.simulate import events as ev
from rootaudit.simulate.trail_sample import MiniScenario, MiniSim, history, recent_period


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def mini_sim(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[MiniSim]:
    """mock_aws with the cloudtrail extension, an organization, the history in EVENT_LOG, and trail.seed."""
    from moto import mock_aws

    from rootaudit.collectors.cloudtrail import lookup
    from rootaudit.simulate import trail

    monkeypatch.setattr(lookup, "REQUEST_INTERVAL", 0.0)  # the 2/s pacing is tested on its own
    trail.install()
    period = recent_period()
    scenario = MiniScenario(period=period, history=history(period))
    with mock_aws():
        boto3.client("organizations", region_name="us-east-1").create_organization(FeatureSet="ALL")
        ev.EVENT_LOG.clear()
        for event in scenario.history:
            ev.EVENT_LOG.add(event)
        sim = MiniSim(scenario)
        trail.seed(sim)
        try:
            yield sim
        finally:
            ev.EVENT_LOG.clear()
