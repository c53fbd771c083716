"""The collect stage's own assembly of the snapshot."""

from __future__ import annotations


def test_the_identity_call_is_attributed_to_the_caller_account() -> None:
    from rootaudit.collect import attribute_identity_calls

    rows = [{"service": "sts", "operation": "GetCallerIdentity", "account_id": ""},
            {"service": "sts", "operation": "AssumeRoot", "account_id": "111111111111"},
            {"service": "s3", "operation": "ListObjectsV2", "account_id": ""}]
    out = attribute_identity_calls(rows, {"Account": "123456789012"})
    assert [r["account_id"] for r in out] == ["123456789012", "111111111111", ""]
