"""An account's root credential state as a plan records it and as a root session re-reads it.

The state is the list of credentials (`root_credential_items` rows: kind, id, status, created, last
used), in one canonical order and spelling, so that the state a plan was made from and the state read
just before a change compare equal exactly when nothing changed. A credential used again since the plan
(a newer last-used time) is a change: its owner may still depend on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from rootaudit.snapshot import utc_iso

STATE_FIELDS = ("kind", "id", "status", "created_at", "last_used_at")
Credential = dict[str, str | None]


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value == "":
        return None
    return str(value)


def _time(value: Any) -> str | None:
    text = _text(value)
    return utc_iso(text) if text else None


def credential_state(items: Iterable[Mapping[str, Any]]) -> list[Credential]:
    """Canonical credentials from `root_credential_items`-shaped rows (any extra keys are ignored)."""
    out = [{"kind": _text(i.get("kind")), "id": _text(i.get("id")), "status": _text(i.get("status")),
            "created_at": _time(i.get("created_at")), "last_used_at": _time(i.get("last_used_at"))}
           for i in items]
    return sorted(out, key=lambda c: (c["kind"] or "", c["id"] or ""))


def state_digest(state: Sequence[Credential]) -> str:
    blob = json.dumps([[c.get(f) for f in STATE_FIELDS] for c in state], separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def describe(credential: Mapping[str, Any]) -> str:
    text = f"{credential['kind']} {credential['id']}"
    return text + (f" ({credential['status']})" if credential.get("status") not in (None, "present") else "")


def changes(planned: Sequence[Credential], live: Sequence[Credential]) -> list[str]:
    """What differs between the planned and the live state, one phrase each; empty when equal."""
    def key(c: Mapping[str, Any]) -> tuple[str, str]:
        return (str(c["kind"]), str(c["id"]))

    before, now = {key(c): c for c in planned}, {key(c): c for c in live}
    out = [f"{describe(now[k])} is new" for k in sorted(set(now) - set(before))]
    out += [f"{describe(before[k])} is gone" for k in sorted(set(before) - set(now))]
    for k in sorted(set(before) & set(now)):
        for f in STATE_FIELDS[2:]:
            if before[k].get(f) != now[k].get(f):
                out.append(f"{k[0]} {k[1]}: {f} was {before[k].get(f) or 'empty'}, "
                           f"is now {now[k].get(f) or 'empty'}")
    return out
