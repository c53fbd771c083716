"""`rootaudit diff`'s views of a `PackDiff`: text for a terminal, JSON for a pipeline, Markdown for a
change ticket. Each lists only what changed, in the same order: the headline, accounts, root
credentials, organization features, controls, risk acceptances."""

from __future__ import annotations

import json
from collections.abc import Iterable

from rootaudit.history.diff import AccountChange, CredentialChange, PackDiff

FORMATS = ("text", "json", "markdown")
HEADLINE_FIGURES = (
    ("member_accounts", "members"),
    ("with_active_root_credentials", "with active root credentials"),
    ("not_assessed", "not assessed"),
    ("clean", "clean"),
)
ACCOUNT_LEVEL_SHOWN = 40  # account-level control changes listed in Markdown (all in JSON)
PER_ACCOUNT_SHOWN = 6  # account-level control changes shown per account in text


def render_diff(diff: PackDiff, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff.as_dict(), indent=2, sort_keys=True) + "\n"
    if fmt == "text":
        return "\n".join(text_lines(diff)) + "\n"
    if fmt == "markdown":
        return "\n".join(markdown_lines(diff)) + "\n"
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def headline_changes(diff: PackDiff) -> list[str]:
    out = []
    for key, label in HEADLINE_FIGURES:
        was, now = diff.old.headline.get(key), diff.new.headline.get(key)
        if was != now:
            out.append(f"{label} {was} -> {now}")
    return out


def account_line(a: AccountChange) -> str:
    if a.change in ("added", "removed"):
        return f"{a.account_id} {a.name}: {a.change} ({a.detail})"
    fields = "; ".join(f"{f} {old or '(none)'} -> {new or '(none)'}" for f, (old, new) in a.fields.items())
    return f"{a.account_id} {a.name}: {fields}" + (f" ({a.detail})" if a.detail else "")


def credential_line(c: CredentialChange) -> str:
    what = {
        "appeared": "appeared",
        "removed": "removed",
        "status": f"status {c.old_status} -> {c.new_status}",
    }[c.change]
    by = "; ".join(actor.text() for actor in c.by) if c.by else "no call in the newer pack's ledger"
    return f"{c.account_id} {c.account_name}: {c.kind} {c.credential_id} {what} (by: {by})"


def _control_label(framework: str, version: str, control_id: str) -> str:
    return f"{framework} {version} {control_id}"


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title} ({len(items)}):", *(f"  {item}" for item in items)] if items else []


def text_lines(diff: PackDiff) -> list[str]:
    lines = [
        f"{diff.organization_id}: {diff.old.period} (collected {diff.old.collected_at}, pack "
        f"{diff.old.digest[:12]}) -> {diff.new.period} (collected {diff.new.collected_at}, pack "
        f"{diff.new.digest[:12]})"
    ]
    if note := diff.version_note():
        lines.append(note)
    if not diff.changed and not headline_changes(diff):
        return [*lines, "no change"]
    lines += _section("headline", headline_changes(diff))
    for change, title in (
        ("added", "accounts added"),
        ("removed", "accounts removed"),
        ("changed", "accounts changed"),
    ):
        lines += _section(title, [account_line(a) for a in diff.accounts if a.change == change])
    for change, title in (
        ("appeared", "root credentials appeared"),
        ("removed", "root credentials removed"),
        ("status", "root credentials whose status changed"),
    ):
        lines += _section(title, [credential_line(c) for c in diff.credentials if c.change == change])
    lines += _section("organization features", [f.text() for f in diff.features])
    org = [c for c in diff.controls if not c.account_id]
    acct = [c for c in diff.controls if c.account_id]
    lines += _section(
        "controls whose status changed (organization)",
        [
            f"{_control_label(c.framework, c.version, c.control_id)}: {c.old or '(not evaluated)'} -> "
            f"{c.new or '(not evaluated)'}"
            for c in org
        ],
    )
    per_account: dict[str, list[str]] = {}
    for c in acct:
        per_account.setdefault(c.account_id, []).append(
            f"{' '.join(c.framework.split()[:3])} {c.control_id} {c.old or '(not evaluated)'} -> "
            f"{c.new or '(not evaluated)'}")
    if acct:
        lines.append(f"controls whose status changed (accounts) ({len(acct)} results in {len(per_account)} "
                     "accounts; --format json lists each with its framework version):")
        for account_id, changes in per_account.items():
            extra = len(changes) - PER_ACCOUNT_SHOWN
            more = f"; … and {extra} more" if extra > 0 else ""
            lines.append(f"  {account_id} {diff.names.get(account_id, '')} ({len(changes)}): "
                         f"{'; '.join(changes[:PER_ACCOUNT_SHOWN])}{more}")
    lines += _section(
        "controls whose mapping changed (a status can change with it)",
        [f"{_control_label(r.framework, r.version, r.control_id)}: {r.old} -> {r.new} "
         f"({r.results_changed} result(s) changed status)" for r in diff.rules],
    )
    lines += _section(
        "risk acceptances",
        [
            f"{e.exception_id} ({e.account_id or 'every account'}, {e.control or 'every control'}): "
            f"{e.change} ({e.old_status or 'absent'} -> {e.new_status or 'absent'}; "
            f"expires {e.expires or '-'}; ticket {e.ticket or '-'})"
            for e in diff.exceptions
        ],
    )
    return lines


MARKDOWN_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "*": "\\*", "[": "\\[", "]": "\\]", "`": "\\`",
                                  "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "})


def _md(value: str) -> str:
    """A table cell from text that came from AWS (an account name): no markup, no links, no line breaks."""
    return value.translate(MARKDOWN_ESCAPES)


def _table(head: list[str], rows: Iterable[list[str]]) -> list[str]:
    body = [f"| {' | '.join(_md(cell) for cell in row)} |" for row in rows]
    return [f"| {' | '.join(head)} |", f"|{'|'.join('---' for _ in head)}|", *body, ""] if body else []


def markdown_lines(diff: PackDiff) -> list[str]:
    lines = [
        f"## rootaudit: what changed in {diff.organization_id}",
        "",
        f"From **{diff.old.period}** (collected {diff.old.collected_at}, pack `{diff.old.digest[:12]}`) "
        f"to **{diff.new.period}** (collected {diff.new.collected_at}, pack `{diff.new.digest[:12]}`).",
        "",
    ]
    if note := diff.version_note():
        lines += [f"{note[0].upper()}{note[1:]}.", ""]
    if not diff.changed and not headline_changes(diff):
        return [*lines, "No change."]
    lines += _table(
        ["headline", "before", "after"],
        [
            [label, str(diff.old.headline.get(k)), str(diff.new.headline.get(k))]
            for k, label in HEADLINE_FIGURES
            if diff.old.headline.get(k) != diff.new.headline.get(k)
        ],
    )
    if diff.accounts:
        lines += ["### Accounts", ""]
        lines += _table(
            ["account", "name", "change", "what"],
            [
                [
                    a.account_id,
                    a.name,
                    a.change,
                    a.detail
                    if a.change != "changed"
                    else "; ".join(
                        f"{f}: {o or '(none)'} → {n or '(none)'}" for f, (o, n) in a.fields.items()
                    ),
                ]
                for a in diff.accounts
            ],
        )
    if diff.credentials:
        lines += ["### Root credentials", ""]
        lines += _table(
            ["account", "name", "kind", "id", "change", "made by (ledger)"],
            [
                [
                    c.account_id,
                    c.account_name,
                    c.kind,
                    c.credential_id,
                    c.change if c.change != "status" else f"{c.old_status} → {c.new_status}",
                    "; ".join(a.text() for a in c.by) or "no call in the ledger",
                ]
                for c in diff.credentials
            ],
        )
    if diff.features:
        lines += ["### Organization features", "", *(f"- {f.text()}" for f in diff.features), ""]
    if diff.controls:
        lines += ["### Controls", ""]
        shown = [c for c in diff.controls if not c.account_id] + [c for c in diff.controls if c.account_id][
            :ACCOUNT_LEVEL_SHOWN
        ]
        lines += _table(
            ["control", "account", "before", "after"],
            [
                [
                    _control_label(c.framework, c.version, c.control_id),
                    c.account_id or "organization",
                    c.old or "(not evaluated)",
                    c.new or "(not evaluated)",
                ]
                for c in shown
            ],
        )
        if len(shown) < len(diff.controls):
            lines += [
                f"… and {len(diff.controls) - len(shown)} more account-level changes "
                "(`rootaudit diff --format json` lists every one).",
                "",
            ]
    if diff.rules:
        lines += ["### Control mappings that changed", "",
                  "A control's status can change with its mapping as well as with the organization.", ""]
        lines += _table(
            ["control", "before", "after", "results that changed status"],
            [[_control_label(r.framework, r.version, r.control_id), r.old, r.new, str(r.results_changed)]
             for r in diff.rules],
        )
    if diff.exceptions:
        lines += ["### Risk acceptances", ""]
        lines += _table(
            ["exception", "account", "control", "change", "before", "after", "expires", "ticket"],
            [
                [
                    e.exception_id,
                    e.account_id or "every account",
                    e.control or "every control",
                    e.change,
                    e.old_status or "absent",
                    e.new_status or "absent",
                    e.expires,
                    e.ticket,
                ]
                for e in diff.exceptions
            ],
        )
    return lines
