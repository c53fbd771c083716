"""Lean account rationales: each account's row states the signal values its result rests on, and they
are that account's values in the signals frame; what is the same for every account is in the control's
organization row, in full."""

from __future__ import annotations

import re

import pytest

from rootaudit import controls
from rootaudit.controls.evaluator import EVIDENCE_POINTER
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.resources import mappings_dir

VALUE = re.compile(r"([A-Z_]+)=([A-Z_]+)")


@pytest.fixture(scope="module")
def evaluated(helpers, snapshot_of):
    snap = snapshot_of(list(helpers.KINDS))
    return controls.evaluate(snap, ["all"])


@pytest.fixture(scope="module")
def by_key():
    return {(c.framework, c.version, c.id): c
            for fw in parse_frameworks(read_mapping_files([mappings_dir()])) for c in fw.controls}


def test_account_rationale_states_its_status_and_the_accounts_signal_values(evaluated, helpers, by_key):
    signals = evaluated.signals
    account_values = {(a, s): v for a, s, v in signals[signals.account_id.notna()][
        ["account_id", "signal", "value"]].itertuples(index=False)}
    org_values = dict(signals[signals.account_id.isna()][["signal", "value"]].itertuples(index=False))
    cr = evaluated.control_results
    rows = cr[cr.account_id.notna() & (cr.account_id != helpers.ACCOUNT_OF["suspended"])]
    assert len(rows) > 1000
    for row in rows.to_dict("records"):
        text = row["rationale"]
        head, arrow, tail = text.partition(" -> ")
        assert arrow and tail.split(" ")[0] == row["status"], text
        control = by_key[(row["framework"], row["version"], row["control_id"])]
        named = VALUE.findall(text.split(" (")[0])
        assert named, text
        for signal, value in named:
            expected = account_values.get((row["account_id"], signal), org_values.get(signal))
            assert value == expected, (row["control_id"], row["account_id"], signal, text)
        if row["status"] != "NOT_APPLICABLE":  # the rule's own signals, each one
            rule = (control.management_rule if row["scope"] == "management_account" and
                    control.management_rule else control.rule)
            assert [s for s, _ in VALUE.findall(head)][:len(rule.signals)] == list(rule.signals), text
        # short: no evidence prose; only the management account's row adds the control's note
        if "Note:" not in text:
            assert len(text) < 300, text


def test_organization_row_carries_what_every_account_refers_to(evaluated, by_key):
    cr = evaluated.control_results
    checked = 0
    for row in cr[cr.account_id.isna()].to_dict("records"):
        control = by_key[(row["framework"], row["version"], row["control_id"])]
        if control.scope == ("organization",):
            continue  # no account rows: its rationale quotes the organization's evidence
        checked += 1
        text = row["rationale"]
        assert EVIDENCE_POINTER in text
        if control.manual:
            assert f"The auditor must look at: {control.manual}" in text
        if control.note:
            assert control.note in text
        accounts = cr[(cr.framework == row["framework"]) & (cr.version == row["version"])
                      & (cr.control_id == row["control_id"]) & cr.account_id.notna()]
        if control.not_applicable_when and (accounts.status == "NOT_APPLICABLE").any():
            assert control.not_applicable_justification in text
    assert checked > 100


def test_distinct_rationales_are_few(evaluated):
    cr = evaluated.control_results
    per_account = cr[cr.account_id.notna()]
    # the same values give the same text: a handful per control, not one per account
    assert per_account.rationale.nunique() < len(per_account) / 3
