"""`rootaudit history`'s views: the headline of each recorded pack, oldest first, and each
organization-level control's status per pack, as a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rootaudit.history.record import PackRecord

HEADLINE_COLUMNS = ("member_accounts", "with_active_root_credentials", "not_assessed", "clean")
HEADLINE_TITLES = {"member_accounts": "members", "with_active_root_credentials": "active root",
                   "not_assessed": "not assessed", "clean": "clean"}
FORMATS = ("table", "csv", "json")
DIGEST_CHARS = 12  # a pack's digest as the table shows it (whole in CSV and JSON)


def pack_row(record: PackRecord) -> dict[str, Any]:
    """One pack's headline: what the trend chart and the history table show."""
    h = record.headline
    return {"organization_id": record.organization_id, "period": record.period,
            "period_start": record.period_start, "period_end": record.period_end,
            "collected_at": record.collected_at, "pack_digest": record.digest,
            **{k: int(h.get(k) or 0) for k in HEADLINE_COLUMNS}, "claim_made": bool(h.get("claim_made")),
            "claim": str(h.get("claim") or "")}


def control_rows(records: Sequence[PackRecord]) -> list[dict[str, Any]]:
    """Each organization-level control, with its status in each pack (None: not evaluated there)."""
    controls: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        for c in record.organization_controls():
            row = controls.setdefault(c.key[:3], {"framework": c.framework, "version": c.version,
                                                  "control_id": c.control_id, "title": c.title,
                                                  "statuses": {}})
            row["statuses"][record.digest] = c.shown_status
    for row in controls.values():
        row["statuses"] = {r.digest: row["statuses"].get(r.digest) for r in records}
    return [controls[k] for k in sorted(controls, key=_control_key)]


def _control_key(key: tuple[str, str, str]) -> tuple[Any, ...]:
    framework, version, control_id = key
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p)
                  for p in control_id.replace("-", ".").split("."))
    return (framework, version, parts)


def by_organization(records: Sequence[PackRecord]) -> dict[str, list[PackRecord]]:
    out: dict[str, list[PackRecord]] = {}
    for record in sorted(records, key=lambda r: r.order):
        out.setdefault(record.organization_id, []).append(record)
    return dict(sorted(out.items()))


def history_data(records: Sequence[PackRecord]) -> dict[str, Any]:
    return {"organizations": [{"organization_id": org, "packs": [pack_row(r) for r in packs],
                               "controls": control_rows(packs)}
                              for org, packs in by_organization(records).items()]}


def render_history(records: Sequence[PackRecord], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(history_data(records), indent=2, sort_keys=True) + "\n"
    if fmt == "csv":
        return _csv(records)
    if fmt == "table":
        return _table(records)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _csv(records: Sequence[PackRecord]) -> str:
    """One row per pack and organization-level control, each with the pack's headline: a long table
    a spreadsheet pivots as it likes."""
    buf = io.StringIO()
    head = ["organization_id", "period", "period_start", "period_end", "collected_at", "pack_digest",
            *HEADLINE_COLUMNS, "claim_made", "framework", "version", "control_id", "status"]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    for packs in by_organization(records).values():
        for record in packs:
            row = pack_row(record)
            base = [row[k] if k != "claim_made" else str(row[k]).lower() for k in head[:11]]
            controls = sorted(record.organization_controls(), key=lambda c: _control_key(c.key[:3]))
            for c in controls or [None]:
                writer.writerow([*base, *((c.framework, c.version, c.control_id, c.shown_status) if c
                                          else ("", "", "", ""))])
    return buf.getvalue()


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _table(records: Sequence[PackRecord]) -> str:
    lines: list[str] = []
    for org, packs in by_organization(records).items():
        if lines:
            lines.append("")
        lines.append(f"{org}: {len(packs)} pack(s), oldest first")
        head = ["period", "collected", *(HEADLINE_TITLES[k] for k in HEADLINE_COLUMNS), "claim", "pack"]
        body = [[r["period"], r["collected_at"], *(str(r[k]) for k in HEADLINE_COLUMNS),
                 "yes" if r["claim_made"] else "no", r["pack_digest"][:DIGEST_CHARS]]
                for r in map(pack_row, packs)]
        lines += _aligned([head, *body])
        lines.append("")
        lines.append("organization-level control status per pack:")
        header = ["control", *(p.period for p in packs)]
        controls = control_rows(packs)
        versions: dict[str, set[str]] = {}
        for c in controls:
            versions.setdefault(c["framework"], set()).add(c["version"])
        rows = [[f"{_short(c['framework'])}"
                 + (f" {c['version']}" if len(versions[c["framework"]]) > 1 else "") + f" {c['control_id']}",
                 *(c["statuses"][p.digest] or "-" for p in packs)] for c in controls]
        lines += _aligned([header, *rows])
    return "\n".join(lines) + "\n" if lines else "no pack recorded\n"


def _short(framework: str) -> str:
    """A framework's name for a terminal column: its first three words (whole in CSV and JSON)."""
    return " ".join(framework.split()[:3])
