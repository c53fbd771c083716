"""Collectors: thin fetch functions that call AWS and return raw pages, and pure transforms that
turn raw pages into frame rows. Each collector returns a `Collected`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from rootaudit.period import Period


@dataclass
class CollectSettings:
    period: Period
    regions: list[str] | None = None  # None: every region enabled for the caller
    cloudtrail: str = "lookup"  # lookup | s3://bucket/prefix | a local directory | athena://… (auto: see
    # collectors/cloudtrail/discover.py; the command line resolves it before collecting)
    cloudtrail_requested: str = ""  # what the operator asked for, when it differs (auto)
    athena_output: str | None = None  # athena://: where the results go (None: the workgroup's location)
    athena_timeout_seconds: float = 1800.0  # athena://: the query's whole run, queue included
    # the read-only role in member accounts, used when AssumeRoot cannot be (policies/ deploys it)
    fallback_role: str = "RootAuditReadOnly"
    workers: int = 18  # accounts collected at once (chosen by measurement: bench/RESULTS.md, "collect")
    report_wait_seconds: float = 60.0  # how long a credential report still being generated is waited for
    account_timeout_seconds: float = 300.0  # one account's collection, all calls included
    # The checkpoint of per-account results (rootaudit.checkpoint), and whether to resume the one there.
    checkpoint_path: Path | None = None
    resume: bool = False
    checkpoint: Any = field(default=None, repr=False, compare=False)  # the open Checkpoint, set by collect
    # The clock each account's budget runs on, given the account id (None: the system's monotonic clock).
    # Tests inject one so that a loaded machine cannot make an account time out.
    budget_clock: Callable[[str], float] | None = field(default=None, repr=False, compare=False)


@dataclass
class Collected:
    """Frames (by schema name) and raw responses (by key) that one collector produced."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
