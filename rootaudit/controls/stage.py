"""The controls stage: snapshot + mappings (+ exceptions, justifications) -> Results.

    evaluate(snapshot, frameworks=None, mapping_dirs=(), exceptions_path=None, justifications_path=None,
             remediation_records=())
    evaluate_inputs(snapshot, inputs)      re-performs an evaluation from the input files it recorded
    exit_status(results)                   2 when any NOT_ASSESSED, else 1 when any unaccepted FAIL, else 0
    list_frameworks(mapping_dirs=())       the frameworks available, and which are evaluated by default

The inputs (every mapping file used, the exceptions and justifications files, remediation records) are
kept byte for byte in
`Results.inputs`, so that `rootaudit verify` re-runs exactly the same evaluation on the pack's snapshot.
Nothing reads the wall clock: exception expiry is judged at the snapshot's collection time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rootaudit import resources
from rootaudit.bounded import YAML_LIMIT, read_bounded
from rootaudit.controls.evaluator import evaluate_framework
from rootaudit.controls.exceptions import RiskException, parse_exceptions
from rootaudit.controls.justifications import apply_justifications, justified_events, parse_justifications
from rootaudit.controls.mappings import (
    Framework,
    MappingError,
    current,
    parse_frameworks,
    read_mapping_files,
    select,
)
from rootaudit.controls.results import Results
from rootaudit.controls.signals import FAIL, NOT_ASSESSED, evaluate_signals, headline, population
from rootaudit.history.drift import note_period_drift, period_drift
from rootaudit.snapshot import Snapshot, conform, make_frame

MAPPINGS_PREFIX = "mappings/"
EXCEPTIONS_INPUT = "exceptions.yaml"
JUSTIFICATIONS_INPUT = "justifications.yaml"
REMEDIATION_PREFIX = "remediation/"  # remediation records: they justify the root sessions they opened

__all__ = ["MappingError", "evaluate", "evaluate_inputs", "exit_status", "list_frameworks"]


def _mapping_dirs(extra: Sequence[Path]) -> list[Path]:
    return [resources.mappings_dir(), *map(Path, extra)]


def list_frameworks(mapping_dirs: Sequence[Path] = ()) -> list[dict[str, Any]]:
    """Every framework the mapping folders define: id, framework, version, family, title, file, controls,
    supersedes (ids), default (True for the current version of its family, evaluated when no framework is
    named), and how many of its controls rest on rationale, are manual, or are marked UNVERIFIED."""
    frameworks = parse_frameworks(read_mapping_files(_mapping_dirs(mapping_dirs)))
    defaults = {fw.id for fw in current(frameworks)}
    return [{"id": fw.id, "framework": fw.framework, "version": fw.version, "family": fw.family,
             "title": fw.title, "file": fw.file, "controls": len(fw.controls),
             "supersedes": list(fw.supersedes), "default": fw.id in defaults,
             "rationale": sum(c.basis == "rationale" for c in fw.controls),
             "manual": sum(bool(c.manual) for c in fw.controls),
             "unverified": sum(bool(c.unverified) for c in fw.controls)}
            for fw in sorted(frameworks, key=lambda f: f.id)]


def evaluate(snapshot: Snapshot, frameworks: list[str] | None = None, mapping_dirs: Sequence[Path] = (),
             exceptions_path: Path | None = None, justifications_path: Path | None = None,
             remediation_records: Sequence[Path] = ()) -> Results:
    """Evaluate the chosen frameworks on a snapshot: ids or file stems, "all" for every framework, or
    None (or "default") for the current version of each family (see mappings/README.md)."""
    files = read_mapping_files(_mapping_dirs(mapping_dirs))
    chosen = select(parse_frameworks(files), frameworks)
    inputs = {f"{MAPPINGS_PREFIX}{fw.file}": files[fw.file] for fw in chosen}
    if exceptions_path is not None:
        inputs[EXCEPTIONS_INPUT] = _read(Path(exceptions_path), "exceptions")
    if justifications_path is not None:
        inputs[JUSTIFICATIONS_INPUT] = _read(Path(justifications_path), "justifications")
    for path in remediation_records:
        from rootaudit.remediate.record import read_record

        key = f"{REMEDIATION_PREFIX}{Path(path).name}"
        if key in inputs:
            raise MappingError(f"two remediation records are named {Path(path).name}: give each once")
        inputs[key] = read_record(Path(path))  # checked against the .sha256 beside it
    return evaluate_inputs(snapshot, inputs)


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"the {what} file {path} does not exist")
    return read_bounded(path, YAML_LIMIT, f"{what} file")


def collected_at(snapshot: Snapshot) -> datetime | None:
    value = snapshot.meta.get("collected_at")
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def evaluate_inputs(snapshot: Snapshot, inputs: dict[str, bytes]) -> Results:
    """Evaluate from the exact input files: mappings/<file>.yaml, exceptions.yaml, justifications.yaml,
    remediation/<record>.json."""
    unknown = [k for k in inputs if not k.startswith((MAPPINGS_PREFIX, REMEDIATION_PREFIX))
               and k not in (EXCEPTIONS_INPUT, JUSTIFICATIONS_INPUT)]
    if unknown:
        raise MappingError(f"unknown evaluation input(s): {', '.join(sorted(unknown))}")
    chosen = parse_frameworks({k[len(MAPPINGS_PREFIX):]: v for k, v in inputs.items()
                               if k.startswith(MAPPINGS_PREFIX)})
    if not chosen:
        raise MappingError("no mapping file among the evaluation inputs: nothing to evaluate")
    justifications = (parse_justifications(inputs[JUSTIFICATIONS_INPUT], JUSTIFICATIONS_INPUT)
                      if JUSTIFICATIONS_INPUT in inputs else [])
    justifications += _record_justifications(inputs)
    exceptions = (parse_exceptions(inputs[EXCEPTIONS_INPUT], EXCEPTIONS_INPUT, collected_at(snapshot))
                  if EXCEPTIONS_INPUT in inputs else [])

    # Re-conform every frame (schema order, sorted rows), so a frame altered after the snapshot was made
    # cannot change the order of evidence and thus the results' bytes.
    snapshot = Snapshot(meta=dict(snapshot.meta), frames=dict(snapshot.frames))
    sessions = apply_justifications(snapshot["privileged_sessions"], justifications)
    table = evaluate_signals(snapshot, sessions, justified_events(justifications))
    management, accounts = population(snapshot)
    summary = headline(snapshot)
    drift = period_drift(snapshot, summary)  # credentials held during the period, though gone at collection
    # One framework at a time into a frame: a large organization has hundreds of thousands of result
    # rows, and only one framework's row dicts are alive at once. The frames' concatenation is sorted
    # by conform on the schema's full key, so the result is the same as from one list of every row.
    parts: list[pd.DataFrame] = []
    used: set[str] = set()
    for fw in chosen:
        rows = evaluate_framework(fw, table, accounts, management)
        note_period_drift(rows, fw.controls, drift)
        used |= _accept(rows, exceptions)
        for row in rows:
            row.pop("_framework_id", None)
            row.pop("_rollup", None)
        parts.append(make_frame("control_results", rows))
        del rows
    control_results = conform("control_results", pd.concat(parts, ignore_index=True))
    del parts
    return Results(
        signals=make_frame("signals", table.rows()),
        control_results=control_results,
        exceptions=make_frame("exceptions", _exception_rows(exceptions, used, chosen)),
        privileged_sessions=make_frame("privileged_sessions", sessions.to_dict("records")),
        frameworks=[{"id": fw.id, "framework": fw.framework, "version": fw.version, "file": fw.file,
                     "sha256": fw.sha256, "controls": len(fw.controls)} for fw in chosen],
        headline=summary,
        inputs=dict(sorted(inputs.items())),
    )


def _record_justifications(inputs: dict[str, bytes]) -> list[Any]:
    from rootaudit.remediate.record import parse_record, record_justifications

    out = []
    for key in sorted(k for k in inputs if k.startswith(REMEDIATION_PREFIX)):
        name = key[len(REMEDIATION_PREFIX):]
        out += record_justifications(parse_record(inputs[key], name), name)
    return out


def _accept(rows: list[dict[str, Any]], exceptions: list[RiskException]) -> set[str]:
    """Mark one framework's FAIL results covered by an active exception as accepted (status stays FAIL);
    return the ids of the exceptions that accepted something."""
    used: set[str] = set()
    if not exceptions:
        return used
    for row in rows:
        if row["status"] != FAIL or row.get("_rollup"):
            continue
        match = [e for e in exceptions if e.matches(row["_framework_id"], row["control_id"],
                                                     row["account_id"] or "")]
        if match:
            row["exception_id"] = ",".join(sorted(e.id for e in match))
            row["exception_status"] = "accepted"
            used.update(e.id for e in match)
    # An organization roll-up of account results is accepted when every failing account result is.
    by_control: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["account_id"]:
            by_control.setdefault((row["_framework_id"], row["control_id"]), []).append(row)
    for row in rows:
        if not row.get("_rollup") or row["status"] != FAIL:
            continue
        failing = [r for r in by_control.get((row["_framework_id"], row["control_id"]), [])
                   if r["status"] == FAIL]
        if failing and all(r["exception_status"] == "accepted" for r in failing):
            row["exception_id"] = ",".join(sorted({i for r in failing for i in r["exception_id"].split(",")}))
            row["exception_status"] = "accepted"
    return used


def _exception_rows(exceptions: list[RiskException], used: set[str],
                    frameworks: list[Framework]) -> list[dict[str, Any]]:
    """The `exceptions` frame rows: each entry with its status and problem."""
    known = {f"{fw.id}:{c.id}" for fw in frameworks for c in fw.controls}
    out = []
    for exc in exceptions:
        row = exc.row(used=exc.id in used)
        if row["status"] == "unused" and exc.control and exc.control not in known:
            row["problem"] = (f"control {exc.control} is not in the frameworks evaluated "
                              f"({', '.join(fw.id for fw in frameworks)})")
        out.append(row)
    return out


def exit_status(results: Results) -> int:
    """2 when any result is NOT_ASSESSED (evidence incomplete), else 1 when any FAIL lacks an active
    exception, else 0."""
    frame = results.control_results
    if (frame["status"] == NOT_ASSESSED).any():
        return 2
    failed = frame[(frame["status"] == FAIL) & (frame["exception_status"].fillna("") != "accepted")]
    return 1 if len(failed) else 0
