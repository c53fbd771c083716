"""What the controls stage hands to the renderers: signals, control results, exceptions, and the
inputs (mappings, exceptions, justifications) they were computed from, so a pack can re-perform them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rootaudit.snapshot import make_frame


@dataclass
class Results:
    signals: pd.DataFrame = field(default_factory=lambda: make_frame("signals"))
    control_results: pd.DataFrame = field(default_factory=lambda: make_frame("control_results"))
    exceptions: pd.DataFrame = field(default_factory=lambda: make_frame("exceptions"))
    # The ledger with its `justification` column filled from the justifications file.
    privileged_sessions: pd.DataFrame = field(default_factory=lambda: make_frame("privileged_sessions"))
    # One dict per framework evaluated: framework, version, file, sha256, controls (count).
    frameworks: list[dict[str, Any]] = field(default_factory=list)
    # The headline and population counts (see signals.headline).
    headline: dict[str, Any] = field(default_factory=dict)
    # Relative path -> bytes of every input file used: mappings/<file>.yaml, exceptions.yaml,
    # justifications.yaml. A pack stores them under inputs/; verify re-evaluates from them.
    inputs: dict[str, bytes] = field(default_factory=dict)
