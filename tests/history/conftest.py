"""Two consecutive quarters of one simulated organization, collected through boto3 as `run` would, and
evaluated, for the history, diff and drift tests (`rootaudit.simulate.quarters` says what changes).

Collection is stamped by an injected clock: each quarter is collected the day after it ends, so a risk
acceptance that expires in between is active in the first pack and expired in the second."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from rootaudit.controls import evaluate
from rootaudit.controls.results import Results
from rootaudit.history.record import PackRecord, record_from_files
from rootaudit.period import parse_period
from rootaudit.render.pack import input_files, manifest_bytes, result_files
from rootaudit.simulate import events
from rootaudit.simulate.quarters import Quarters, two_quarters
from rootaudit.simulate.taskpolicies import TASK_POLICY_PREFIX
from rootaudit.snapshot import Snapshot, digest_files, utc_iso

PERIOD = parse_period("2026-Q3")
EXPIRING = "RISK-T-1"  # expires between the two collections
EXPIRES = "2026-08-15"


def data_files(snapshot: Snapshot, results: Results) -> dict[str, bytes]:
    """A pack's data files, inputs and manifest (what the history reads; the PDF and workbook are left
    out)."""
    files = {**snapshot.files(), **result_files(results), **input_files(results)}
    files["manifest.json"] = manifest_bytes(files, snapshot, digest_files(snapshot.files()))
    return files


def session_events(when, account: str, task: str, actions: list[str], n: int) -> list[events.RootEvent]:
    """An AssumeRoot session into `account` and the IAM calls made with it."""
    key = f"ASIATESTDRIFT{n:07d}"
    out: list[events.RootEvent] = [events.AssumeRootCall(
        event_id=f"00000000-0000-4000-8000-{n:012d}", time=when, region="us-east-1",
        caller_account="123456789012",
        caller_arn="arn:aws:sts::123456789012:assumed-role/RootAccessAdmin/bob",
        caller_principal_id="AROATESTDRIFT:bob", target_account=account,
        task_policy_arn=TASK_POLICY_PREFIX + task,
        duration_seconds=900, request_id=f"10000000-0000-4000-8000-{n:012d}", access_key_id=key,
        expiration=when + timedelta(seconds=900))]
    for i, name in enumerate(actions, start=1):
        out.append(events.RootSessionAction(
            event_id=f"20000000-0000-4000-8000-{n:06d}{i:06d}", time=when + timedelta(seconds=20 * i),
            region="us-east-1", account_id=account, access_key_id=key, event_source="iam.amazonaws.com",
            event_name=name, request_id=f"30000000-0000-4000-8000-{n:06d}{i:06d}", read_only=False))
    return out


@dataclass
class Collected:
    quarters: Quarters
    snapshots: dict[str, Snapshot]
    results: dict[str, Results]
    records: dict[str, PackRecord]
    files: dict[str, Mapping[str, bytes]]
    drifted: str  # the clean account whose password was created and deleted inside the later period


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Collected:
    import rootaudit.collect as collect_module
    from rootaudit.demo import collect_scenario

    quarters = two_quarters(accounts=14, seed=7, period=PERIOD)
    later = quarters.later
    # A clean account whose root password was created and deleted inside the later period: clean at both
    # collections, not clean throughout.
    drifted = next(a.account_id for a in later.members() if a.kind == "clean"
                   and a.account_id != quarters.cleaned)
    start = later.period.start
    later.history = sorted(later.history + session_events(
        start + timedelta(days=30), drifted, "IAMCreateRootUserPassword", ["CreateLoginProfile"], 1)
        + session_events(start + timedelta(days=33), drifted, "IAMDeleteRootUserCredentials",
                         ["DeleteLoginProfile"], 2), key=lambda e: e.time)

    exceptions = tmp_path_factory.mktemp("inputs") / "exceptions.yaml"
    inactive_key = later.by_kind("inactive_root_key").account_id
    exceptions.write_text(
        "exceptions:\n"
        f"  - id: {EXPIRING}\n    account: '{inactive_key}'\n    control: cis-aws-7.0.0:2.4\n"
        "    reason: kept until the vendor integration is retired\n    owner: data@example.com\n"
        f"    approver: ciso@example.com\n    ticket: RISK-9\n    expires: {EXPIRES}\n")
    out = Collected(quarters, {}, {}, {}, {}, drifted)
    original = collect_module._now
    try:
        for label, scenario in (("earlier", quarters.earlier), ("later", quarters.later)):
            stamp = utc_iso(scenario.period.end + timedelta(days=1, hours=8)) or ""
            collect_module._now = lambda stamp=stamp: stamp  # type: ignore[misc]
            snapshot = collect_scenario(scenario)
            results = evaluate(snapshot, exceptions_path=exceptions)
            out.snapshots[label], out.results[label] = snapshot, results
            out.files[label] = data_files(snapshot, results)
            out.records[label] = record_from_files(out.files[label], label)
    finally:
        collect_module._now = original
    return out


@pytest.fixture()
def pack_dirs(tmp_path: Path, collected: Collected) -> dict[str, Path]:
    """The two packs' data files as pack folders."""
    dirs = {}
    for label, files in collected.files.items():
        folder = tmp_path / label / f"rootaudit-{label}"
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        dirs[label] = folder
    return dirs
