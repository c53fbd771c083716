"""The credential report parser on reports in the IAM user guide's format (tests/fixtures/aws/README.md):
the documented columns in order, `TRUE`/`FALSE`, `N/A` last_rotated for a key that is not active."""

from __future__ import annotations

from typing import Any

from rootaudit.collectors.credential_report import COLUMNS, parse_credential_report
from rootaudit.collectors.report_method import report_outcome
from tests.support.aws_documents import report

ACCOUNT = "111122223333"


def raw(name: str, summary: dict[str, int]) -> dict[str, Any]:
    return {"get_credential_report": {"Content": report(name), "GeneratedTime": "2023-07-25T00:00:00Z"},
            "get_account_summary": {"SummaryMap": summary},
            "list_virtual_mfa_devices": [{"VirtualMFADevices": []}]}


def test_documented_columns_in_order() -> None:
    header = report("credential-report-root-inactive-key.csv").decode().splitlines()[0]
    assert tuple(header.split(",")) == COLUMNS


def test_inactive_root_key_with_last_rotated_na_is_still_an_inactive_key() -> None:
    parsed = parse_credential_report(report("credential-report-root-inactive-key.csv"), ACCOUNT)
    assert parsed.ok and parsed.rows_read == 2 and parsed.root is not None
    [key] = parsed.root.access_keys
    assert (key.slot, key.active, key.last_rotated) == ("access_key_1", False, None)
    assert (key.last_used_at, key.last_used_service) == ("2021-06-03T09:41:00Z", "ec2")
    assert parsed.root.mfa_active is True and parsed.root.password_enabled is None  # not_supported
    out = report_outcome(ACCOUNT, raw("credential-report-root-inactive-key.csv", {"AccountMFAEnabled": 1}))
    assert (out.row["access_keys_active"], out.row["access_keys_inactive"]) == (0, 1)


def test_a_never_used_inactive_key_shows_only_in_the_account_summary() -> None:
    # FALSE / N/A everywhere is how the report writes both "no key" and "an inactive key never used".
    name = "credential-report-root-no-credentials.csv"
    parsed = parse_credential_report(report(name), ACCOUNT)
    assert parsed.ok and parsed.root is not None and parsed.root.access_keys == ()
    none = report_outcome(ACCOUNT, raw(name, {"AccountAccessKeysPresent": 0, "AccountPasswordPresent": 0}))
    assert (none.row["access_keys_active"], none.row["access_keys_inactive"]) == (0, 0)
    hidden = report_outcome(ACCOUNT, raw(name, {"AccountAccessKeysPresent": 1, "AccountPasswordPresent": 0}))
    assert (hidden.row["access_keys_active"], hidden.row["access_keys_inactive"]) == (0, 1)
    assert [i["status"] for i in hidden.items if i["kind"] == "access_key"] == ["Inactive"]
    assert "AccountAccessKeysPresent" in hidden.row["reason"]
