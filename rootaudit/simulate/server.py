"""`rootaudit simulate`: serve a simulated organization on 127.0.0.1 until interrupted."""

from __future__ import annotations

import threading

from rootaudit.period import Period
from rootaudit.simulate.organization import ACCESS_KEY_ID, SECRET_ACCESS_KEY, SimulatedOrganization
from rootaudit.simulate.scenario import build_scenario


def serve(port: int, accounts: int, seed: int, host: str = "127.0.0.1",
          stop: threading.Event | None = None, period: Period | None = None) -> None:
    """Build the scenario, serve it on host:port, print how to use it, and block until Ctrl-C (or
    until `stop` is set)."""
    scenario = build_scenario(accounts=accounts, seed=seed, period=period)
    with SimulatedOrganization(scenario, mode="server", host=host, port=port) as sim:
        members = scenario.members()
        print(f"Simulated AWS Organization: {len(scenario.accounts)} accounts, seed {seed}, "
              f"period {scenario.period.label}, seeded in {sim.seed_seconds:.1f}s", flush=True)
        print(f"  endpoint:    {sim.endpoint_url}")
        print(f"  region:      {scenario.region}")
        print("  credentials: simulated, not secret; they act as an IAM principal of the management "
              f"account {scenario.management_account_id}")
        print(f"    export AWS_ENDPOINT_URL={sim.endpoint_url}")
        print(f"    export AWS_ACCESS_KEY_ID={ACCESS_KEY_ID}")
        print(f"    export AWS_SECRET_ACCESS_KEY={SECRET_ACCESS_KEY}")
        print(f"    export AWS_DEFAULT_REGION={scenario.region}")
        print("    unset AWS_PROFILE")
        print("  or as a named profile (then --profile sim): in ~/.aws/config")
        print(f"    [profile sim]\n    region = {scenario.region}\n    endpoint_url = {sim.endpoint_url}")
        print(f"  and in ~/.aws/credentials\n    [sim]\n    aws_access_key_id = {ACCESS_KEY_ID}\n"
              f"    aws_secret_access_key = {SECRET_ACCESS_KEY}")
        print(f"  try: rootaudit doctor --profile sim --period {scenario.period.label}")
        if members:
            print(f"  try: aws sts assume-root --target-principal {members[0].account_id} "
                  "--task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
        print("Press Ctrl-C to stop.", flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            print("\nstopped", flush=True)
