"""Organization-level results, fail-closed coverage, the headline and the exit status."""

from __future__ import annotations

import pytest

from rootaudit import controls
from rootaudit.controls.mappings import parse_frameworks, read_mapping_files
from rootaudit.controls.signals import ACCOUNT_SIGNALS, ORGANIZATION_SIGNALS
from rootaudit.resources import mappings_dir

CREDENTIAL_SIGNALS = {"ROOT_CREDS_ABSENT", "ROOT_ACCESS_KEYS_ABSENT", "ROOT_PASSWORD_ABSENT",
                      "ROOT_SIGNING_CERTS_ABSENT", "ROOT_MFA_ENABLED_OR_NO_ROOT_PASSWORD",
                      "ROOT_HW_MFA_OR_NO_ROOT_CREDS"}
CLOUDTRAIL_SIGNALS = {"ASSUMEROOT_ACCOUNTED", "NO_ROOT_CONSOLE_LOGIN", "NO_ROOT_API_CALLS"}


def _org_rows(results):
    cr = results.control_results
    return cr[cr.account_id.isna()]


def _controls_by_key():
    return {(fw.framework, fw.version, c.id): c
            for fw in parse_frameworks(read_mapping_files([mappings_dir()])) for c in fw.controls}


def test_clean_organization_passes_and_claims_zero(snapshot_of):
    results = controls.evaluate(snapshot_of(["clean_rcm"]), ["cis-aws-7.0.0"])
    org = _org_rows(results)
    assert set(org.status) == {"PASS", "MANUAL"}
    assert results.headline["claim_made"] is True
    assert results.headline["claim"] == "0 of 1 member accounts have active root credentials"
    assert controls.exit_status(results) == 0


def test_not_assessed_account_makes_every_dependent_org_control_not_assessed(snapshot_of):
    """Over every framework: an organization result that depends on a credential signal is NOT_ASSESSED
    when one ACTIVE account could not be assessed, even though every other account is clean."""
    snap = snapshot_of(["clean_rcm", "not_assessed"])
    results = controls.evaluate(snap, ["all"])
    assert len(results.frameworks) == len(controls.list_frameworks())
    by_key = _controls_by_key()
    checked = 0
    for row in _org_rows(results).to_dict("records"):
        control = by_key[(row["framework"], row["version"], row["control_id"])]
        if set(control.rule.signals) & CREDENTIAL_SIGNALS:
            assert row["status"] == "NOT_ASSESSED", (row["control_id"], row["rationale"])
            checked += 1
        else:  # only the root credentials are missing: controls that do not rest on them are decided
            assert row["status"] != "NOT_ASSESSED", (row["control_id"], row["rationale"])
    assert checked > 50  # every framework has credential controls
    assert controls.exit_status(results) == 2
    assert results.headline["claim_made"] is False
    assert "1 not assessed (111111111109)" in results.headline["claim"]


def test_same_organization_without_the_unassessed_account_passes(snapshot_of):
    """The control test above is not vacuous: the same controls PASS once the account is assessed."""
    results = controls.evaluate(snapshot_of(["clean_rcm"]), ["all"])
    by_key = _controls_by_key()
    statuses = {row["status"] for row in _org_rows(results).to_dict("records")
                if set(by_key[(row["framework"], row["version"], row["control_id"])].rule.signals)
                & CREDENTIAL_SIGNALS}
    assert statuses <= {"PASS", "MANUAL"}
    assert "PASS" in statuses


def test_credential_report_with_unknown_password_never_claims_zero(snapshot_of):
    results = controls.evaluate(snapshot_of(["clean_rcm", "credential_report_unknown_password"]),
                                ["cis-aws-7.0.0"])
    h = results.headline
    assert h["assessed"] == 2 and h["not_assessed"] == 0
    assert h["claim_made"] is False
    assert "without telling whether root has a password" in h["claim"]
    signals = results.signals
    row = signals[(signals.account_id == "111111111110") & (signals.signal == "ROOT_PASSWORD_ABSENT")].iloc[0]
    assert row["value"] == "NOT_ASSESSED" and "not_supported" in row["evidence"]


def test_headline_counts_active_credentials_and_residue(snapshot_of):
    h = controls.evaluate(snapshot_of(), ["cis-aws-7.0.0"]).headline
    assert h["member_accounts"] == 10  # ten kinds: the suspended one counts, as not assessed
    assert h["not_active_accounts"] == {"111111111108": "SUSPENDED"}
    assert set(h["not_assessed_accounts"]) == {"111111111108", "111111111109"}
    assert h["with_active_root_credentials"] == 5
    assert set(h["active_root_credentials"]) == {"111111111102", "111111111103", "111111111104",
                                                 "111111111106", "111111111107"}
    assert h["other_residue"] == {"111111111105": "1 inactive access key(s)"}
    assert h["claim"].startswith("at least 5 of 10 member accounts have active root credentials")
    assert h["management_account"]["account_id"] == "111111111100"
    assert h["management_account"]["hardware_mfa_or_no_creds"] == "PASS"


def test_mfa_device_without_password_is_residue(snapshot_of, helpers):
    snap = snapshot_of(["clean_rcm"])
    creds = snap.frames["root_credentials"]
    creds.loc[creds.account_id == "111111111101", "mfa_devices"] = 1
    creds.loc[creds.account_id == "111111111101", "mfa_kind"] = "virtual"
    h = controls.evaluate(snap, ["cis-aws-7.0.0"]).headline
    assert h["claim_made"] is True  # an MFA device alone is not an active credential
    assert h["other_residue"] == {"111111111101": "1 MFA device(s) without a password"}


def test_cloudtrail_gap_makes_activity_signals_not_assessed(snapshot_of, helpers):
    gap = helpers.source_row(source="lookup", account_id="111111111101", region="eu-west-1", item="page-3",
                             status="failed", reason="ThrottlingException after 8 retries")
    # a row of each account's own, as every source writes one for each account it read
    read = [helpers.source_row(account_id=f"11111111110{i}", region="us-east-1") for i in range(4)]
    snap = snapshot_of(["clean_rcm", "password_hardware_mfa"], sources=[helpers.source_row(), *read, gap])
    results = controls.evaluate(snap, ["cis-aws-7.0.0"])
    s = results.signals
    for signal in CLOUDTRAIL_SIGNALS:
        row = s[(s.account_id == "111111111101") & (s.signal == signal)].iloc[0]
        assert row["value"] == "NOT_ASSESSED", signal
        assert "ThrottlingException" in row["evidence"]
        other = s[(s.account_id == "111111111103") & (s.signal == signal)].iloc[0]
        assert other["value"] == "PASS", signal  # the gap is only in 111111111101's part
    cr = results.control_results
    assert cr[(cr.control_id == "2.7") & cr.account_id.isna()].iloc[0]["status"] == "NOT_ASSESSED"


def test_event_seen_is_a_fail_even_with_a_gap(snapshot_of, helpers):
    gap = helpers.source_row(status="not_covered", reason="trail bucket has no files before 2026-08-01",
                             covered_start="2026-08-01T00:00:00Z")
    login = helpers.activity_row("ev-login-1", "111111111103", "console_login")
    snap = snapshot_of(["password_hardware_mfa"], sources=[gap], activity=[login])
    s = controls.evaluate(snap, ["cis-aws-7.0.0"]).signals
    row = s[(s.account_id == "111111111103") & (s.signal == "NO_ROOT_CONSOLE_LOGIN")].iloc[0]
    assert row["value"] == "FAIL"
    assert "ev-login-1" in row["evidence"] and "not fully covered" in row["evidence"]


def test_short_coverage_window_is_a_gap(snapshot_of, helpers):
    short = helpers.source_row(covered_start="2026-07-15T00:00:00Z")
    s = controls.evaluate(snapshot_of(["clean_rcm"], sources=[short]), ["cis-aws-7.0.0"]).signals
    row = s[(s.account_id == "111111111101") & (s.signal == "NO_ROOT_API_CALLS")].iloc[0]
    assert row["value"] == "NOT_ASSESSED" and "covers 2026-07-15T00:00:00Z" in row["evidence"]


def test_no_cloudtrail_source_at_all_is_not_assessed(snapshot_of):
    s = controls.evaluate(snapshot_of(["clean_rcm"], sources=[]), ["cis-aws-7.0.0"]).signals
    org = s[s.account_id.isna()].set_index("signal")
    for signal in CLOUDTRAIL_SIGNALS:
        assert org.loc[signal, "value"] == "NOT_ASSESSED"


def test_unreadable_organization_features_are_not_assessed(snapshot_of, helpers):
    org = helpers.org_row(root_credentials_management=None, root_sessions=None,
                          features_status="not_assessed",
                          features_reason="AccessDenied on iam:ListOrganizationsFeatures")
    results = controls.evaluate(snapshot_of(["clean_rcm"], org=org), ["cis-aws-7.0.0"])
    cr = results.control_results
    row = cr[cr.control_id == "2.1.1"].iloc[0]
    assert row["status"] == "NOT_ASSESSED" and "ListOrganizationsFeatures" in row["rationale"]
    # Without RCM evidence the CIS note cannot apply; the clean account still passes on its own evidence.
    mfa = cr[(cr.control_id == "2.5") & (cr.account_id == "111111111101")].iloc[0]
    assert mfa["status"] == "PASS"


def test_root_usage_alarm_needs_a_subscriber(snapshot_of, helpers):
    member_trail = helpers.trail_row(account_id="111111111101", is_organization_trail=False,
                                     trail_arn="arn:aws:cloudtrail:us-east-1:111111111101:trail/own",
                                     alarm_subscribers=0)
    snap = snapshot_of(["clean_rcm", "password_hardware_mfa"],
                       monitoring=[helpers.trail_row(alarm_subscribers=0), member_trail])
    s = controls.evaluate(snap, ["cis-aws-7.0.0"]).signals.set_index(["account_id", "signal"])
    assert s.loc[("111111111100", "ROOT_USAGE_ALARM"), "value"] == "FAIL"
    assert s.loc[("111111111101", "ROOT_USAGE_ALARM"), "value"] == "FAIL"
    # No monitoring row of its own and no qualifying organization trail: unknown, not FAIL and not PASS.
    row = s.loc[("111111111103", "ROOT_USAGE_ALARM")]
    assert row["value"] == "NOT_ASSESSED" and "no monitoring row" in row["evidence"]
    snap = snapshot_of(["clean_rcm"], monitoring=[helpers.trail_row(alarm_subscribers=0,
                                                                     eventbridge_rule="root-activity")])
    s = controls.evaluate(snap, ["cis-aws-7.0.0"]).signals
    assert s[(s.account_id == "111111111101") & (s.signal == "ROOT_USAGE_ALARM")].iloc[0]["value"] == "PASS"


def test_every_signal_has_a_row_for_every_account_and_the_organization(snapshot_of):
    s = controls.evaluate(snapshot_of(), ["cis-aws-7.0.0"]).signals
    org = s[s.scope == "organization"]
    assert sorted(org.signal) == sorted(ACCOUNT_SIGNALS + ORGANIZATION_SIGNALS)
    accounts = s[s.scope == "account"]
    assert accounts.groupby("account_id").signal.count().eq(len(ACCOUNT_SIGNALS)).all()
    assert org.set_index("signal").loc["PACK_INTEGRITY", "value"] == "MANUAL"
    assert (s.evidence.str.len() > 0).all()


def test_exit_status_one_for_plain_failures(snapshot_of):
    results = controls.evaluate(snapshot_of(["clean_rcm", "active_key"]), ["cis-aws-7.0.0"])
    assert controls.exit_status(results) == 1


def test_account_without_root_credentials_row_is_not_assessed(snapshot_of, helpers):
    snap = snapshot_of(["clean_rcm"])
    creds = snap.frames["root_credentials"]
    snap.frames["root_credentials"] = creds[creds.account_id != "111111111101"].reset_index(drop=True)
    results = controls.evaluate(snap, ["cis-aws-7.0.0"])
    s = results.signals.set_index(["account_id", "signal"])
    row = s.loc[("111111111101", "ROOT_CREDS_ABSENT")]
    assert row["value"] == "NOT_ASSESSED" and "no root_credentials row" in row["evidence"]
    assert results.headline["not_assessed"] == 1 and results.headline["claim_made"] is False


def test_account_missing_from_account_list_is_shown_not_dropped(snapshot_of, helpers):
    snap = snapshot_of(["clean_rcm"])
    accounts = snap.frames["accounts"]
    snap.frames["accounts"] = accounts[accounts.account_id != "111111111101"].reset_index(drop=True)
    results = controls.evaluate(snap, ["cis-aws-7.0.0"])
    cr = results.control_results
    rows = cr[cr.account_id == "111111111101"]
    assert len(rows) > 0 and set(rows.status) == {"NOT_ASSESSED"}
    evidence = results.signals.set_index(["account_id", "signal"]).loc[
        ("111111111101", "ROOT_CREDS_ABSENT"), "evidence"]
    assert "the root-credential results" in evidence and "missing from ListAccounts" in evidence
    headline = results.headline
    assert headline["member_accounts"] == 1 and headline["not_assessed"] == 1
    assert list(headline["population_disagreement_accounts"]) == ["111111111101"]
    assert headline["claim_made"] is False


def test_monitoring_failed_as_a_whole_is_not_assessed_everywhere(snapshot_of, helpers):
    failed = {"account_id": "*", "region": "*", "status": "not_assessed",
              "reason": "monitoring collection failed as a whole: AccessDenied"}
    s = controls.evaluate(snapshot_of(["clean_rcm"], monitoring=[failed]), ["cis-aws-7.0.0"]).signals
    for aid in ("111111111100", "111111111101"):
        for signal in ("ROOT_USAGE_ALARM", "CLOUDTRAIL_COVERAGE", "LOG_FILE_INTEGRITY"):
            row = s[(s.account_id == aid) & (s.signal == signal)].iloc[0]
            assert row["value"] == "NOT_ASSESSED" and "failed as a whole" in row["evidence"], (aid, signal)


@pytest.mark.parametrize("source", ["lookup", "athena://primary/trail.cloudtrail_logs"])
def test_a_source_that_reads_no_log_files_never_passes_log_integrity(snapshot_of, helpers, source):
    """LookupEvents and Athena leave CloudTrail's digests unchecked: LOG_FILE_INTEGRITY, and the
    log-integrity controls resting on it (NIST AU-9, ISO/IEC 27001 A.5.33), are NOT_ASSESSED with that
    said, though the trail's log file validation setting is on. What they read does cover the period, so
    CLOUDTRAIL_COVERAGE and the logging controls resting on it alone (NIST AU-12, PCI DSS 10.2.1) pass."""
    if source == "lookup":  # a page listing per account and region
        rows = [helpers.source_row(source=source, account_id=a, region="us-east-1")
                for a in ("111111111100", "111111111101")]
    else:  # the query's totals, and a row for each account it counted events of
        rows = [helpers.source_row(source=source, account_id="*", region="*")] + [
            helpers.source_row(source=source, account_id=a, region="*", item="query q-1", events_read=None)
            for a in ("111111111100", "111111111101")]
    results = controls.evaluate(snapshot_of(["clean_rcm"], sources=rows),
                                ["nist-800-53-r5", "pci-dss-4.0.1", "iso27001-2022"])
    s = results.signals.set_index(["account_id", "signal"])
    integrity = s.loc[("111111111101", "LOG_FILE_INTEGRITY")]
    assert integrity["value"] == "NOT_ASSESSED"
    assert f"{source}: log-file integrity was not checked by rootaudit" in integrity["evidence"]
    assert "log file validation yes" in integrity["evidence"] and "setting alone" in integrity["evidence"]
    coverage = s.loc[("111111111101", "CLOUDTRAIL_COVERAGE")]
    assert coverage["value"] == "PASS", coverage["evidence"]
    assert "none with a gap" in coverage["evidence"]
    cr = results.control_results.set_index(["account_id", "control_id"])
    for control in ("AU-9", "A.5.33"):
        assert cr.loc[("111111111101", control), "status"] == "NOT_ASSESSED", control
    for control in ("AU-12", "10.2.1", "10.5.1"):
        assert cr.loc[("111111111101", control), "status"] == "PASS", control


def test_cloudtrail_coverage_needs_the_whole_period_read(snapshot_of, helpers):
    """The trail's setting alone does not make CLOUDTRAIL_COVERAGE pass: a source that read the account
    only in part (a partial scan, a window short of the period) leaves it NOT_ASSESSED, with the gap
    named; a trail that does not qualify fails whatever was read."""
    accounts = ["111111111100", "111111111101"]
    whole = [helpers.source_row(account_id=a, region="us-east-1", files_validated=100, digests_read=24,
                                digests_validated=24) for a in accounts]
    partial = [*whole, helpers.source_row(account_id="111111111101", region="eu-west-1",
                                          item="111111111101/eu-west-1/x.json.gz", status="partial",
                                          reason="the file ended before its gzip trailer")]
    short = [whole[0], {**whole[1], "covered_end": "2026-08-15T00:00:00Z"}]

    def coverage(sources, **kwargs):
        s = controls.evaluate(snapshot_of(["clean_rcm"], sources=sources, **kwargs), ["nist-800-53-r5"])
        return s.signals.set_index(["account_id", "signal"]).loc[("111111111101", "CLOUDTRAIL_COVERAGE")]

    assert coverage(whole)["value"] == "PASS"
    gap = coverage(partial)
    assert gap["value"] == "NOT_ASSESSED" and "x.json.gz: partial" in gap["evidence"]
    window = coverage(short)
    assert window["value"] == "NOT_ASSESSED" and "covers" in window["evidence"]
    stopped = [helpers.trail_row(is_logging=False),
               helpers.trail_row(account_id="111111111101", is_organization_trail=False, is_logging=False)]
    no_trail = coverage(whole, monitoring=stopped)
    assert no_trail["value"] == "FAIL", no_trail["evidence"]
