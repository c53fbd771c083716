"""`rootaudit demo`: the whole pipeline against the simulated organization, for two consecutive periods.

The simulation is served over HTTP on loopback and reached through `AWS_ENDPOINT_URL`, so collection
goes through boto3 and the real collectors exactly as it would against AWS; every number in the pack
comes from a response the collectors received. Only the inputs a person would write (session
justifications, risk acceptances) are made up, from the scenario, and the pack records them as inputs.

The period before the one asked for is collected and packed first, then the period itself: both packs are
recorded in the demo's history (rootaudit-history.sqlite in --out), so the second pack shows what changed
since the first and the trend of its headline, and `rootaudit history` and `rootaudit diff` have two packs
to show (`rootaudit.simulate.quarters` says what changes between them). With two cores the earlier
period is collected and packed in a forked child while the later one is collected, so the two periods cost
less than twice one. The period asked for is signed at collection with a KMS key of the simulated
organization, as `run --sign-with kms:…` signs it; its public key is written to --out.
"""

from __future__ import annotations

import logging
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rootaudit import progress
from rootaudit.aws import AwsContext, AwsSettings
from rootaudit.collect import collect
from rootaudit.collectors import CollectSettings
from rootaudit.collectors.cloudtrail.discover import AUTO
from rootaudit.controls import evaluate
from rootaudit.controls.results import Results
from rootaudit.history.pack_view import history_view
from rootaudit.history.recorder import record_pack
from rootaudit.history.store import DEFAULT_NAME, HistoryStore
from rootaudit.period import Period
from rootaudit.render.pack import (
    PackPaths,
    discard_prepared_pdf_worker,
    prepare_pdf_worker,
    serial_render,
    write_pack,
)
from rootaudit.signing.kms import KmsSigner
from rootaudit.simulate import SimulatedOrganization
from rootaudit.simulate.demo_inputs import exceptions, write_demo_inputs
from rootaudit.simulate.quarters import two_quarters
from rootaudit.simulate.scenario import Scenario
from rootaudit.snapshot import Snapshot, save_snapshot, write_signature

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoRun:
    paths: PackPaths  # the pack of the period asked for
    results: Results
    earlier: PackPaths  # the pack of the period before
    history: Path


DEMO_PUBLIC_KEY = "signing-key.pub.pem"


def collect_scenario(scenario: Scenario, sign_into: Path | None = None) -> Snapshot:
    """Serve the scenario's organization and collect it as `rootaudit run` would. With `sign_into`, the
    snapshot is signed as `run --sign-with kms:…` signs it, with a KMS key of the simulated organization,
    whose public key is written to `sign_into/signing-key.pub.pem` (as its owner would hand it over)."""
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        trail = scenario.trail
        signer = _signing_key(sim, sign_into) if sign_into is not None else None
        # `auto`, the default of `rootaudit run`: the organization trail is found with DescribeTrails
        settings = CollectSettings(period=scenario.period, regions=list(scenario.regions), cloudtrail=AUTO,
                                   fallback_role=scenario.audit_role_name)
        ctx = AwsContext(AwsSettings(region=trail.home_region))
        snapshot = collect(ctx, settings)
        if signer is not None:
            # the digest of the files save_snapshot will write (the same bytes), signed while KMS is up
            snapshot.signature = signer.sign(snapshot.digest()).to_bytes()
        return snapshot


def _signing_key(sim: SimulatedOrganization, folder: Path) -> KmsSigner:
    signer = KmsSigner(sim.create_signing_key(region=sim.scenario.trail.home_region))
    signer.prepare()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_PUBLIC_KEY).write_text(signer.public_key, encoding="ascii")
    return signer


def _one_period(scenario: Scenario, label: str, out: Path, store: HistoryStore,
                exception_entries: list[dict[str, Any]] | None) -> tuple[PackPaths, Results]:
    snapshot = collect_scenario(scenario)
    prepare_pdf_worker()  # it imports WeasyPrint while the snapshot is written and evaluated
    try:
        return _pack_period(_evaluated(scenario, snapshot, label, out, exception_entries), out, store)
    finally:
        discard_prepared_pdf_worker()  # when the pack did not get as far as using it


@dataclass(frozen=True)
class _Evaluated:
    snapshot: Snapshot
    results: Results
    label: str


def _evaluated(scenario: Scenario, snapshot: Snapshot, label: str, out: Path,
               exception_entries: list[dict[str, Any]] | None) -> _Evaluated:
    """The period's inputs written and the controls evaluated: what a pack needs before it reads the
    history."""
    inputs = write_demo_inputs(scenario, out / f"inputs{label}", exception_entries)
    results = evaluate(snapshot, exceptions_path=inputs.exceptions, justifications_path=inputs.justifications)
    return _Evaluated(snapshot, results, label)


def _pack_period(done: _Evaluated, out: Path, store: HistoryStore) -> tuple[PackPaths, Results]:
    # The snapshot is written here, not with the evaluation: writing into --out waits for its lock,
    # which the earlier period's child holds while it writes its pack.
    snapshot, results = done.snapshot, done.results
    save_snapshot(snapshot, out / f"snapshot{done.label}")
    if snapshot.signature is not None:
        write_signature(out / f"snapshot{done.label}", snapshot.signature)
    view = history_view(store, snapshot, results.control_results, results.exceptions, results.inputs)
    paths = write_pack(snapshot, results, out, replace=True, history=view)
    record_pack(store, paths.folder)
    return paths, results


def run_demo(accounts: int, seed: int, out: Path, period: Period) -> DemoRun:
    quarters = two_quarters(accounts=accounts, seed=seed, period=period)
    out.mkdir(parents=True, exist_ok=True)
    history = out / DEFAULT_NAME
    # The demo replaces its packs, and so its history: a rootaudit history there is started again (any
    # other file is refused by the store, unchanged).
    HistoryStore.open(history).close()
    history.unlink()
    register = exceptions(quarters.later) + quarters.earlier_exceptions()
    earlier_label = f"-{quarters.earlier.period.label}"
    if serial_render():
        with HistoryStore.open(history) as store:
            earlier, _ = _one_period(quarters.earlier, earlier_label, out, store, register)
            later = collect_scenario(quarters.later, sign_into=out)
            paths, results = _pack_period(_evaluated(quarters.later, later, "", out, None), out, store)
        return DemoRun(paths=paths, results=results, earlier=earlier, history=history)
    # Two cores: the earlier period is collected and packed in a forked child while this process
    # collects the later one and evaluates it; the later pack waits for the earlier
    # one to be recorded (it shows the changes since it). The packs are the same either way.
    child = _EarlierPeriod(quarters.earlier, earlier_label, out, history, register)
    try:
        snapshot = collect_scenario(quarters.later, sign_into=out)
        later_done = _evaluated(quarters.later, snapshot, "", out, None)
        prepare_pdf_worker()  # it imports WeasyPrint while the earlier pack is made
        earlier = child.wait()
    except BaseException:
        child.stop()
        discard_prepared_pdf_worker()
        raise
    try:
        with HistoryStore.open(history) as store:
            paths, results = _pack_period(later_done, out, store)
    finally:
        discard_prepared_pdf_worker()
    return DemoRun(paths=paths, results=results, earlier=earlier, history=history)


class _EarlierPeriod:
    """The earlier period's whole pipeline in a forked child; `wait` gives its pack or raises its error."""

    def __init__(self, scenario: Scenario, label: str, out: Path, history: Path,
                 register: list[dict[str, Any]]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=self._run, name="rootaudit-demo-earlier-period",
                                        args=(send, scenario, label, out, history, register))
        self._process.start()
        send.close()

    @staticmethod
    def _run(send: Any, scenario: Scenario, label: str, out: Path, history: Path,
             register: list[dict[str, Any]]) -> None:
        try:
            with progress.use(progress.Reporter()), HistoryStore.open(history) as store:  # no second bar
                paths, _ = _one_period(scenario, label, out, store, register)
            send.send(("ok", paths))
        except BaseException as exc:  # reported by the parent, as one line
            send.send(("error", f"{type(exc).__name__}: {exc}"))

    def stop(self) -> None:
        self._process.terminate()
        self._process.join()

    def wait(self) -> PackPaths:
        try:
            outcome, value = self._receive.recv()
        except EOFError:  # the child ended without a word (killed)
            outcome, value = "error", "it stopped without a result"
        self._process.join()
        if outcome != "ok":
            raise RuntimeError(f"the demo's earlier period failed: {value}")
        return value
