"""serve(): the `rootaudit simulate` entry point prints how to reach the simulation and serves it."""

from __future__ import annotations

import re
import threading
import time

import boto3

from rootaudit.simulate.server import serve


def test_serve_prints_endpoint_region_and_credentials_and_answers(capsys):
    stop = threading.Event()
    thread = threading.Thread(target=serve, kwargs={"port": 0, "accounts": 3, "seed": 5, "stop": stop})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        out = ""
        while "Press Ctrl-C" not in out and time.monotonic() < deadline:
            time.sleep(0.05)
            out += capsys.readouterr().out
        endpoint = re.search(r"AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)", out)
        assert endpoint, out
        assert "AWS_DEFAULT_REGION=us-east-1" in out and "AWS_ACCESS_KEY_ID=testing" in out
        orgs = boto3.client("organizations", endpoint_url=endpoint.group(1), region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")
        assert len(orgs.list_accounts()["Accounts"]) == 3
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
