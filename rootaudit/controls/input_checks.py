"""The operator's inputs, checked loudly: what in an exceptions or justifications file will not do what
its author meant, each with the file and line, for the console (and `--strict`).

The pack already records every exception's status; these checks are for the person running the tool,
who otherwise learns only from the pack that an acceptance expired or names an account that is not in
the organization. Pure: the files' bytes, the snapshot and the results in; findings out.

    precheck_inputs(exceptions, justifications)        before collection: the files parse
    check_inputs(snapshot, results, exceptions, justifications)   after evaluation: they apply
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from rootaudit.bounded import YAML_LIMIT, read_bounded
from rootaudit.controls.exceptions import RiskException, parse_exceptions
from rootaudit.controls.justifications import Justification, parse_justifications
from rootaudit.controls.results import Results
from rootaudit.controls.stage import collected_at
from rootaudit.snapshot import Snapshot


@dataclass(frozen=True)
class Finding:
    kind: str  # exceptions | justifications
    file: str
    line: int
    message: str


def _strip_where(problem: str, name: str) -> str:
    """The parser's problem without its own `name:line: ` prefix (the console gives the user's path)."""
    head, sep, rest = problem.partition(": ")
    return rest if sep and head.startswith(name) else problem


def _exceptions(path: Path, snapshot: Snapshot | None) -> list[RiskException]:
    # Before collection there is no collection time to judge expiry at: the earliest time stands in,
    # so that only the entries' form is judged.
    when = datetime.min.replace(tzinfo=UTC) if snapshot is None else collected_at(snapshot)
    return parse_exceptions(read_bounded(path, YAML_LIMIT, "exceptions file"), path.name, when)


def precheck_inputs(exceptions: Path | None, justifications: Path | None) -> list[Finding]:
    """Malformed entries, before anything is collected (expiry needs the collection time: not here).

    A file that cannot be read as a whole raises its parser's error, as evaluation would."""
    findings: list[Finding] = []
    if exceptions is not None:
        for exc in _exceptions(exceptions, None):
            if exc.status == "malformed":
                findings.append(Finding("exceptions", str(exceptions), exc.line,
                                        f"exception {exc.id} does not apply: "
                                        f"{_strip_where(exc.problem, exceptions.name)}"))
    if justifications is not None:
        parse_justifications(read_bounded(justifications, YAML_LIMIT, "justifications file"),
                             justifications.name)
    return findings


def _column(frame: pd.DataFrame, name: str) -> set[str]:
    if name not in frame:
        return set()
    return {str(v) for v in frame[name].dropna()}


def _controls_by_framework(results: Results) -> dict[str, set[str]]:
    """Framework id -> the control ids it evaluated (control_results names frameworks by name, version)."""
    frame = results.control_results
    by_name: dict[tuple[str, str], set[str]] = {}
    for framework, version, control_id in zip(frame["framework"].astype(str), frame["version"].astype(str),
                                              frame["control_id"].astype(str), strict=True):
        by_name.setdefault((framework, version), set()).add(control_id)
    return {str(fw["id"]): by_name.get((str(fw["framework"]), str(fw["version"])), set())
            for fw in results.frameworks}


def check_inputs(snapshot: Snapshot, results: Results, exceptions: Path | None,
                 justifications: Path | None) -> list[Finding]:
    """Every entry that is malformed, expired, or names an account, control or event that is not there."""
    findings: list[Finding] = []
    accounts = _column(snapshot["accounts"], "account_id")
    if exceptions is not None:
        controls = _controls_by_framework(results)
        for exc in _exceptions(exceptions, snapshot):
            def add(message: str, exc: RiskException = exc) -> None:
                findings.append(Finding("exceptions", str(exceptions), exc.line,
                                        f"exception {exc.id} {message}"))

            if exc.status == "malformed":
                add(f"does not apply: {_strip_where(exc.problem, exceptions.name)}")
                continue
            if exc.status == "expired":
                add(f"does not apply: {exc.problem}")
            if exc.account and exc.account not in accounts:
                add(f"names account {exc.account}, which is not in the organization collected")
            if exc.control:
                framework_id, _, control_id = exc.control.partition(":")
                if framework_id not in controls:
                    add(f"names control {exc.control}, whose framework {framework_id} was not evaluated "
                        f"(evaluated: {', '.join(sorted(controls))})")
                elif control_id not in controls[framework_id]:
                    add(f"names control {exc.control}, which framework {framework_id} does not have")
    if justifications is not None:
        entries = parse_justifications(read_bounded(justifications, YAML_LIMIT, "justifications file"),
                             justifications.name)
        findings.extend(_justification_findings(entries, str(justifications), snapshot, results, accounts))
    return findings


def _justification_findings(entries: list[Justification], where: str, snapshot: Snapshot, results: Results,
                            accounts: set[str]) -> list[Finding]:
    sessions = results.privileged_sessions
    events = _column(sessions, "event_id") | _column(snapshot["root_activity"], "event_id")
    session_rows = sessions.to_dict("records")
    out = []
    for j in entries:
        def add(message: str, j: Justification = j) -> None:
            out.append(Finding("justifications", where, j.line, f"justification {j.id} {message}"))

        if j.event_id:
            if j.event_id not in events:
                add(f"names event {j.event_id}, which is not an AssumeRoot session, root sign-in or root "
                    "call of the period collected")
            continue
        if j.account not in accounts:
            add(f"names account {j.account}, which is not in the organization collected")
        elif not any(j.matches_session(row) for row in session_rows):
            add(f"matches no AssumeRoot session (account {j.account}, task {j.task}, "
                f"{j.start} to {j.end})")
    return out
