"""The credential signals as pure functions over one account's facts (None = unknown)."""

from __future__ import annotations

import pytest

from rootaudit.controls import signals as sig
from rootaudit.controls.signals import RootCredentials

P, F, X = "PASS", "FAIL", "NOT_ASSESSED"


def creds(password=False, keys=0, keys_off=0, certs=0, certs_off=0, mfa=0, kind="none", assessed=True,
          method="assume_root_audit") -> RootCredentials:
    reason = "" if assessed else "AccessDenied"
    return RootCredentials("222222222222", assessed, method, reason, password, keys, keys_off, certs,
                           certs_off, mfa, kind, "2026-10-02T08:00:00Z")


# facts -> (ROOT_CREDS_ABSENT, ACCESS_KEYS, PASSWORD, SIGNING_CERTS, MFA_OR_NO_PASSWORD, HW_MFA_OR_NO_CREDS)
CASES = [
    ({}, (P, P, P, P, P, P)),
    ({"password": True, "mfa": 1, "kind": "virtual"}, (F, P, F, P, P, F)),
    ({"password": True, "mfa": 1, "kind": "hardware"}, (F, P, F, P, P, P)),
    ({"password": True, "mfa": 1, "kind": "unknown"}, (F, P, F, P, P, X)),
    ({"password": True}, (F, P, F, P, F, F)),
    ({"keys": 1}, (F, F, P, P, P, F)),
    ({"keys_off": 2}, (F, F, P, P, P, F)),
    ({"certs_off": 1}, (F, P, P, F, P, F)),
    ({"mfa": 1, "kind": "virtual"}, (F, P, P, P, P, F)),  # an MFA device left without a password
    ({"password": None}, (X, P, X, P, X, X)),  # credential report: password unknown
    ({"password": None, "mfa": 1, "kind": "hardware"}, (F, P, X, P, P, P)),
    ({"password": None, "keys": 1}, (F, F, X, P, X, F)),
    ({"keys": None}, (X, X, P, P, P, X)),
    ({"assessed": False, "password": None, "keys": None}, (X, X, X, X, X, X)),
]
FUNCTIONS = (sig.root_creds_absent, sig.root_access_keys_absent, sig.root_password_absent,
             sig.root_signing_certs_absent, sig.root_mfa_enabled_or_no_root_password,
             sig.root_hw_mfa_or_no_root_creds)


@pytest.mark.parametrize(("facts", "expected"), CASES)
def test_credential_signals(facts, expected):
    rc = creds(**facts)
    got = tuple(fn(rc).value for fn in FUNCTIONS)
    assert got == expected
    for fn in FUNCTIONS:
        assert "222222222222" in fn(rc).evidence


def test_not_assessed_evidence_carries_the_reason():
    s = sig.root_creds_absent(creds(assessed=False, password=None))
    assert s.value == X and "AccessDenied" in s.evidence


def test_features_unread_are_not_assessed():
    assert sig.rcm_enabled(None).value == X
    row = {"organization_id": "o-1", "iam_trusted_access": True, "root_credentials_management": None,
           "root_sessions": True, "delegated_admins": None, "caller_arn": "arn",
           "features_status": "assessed", "features_reason": None}
    assert sig.rcm_enabled(row).value == X
    assert sig.root_sessions_enabled(row).value == P
    assert sig.rcm_enabled({**row, "root_credentials_management": False}).value == F


def test_security_contact_states():
    base = {"account_id": "222222222222", "security_contact_reason": None}
    assert sig.security_contact({**base, "security_contact": "registered"}).value == P
    assert sig.security_contact({**base, "security_contact": "none"}).value == F
    unread = sig.security_contact({**base, "security_contact": "not_assessed",
                                   "security_contact_reason": "account trusted access not enabled"})
    assert unread.value == X and "trusted access" in unread.evidence
    assert sig.security_contact({**base, "security_contact": None}).value == X


def test_summary_is_the_first_sentence():
    assert sig.Signal(P, "root has no password. root of 1 read by x").summary == "root has no password."
    assert sig.Signal(X, "no sentence end").summary == "no sentence end"


def _source(account: str, status: str = "read", item: str = "*") -> dict[str, str]:
    return {"source": "s3://trail/AWSLogs/o-x/", "account_id": account, "region": "*", "item": item,
            "status": status, "reason": "", "period_start": "2026-07-01T00:00:00Z",
            "period_end": "2026-10-01T00:00:00Z", "covered_start": "2026-07-01T00:00:00Z",
            "covered_end": "2026-10-01T00:00:00Z"}


def test_coverage_needs_a_row_of_the_accounts_own():
    """A row for no particular account (a source's totals) does not show that an account's logs were read:
    an account no row names is not covered, even beside a clean totals row."""
    coverage = sig.Coverage([_source("*"), _source("111111111111")])
    assert coverage.of(["111111111111"])[0] is True
    ok, why = coverage.of(["222222222222"])
    assert ok is False and "no CloudTrail source row names account(s) 222222222222" in why
    ok, why = coverage.of(["111111111111", "222222222222"])
    assert ok is False and "222222222222" in why and "111111111111" not in why.split("names")[1]
    assert sig.Coverage([_source("*")]).of(["111111111111"])[0] is False
    assert sig.Coverage([_source("111111111111", "not_covered")]).of(["111111111111"])[0] is False
