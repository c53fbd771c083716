"""The real AWS CLI against the simulation over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# awscli is a test extra: it sits beside the interpreter running the tests
AWS = Path(sys.executable).parent / "aws"


def _aws(sim, *args):
    with sim.environ():
        env = dict(os.environ, AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                   AWS_PAGER="")
    proc = subprocess.run([str(AWS), *args, "--output", "json"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    return proc


def test_cli_lists_features_and_assumes_root(server_sim):
    proc = _aws(server_sim, "iam", "list-organizations-features")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    member = server_sim.scenario.by_kind("active_root_key").account_id
    proc = _aws(server_sim, "sts", "assume-root", "--target-principal", member, "--task-policy-arn",
                "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
    assert proc.returncode == 0, proc.stderr
    creds = json.loads(proc.stdout)["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["Expiration"]


def test_cli_shows_a_refusal(server_sim):
    member = server_sim.scenario.by_kind("active_root_key").account_id
    proc = _aws(server_sim, "sts", "assume-root", "--target-principal", member, "--task-policy-arn",
                "arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials",
                "--duration-seconds", "3600")
    assert proc.returncode != 0 and "ValidationError" in proc.stderr
