"""Table-driven: the status of every CIS 5.0.0 / 7.0.0, SOC 2 and ISO 27001:2022 control for each kind of
account, for the management account, and for the organization."""

from __future__ import annotations

import functools

import pytest

from rootaudit import controls
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.resources import mappings_dir

P, F, N, X, M = "PASS", "FAIL", "NOT_APPLICABLE", "NOT_ASSESSED", "MANUAL"

KIND_ORDER = ("clean_rcm", "password_virtual_mfa", "password_hardware_mfa", "active_key", "inactive_key_only",
              "signing_certificate", "password_no_mfa", "suspended", "not_assessed",
              "credential_report_unknown_password")

# profile -> (member statuses in KIND_ORDER, management account status, organization roll-up status)
# A SUSPENDED member's root credentials were not read: its credential controls are NOT_ASSESSED like an
# account whose read failed, never NOT_APPLICABLE (AWS documents no state that removes the root user).
PROFILES: dict[str, tuple[tuple[str, ...], str, str]] = {
    # ROOT_ACCESS_KEYS_ABSENT: inactive keys count; the credential report does tell about keys.
    "access_keys": ((P, P, P, F, F, P, P, X, X, P), P, X),
    # CIS 5.0+ root MFA: not applicable for a member without root credentials under RCM.
    "cis_mfa": ((N, P, P, P, P, P, F, X, X, X), P, X),
    "cis_hardware_mfa": ((N, F, P, F, F, F, F, X, X, X), P, X),
    # MFA and hardware MFA together, without a not-applicable rule.
    "mfa_and_hardware": ((P, F, P, F, F, F, F, X, X, X), P, X),
    # ROOT_CREDS_ABSENT (with RCM): any residue fails; the management account is held to keys/certs/MFA.
    "no_root_credentials": ((P, F, F, F, F, F, F, X, X, X), P, X),
    "no_root_credentials_manual": ((M, F, F, F, F, F, F, X, X, X), M, X),
    # Signals that hold in every account of the scenario (activity, alarm, contact, trail), the
    # SUSPENDED one included: CloudTrail and the rest are read for it as for any other.
    "holds_everywhere": ((P, P, P, P, P, P, P, P, P, P), P, P),
    "manual_everywhere": ((M, M, M, M, M, M, M, M, M, M), M, M),
}
ORG_ONLY = "organization-only"

EXPECTED: dict[str, dict[str, str | tuple[str, str]]] = {
    "cis-aws-5.0.0": {"1.1": "manual_everywhere", "1.2": "holds_everywhere", "1.3": "access_keys",
                      "1.4": "cis_mfa", "1.5": "cis_hardware_mfa", "1.6": "holds_everywhere",
                      "4.3": "holds_everywhere"},
    "cis-aws-7.0.0": {"2.1.1": (ORG_ONLY, P), "2.2": "manual_everywhere", "2.3": "holds_everywhere",
                      "2.4": "access_keys", "2.5": "cis_mfa", "2.6": "cis_hardware_mfa",
                      "2.7": "holds_everywhere", "5.3": "holds_everywhere"},
    "soc2-2017-tsc": {"CC6.1": "no_root_credentials", "CC6.2": "no_root_credentials",
                      "CC6.3": "no_root_credentials", "CC6.6": "mfa_and_hardware",
                      "CC7.1": "no_root_credentials_manual", "CC7.2": "holds_everywhere",
                      "CC7.3": "manual_everywhere", "CC7.4": "holds_everywhere", "CC2.3": "holds_everywhere",
                      "PI1.3": "holds_everywhere"},
    "iso27001-2022": {"A.5.15": "no_root_credentials", "A.5.16": "no_root_credentials",
                      "A.5.17": "no_root_credentials", "A.5.18": "no_root_credentials",
                      "A.8.2": "no_root_credentials", "A.8.5": "mfa_and_hardware",
                      "A.8.15": "holds_everywhere",
                      "A.8.16": "holds_everywhere", "A.5.5": "holds_everywhere", "A.5.3": "holds_everywhere",
                      "A.5.25": "holds_everywhere", "A.5.28": (ORG_ONLY, M), "A.5.33": "manual_everywhere"},
}


@pytest.fixture(scope="module")
def results(snapshot_of, helpers):
    return helpers, controls.evaluate(snapshot_of(list(KIND_ORDER)), list(EXPECTED))


@functools.cache
def _framework_ids() -> dict[str, tuple[str, str]]:
    fws = parse_frameworks(read_mapping_files([mappings_dir()]))
    return {fw.id: (fw.framework, fw.version) for fw in fws}


def test_every_control_of_these_frameworks_has_an_expectation():
    fws = {fw.id: fw for fw in parse_frameworks(read_mapping_files([mappings_dir()]))}
    for fid, expected in EXPECTED.items():
        assert sorted(c.id for c in fws[fid].controls) == sorted(expected), fid


CASES = [(fid, cid, kind) for fid, table in EXPECTED.items() for cid, prof in table.items()
         if not isinstance(prof, tuple) for kind in KIND_ORDER]


@pytest.mark.parametrize(("framework_id", "control_id", "kind"), CASES)
def test_member_account_status(results, framework_id, control_id, kind):
    module, res = results
    framework, version = _framework_ids()[framework_id]
    members, _, _ = PROFILES[EXPECTED[framework_id][control_id]]
    want = members[KIND_ORDER.index(kind)]
    cr = res.control_results
    row = cr[(cr.framework == framework) & (cr.version == version) & (cr.control_id == control_id)
             & (cr.account_id == module.ACCOUNT_OF[kind])]
    assert len(row) == 1
    assert row.iloc[0]["status"] == want, row.iloc[0]["rationale"]
    assert row.iloc[0]["rationale"]


@pytest.mark.parametrize(("framework_id", "control_id"),
                         [(f, c) for f, t in EXPECTED.items() for c in t])
def test_management_and_organization_status(results, framework_id, control_id):
    module, res = results
    framework, version = _framework_ids()[framework_id]
    cr = res.control_results
    rows = cr[(cr.framework == framework) & (cr.version == version) & (cr.control_id == control_id)]
    prof = EXPECTED[framework_id][control_id]
    org = rows[rows.account_id.isna()]
    assert len(org) == 1 and org.iloc[0]["scope"] == "organization"
    if isinstance(prof, tuple):
        assert len(rows) == 1  # organization-scoped: no per-account rows
        assert org.iloc[0]["status"] == prof[1], org.iloc[0]["rationale"]
        return
    _, mgmt_want, org_want = PROFILES[prof]
    mgmt = rows[rows.account_id == module.MANAGEMENT]
    assert mgmt.iloc[0]["scope"] == "management_account"
    assert mgmt.iloc[0]["status"] == mgmt_want, mgmt.iloc[0]["rationale"]
    assert org.iloc[0]["status"] == org_want, org.iloc[0]["rationale"]


def test_cis_mfa_not_applicable_carries_cis_wording(results):
    module, res = results
    cr = res.control_results
    for version, cid in (("5.0.0", "1.4"), ("5.0.0", "1.5"), ("7.0.0", "2.5"), ("7.0.0", "2.6")):
        clean = module.ACCOUNT_OF["clean_rcm"]
        row = cr[(cr.version == version) & (cr.control_id == cid) & (cr.account_id == clean)]
        text = row.iloc[0]["rationale"]
        # The account's row: the rule and the values it rests on; CIS's wording is in the organization row.
        assert text.startswith("ROOT_CREDS_ABSENT=PASS and RCM_ENABLED=PASS -> NOT_APPLICABLE")
        assert "root_credentials_removed_centrally" in text and "organization row" in text
        org = cr[(cr.version == version) & (cr.control_id == cid) & cr.account_id.isna()]
        assert "neither possible nor necessary" in org.iloc[0]["rationale"]
        assert "root_credentials_removed_centrally" in org.iloc[0]["rationale"]


def test_suspended_account_is_counted_not_clean(results):
    module, res = results
    aid = module.ACCOUNT_OF["suspended"]
    cr = res.control_results
    rows = cr[cr.account_id == aid]
    assert len(rows) > 0 and N not in set(rows.status)
    signals = res.signals[res.signals.account_id == aid].set_index("signal")
    assert signals.loc["ROOT_CREDS_ABSENT", "value"] == X
    assert "SUSPENDED" in signals.loc["ROOT_CREDS_ABSENT", "evidence"]
    assert aid in res.headline["not_assessed_accounts"] and res.headline["claim_made"] is False


def test_without_rcm_the_clean_account_passes_mfa_on_its_own_evidence(snapshot_of, helpers):
    snap = snapshot_of(["clean_rcm"], org=helpers.org_row(root_credentials_management=False))
    cr = controls.evaluate(snap, ["cis-aws-7.0.0"]).control_results
    row = cr[(cr.control_id == "2.5") & (cr.account_id == helpers.ACCOUNT_OF["clean_rcm"])].iloc[0]
    assert row["status"] == P and row["rationale"] == "ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD=PASS -> PASS"
    # the evidence behind that value is in the signals frame, for that account
    sig = controls.evaluate(snap, ["cis-aws-7.0.0"]).signals
    evidence = sig[(sig.account_id == helpers.ACCOUNT_OF["clean_rcm"])
                   & (sig.signal == "ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD")].iloc[0]["evidence"]
    assert "root has no password" in evidence
    org = cr[(cr.control_id == "2.1.1")].iloc[0]
    assert org["status"] == F


def test_a_mapping_not_checked_against_its_text_is_shown_as_rationale(snapshot_of):
    cr = controls.evaluate(snapshot_of(["clean_rcm"]), ["cis-aws-2.0.0"]).control_results
    row = cr[(cr.control_id == "1.6") & cr.account_id.isna()].iloc[0]
    assert row["basis"].startswith("Mapping by rationale (rootaudit's reasoning, not a published crosswalk): "
                                   "not checked against the published text: the assessment type")
    assert "UNVERIFIED" not in row["basis"]
    assert cr[cr.control_id == "1.4"].iloc[0]["basis"].startswith("Published mapping: Prowler compliance/")
