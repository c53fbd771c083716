"""The simulation's request handling: keep-alive connections (requests in a row on one connection, bodies
read whole, chunked ones too), idle connections ended with the simulation, moto's host lookups kept, and
moto's service models read through one loader."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from rootaudit.simulate import ACCESS_KEY_ID, SECRET_ACCESS_KEY, SimulatedOrganization
from rootaudit.simulate.dispatch import HostCachingDispatcher


@pytest.fixture
def sim(scenario) -> Iterator[SimulatedOrganization]:
    with SimulatedOrganization(scenario, mode="server") as opened:
        yield opened


def _signed(sim: SimulatedOrganization, target: str, body: bytes) -> dict[str, str]:
    """Headers of an Organizations JSON call signed with the simulated credentials."""
    request = AWSRequest(method="POST", url=f"{sim.endpoint_url}/", data=body, headers={
        "X-Amz-Target": f"AWSOrganizationsV20161128.{target}",
        "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "organizations", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def _connection(sim: SimulatedOrganization) -> http.client.HTTPConnection:
    url = urlsplit(sim.endpoint_url or "")
    return http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)


def test_one_connection_carries_requests_in_a_row_bodies_included(sim: SimulatedOrganization) -> None:
    conn = _connection(sim)
    try:
        ports = set()
        for target, body in [("DescribeOrganization", b"{}"), ("ListRoots", b"{}"),
                             ("ListAccounts", json.dumps({"MaxResults": 5}).encode())] * 2:
            conn.request("POST", "/", body=body, headers=_signed(sim, target, body))
            answer = conn.getresponse()
            data = answer.read()
            assert answer.status == 200, data
            assert answer.getheader("Connection") is None  # no "close": the connection stays open
            assert int(answer.getheader("Content-Length") or -1) == len(data)
            json.loads(data)
            assert conn.sock is not None
            ports.add(conn.sock.getsockname()[1])
        assert len(ports) == 1  # all six on the one connection
    finally:
        conn.close()


def test_a_chunked_request_body_is_read_whole_and_the_next_follows(sim: SimulatedOrganization) -> None:
    conn = _connection(sim)
    try:
        body = json.dumps({"MaxResults": 2}).encode()
        headers = _signed(sim, "ListAccounts", body)
        headers.pop("Content-Length", None)
        conn.request("POST", "/", body=iter([body[:5], body[5:]]), headers=headers,
                     encode_chunked=True)
        first = conn.getresponse()
        assert first.status == 200 and len(json.loads(first.read())["Accounts"]) == 2
        conn.request("POST", "/", body=b"{}", headers=_signed(sim, "ListRoots", b"{}"))
        second = conn.getresponse()
        assert second.status == 200 and json.loads(second.read())["Roots"]
    finally:
        conn.close()


def test_closing_the_simulation_ends_its_idle_connections(scenario) -> None:
    with SimulatedOrganization(scenario, mode="server") as opened:
        conn = _connection(opened)
        conn.request("POST", "/", body=b"{}", headers=_signed(opened, "ListRoots", b"{}"))
        assert conn.getresponse().read()
        sock = conn.sock
        assert sock is not None
    sock.settimeout(10)
    try:
        assert sock.recv(1) == b""  # the server shut the idle connection down
    except ConnectionResetError:
        pass  # also ended
    except TimeoutError:
        pytest.fail("the idle connection was left open")
    conn.close()


def test_host_lookups_are_moto_s_own_answers_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [None, "moto_api", "iam.amazonaws.com", "sts.us-east-1.amazonaws.com",
             "organizations.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com",
             "kms.eu-west-1.amazonaws.com", "cloudtrail.us-east-1.amazonaws.com", "s3"]
    plain = DomainDispatcherApplication(create_backend_app)
    kept = HostCachingDispatcher(create_backend_app)
    expected = [plain.get_backend_for_host(h) for h in hosts]
    assert [kept.get_backend_for_host(h) for h in hosts] == expected
    assert "iam" in expected and "sts" in expected and "s3" in expected
    listed = []
    real = backends.list_of_moto_modules
    monkeypatch.setattr(backends, "list_of_moto_modules", lambda: listed.append(1) or real())
    assert [kept.get_backend_for_host(h) for h in hosts] == expected
    assert listed == []  # answered from what was kept
    assert plain.get_backend_for_host("iam.amazonaws.com") == "iam" and listed  # moto's own lists each time


def test_moto_reads_its_service_models_through_one_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import loaders, utils

    from rootaudit.simulate.extensions import install

    install()
    cases = [("iam", "service-2"), ("sts", "service-2"), ("organizations", "paginators-1")]
    fresh = [loaders.create_loader().load_service_model(service, model) for service, model in cases]
    made: list[int] = []
    real = loaders.create_loader
    monkeypatch.setattr(loaders, "create_loader", lambda: made.append(1) or real())
    monkeypatch.setattr(utils, "create_loader", loaders.create_loader)
    assert [utils._load_service_model(service, model) for service, model in cases] == fresh
    assert made == []  # no loader made per model: the one made when the simulation was installed
