"""Control evaluation: signals + one framework's controls -> control results, one row per account and
one per organization.

Per account (account-scoped controls): the control's signals are combined (all must hold, or any one);
a definite FAIL wins over a missing fact, since the account is known to fail. A not-applicable rule
(e.g. CIS's root-MFA note under centralized root access) turns the result into NOT_APPLICABLE with its
justification; a manual control that the signals do not refute becomes MANUAL with what to look at.
Every account of the population is evaluated, whatever its state: one that is not ACTIVE was not read,
so its root-credential signals are NOT_ASSESSED (with its state), never NOT_APPLICABLE or clean.

Per organization: PASS only when every in-scope account was assessed and passed. Any NOT_ASSESSED
account (or organization fact) makes it NOT_ASSESSED, never PASS.

Rationales: an account's row says its status and the signal values it rests on (`A=PASS and B=FAIL ->
FAIL`); the control's organization row carries what is the same for every account (the not-applicable
justification, what to look at, the note), and each signal's evidence per account is in the signals
frame. Organization-scoped controls quote their signals' evidence in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rootaudit.controls.mappings import Control, Framework, SignalRule
from rootaudit.controls.signals import (
    FAIL,
    MANUAL,
    NOT_APPLICABLE,
    NOT_ASSESSED,
    PASS,
    Signal,
    SignalTable,
)

ORGANIZATION = "organization"


def combine(rule: SignalRule, values: Mapping[str, Signal], organization: bool) -> str:
    """The status a rule gives over signal values. At organization level a missing fact wins over a
    failure (the organization's result is incomplete); for one account a failure wins (it is known)."""
    got = [values[s].value for s in rule.signals]
    if not got:
        return MANUAL
    if rule.any:
        if PASS in got:
            return PASS
        return NOT_ASSESSED if NOT_ASSESSED in got or MANUAL in got else FAIL
    order = (NOT_ASSESSED, FAIL) if organization else (FAIL, NOT_ASSESSED)
    for status in (*order, MANUAL):
        if status in got:
            return status
    if all(g == NOT_APPLICABLE for g in got):
        return NOT_APPLICABLE
    return PASS


def _title(control: Control) -> str:
    tags = ", ".join(t for t in (control.level, control.assessment) if t)
    return f"{control.title} [{tags}]" if tags else control.title


def _evidence(names: tuple[str, ...], values: Mapping[str, Signal], prefix: str = "") -> list[str]:
    """Each signal's value and the gist of its evidence; the full evidence is in the signals frame."""
    return [f"{prefix}{s} = {values[s].value}: {values[s].summary}" for s in names]


def _values(rule: SignalRule, values: Mapping[str, Signal]) -> str:
    """The signal values a rule rests on, compactly: `A=PASS and B=FAIL` (or `or` for any-of)."""
    joiner = " or " if rule.any else " and "
    return joiner.join(f"{s}={values[s].value}" for s in rule.signals) or "(no signal)"


def _information(control: Control, values: Mapping[str, Signal]) -> str:
    if not control.informational:
        return ""
    return "; for information: " + ", ".join(f"{s}={values[s].value}" for s in control.informational)


def _not_applicable(control: Control, account_kind: str, values: Mapping[str, Signal]) -> bool:
    creds_absent = values["ROOT_CREDS_ABSENT"].value == PASS
    if control.not_applicable_when == "root_credentials_removed_centrally":
        # The management account's root cannot be managed centrally, so the note never covers it.
        return account_kind == "member_accounts" and creds_absent and values["RCM_ENABLED"].value == PASS
    if control.not_applicable_when == "root_credentials_absent":
        return creds_absent
    return False


def _finish(control: Control, status: str, lines: list[str]) -> tuple[str, str]:
    if control.manual and status in (PASS, MANUAL):
        return MANUAL, f"The auditor must look at: {control.manual}. " + " | ".join(lines)
    return status, " | ".join(lines)


# An account's rationale is short: the status and the signal values it rests on. It is repeated for every
# account and control (hundreds of thousands of rows in a large organization), so what is the same for
# every account (the not-applicable justification, what to look at, the note) is in the control's
# organization row, and each signal's evidence for the account is in the signals frame (signals.csv).
ORGANIZATION_ROW_HAS_IT = "see the organization row"


def account_result(control: Control, account: Mapping[str, Any], kind: str,
                   table: SignalTable, values: Mapping[str, Signal] | None = None) -> tuple[str, str]:
    """(status, rationale) of an account-scoped control for one account. `values`: the account's signals
    merged over the organization's, when the caller has them (they are the same for every control)."""
    aid = str(account["account_id"])
    if values is None:
        values = {**table.organization, **table.accounts[aid]}
    rule = control.rule
    if kind == "management_account" and control.management_rule:
        rule = control.management_rule
    if control.not_applicable_when and _not_applicable(control, kind, values):
        basis = ("ROOT_CREDS_ABSENT", "RCM_ENABLED") if "centrally" in control.not_applicable_when \
            else ("ROOT_CREDS_ABSENT",)
        shown = " and ".join(f"{s}={values[s].value}" for s in basis)
        return NOT_APPLICABLE, (f"{shown} -> {NOT_APPLICABLE} ({control.not_applicable_when}; the "
                                f"framework's justification: {ORGANIZATION_ROW_HAS_IT})")
    status = combine(rule, values, organization=False)
    shown, information = _values(rule, values), _information(control, values)
    if control.manual and status in (PASS, MANUAL):
        return MANUAL, (f"{shown} -> {MANUAL} (the signals do not refute it; what the auditor must look "
                        f"at: {ORGANIZATION_ROW_HAS_IT}){information}")
    if rule is control.management_rule and control.note:  # say why the management account differs
        return status, (f"{shown} -> {status} (the management account's rule. Note: {control.note})"
                        f"{information}")
    return status, f"{shown} -> {status}{information}"


def rollup(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """The organization's result of an account-scoped control from its accounts' results."""
    by: dict[str, list[str]] = {}
    for row in rows:
        by.setdefault(row["status"], []).append(row["account_id"])
    summary = "; ".join(f"{s}: {len(ids)} ({', '.join(ids[:10])}{', …' if len(ids) > 10 else ''})"
                        for s, ids in sorted(by.items()))
    if not rows:
        return NOT_ASSESSED, "No account in scope: nothing was assessed."
    for status in (NOT_ASSESSED, FAIL, MANUAL):
        if status in by:
            return status, f"{status} because of {len(by[status])} account(s). Accounts: {summary}."
    if set(by) == {NOT_APPLICABLE}:
        return NOT_APPLICABLE, f"Not applicable to any account in scope. Accounts: {summary}."
    return PASS, f"Every in-scope account was assessed and passed. Accounts: {summary}."


def organization_result(control: Control, table: SignalTable) -> tuple[str, str]:
    values = table.organization
    status = combine(control.rule, values, organization=True)
    lines = [f"{control.rule.describe()} -> {status} (organization)",
             *_evidence(control.rule.signals, values),
             *_evidence(control.informational, values, "for information: ")]
    if control.note:
        lines.append(f"Note: {control.note}")
    return _finish(control, status, lines)


def _constant_texts(control: Control, rows: list[dict[str, Any]]) -> str:
    """What every account's row of this control refers to the organization row for."""
    statuses = {r["status"] for r in rows}
    parts = []
    if control.not_applicable_when and NOT_APPLICABLE in statuses:
        parts.append(f"Not applicable where {control.not_applicable_when}: "
                     f"{control.not_applicable_justification}")
    if control.manual:
        parts.append(f"The auditor must look at: {control.manual}.")
    if control.note:
        parts.append(f"Note: {control.note}")
    parts.append(EVIDENCE_POINTER)
    return " ".join(parts)


EVIDENCE_POINTER = ("Each account's row gives the signal values its result rests on; each signal's "
                    "evidence per account is in data/signals.csv (workbook sheet Signals).")


def evaluate_framework(framework: Framework, table: SignalTable, accounts: list[dict[str, Any]],
                       management: str) -> list[dict[str, Any]]:
    """Control result rows (schema `control_results`, exception columns empty) for one framework."""
    out: list[dict[str, Any]] = []
    # Each account's signal values over the organization's: the same for every control, merged once.
    merged = {aid: {**table.organization, **signals} for aid, signals in table.accounts.items()}
    # Account rationales repeat (a few distinct texts per control): keep one copy of each, so that half
    # a million rows hold a few hundred strings rather than half a million.
    texts: dict[str, str] = {}
    people = [(account, str(account["account_id"]),
               "management_account" if str(account["account_id"]) == management else "member_accounts")
              for account in accounts]
    for control in framework.controls:
        base = {"framework": framework.framework, "version": framework.version, "control_id": control.id,
                "title": _title(control), "basis": control.basis_text(), "exception_id": None,
                "exception_status": None, "_framework_id": framework.id}
        if control.scope == (ORGANIZATION,):
            status, why = organization_result(control, table)
            out.append({**base, "scope": ORGANIZATION, "account_id": None, "status": status,
                        "rationale": why})
            continue
        everyone = []
        for account, aid, kind in people:
            if kind not in control.scope:
                continue
            status, why = account_result(control, account, kind, table, merged.get(aid))
            why = texts.setdefault(why, why)
            row = {**base, "scope": kind, "account_id": aid, "status": status, "rationale": why}
            out.append(row)
            everyone.append(row)
        status, why = rollup(everyone)
        why += " " + _constant_texts(control, everyone)
        out.append({**base, "scope": ORGANIZATION, "account_id": None, "status": status, "rationale": why,
                    "_rollup": True})
    return out
