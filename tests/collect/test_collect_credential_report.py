"""The credential-report parser is total: rows, or a counted and reasoned rejection; never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rootaudit.collectors.credential_report import COLUMNS, parse_credential_report

ACCT = "111122223333"


def report(root: dict[str, str] | None = None, columns: tuple[str, ...] = COLUMNS, users: int = 1) -> bytes:
    base = {c: "N/A" for c in COLUMNS}
    base.update(
        {
            "user": "<root_account>",
            "arn": f"arn:aws:iam::{ACCT}:root",
            "user_creation_time": "2020-01-01T00:00:00+00:00",
            "password_enabled": "not_supported",
            "password_last_used": "no_information",
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "mfa_active": "false",
            "access_key_1_active": "false",
            "access_key_2_active": "false",
            "cert_1_active": "false",
            "cert_2_active": "false",
        }
    )
    base.update(root or {})
    lines = [",".join(columns)]
    if root is not None or users:
        lines.append(",".join(base.get(c, "") for c in columns))
    for i in range(users - 1):
        user = {
            **{c: "N/A" for c in COLUMNS},
            "user": f"alice{i}",
            "arn": f"arn:aws:iam::{ACCT}:user/alice{i}",
            "password_enabled": "true",
            "mfa_active": "false",
            "access_key_1_active": "true",
            "access_key_2_active": "false",
            "cert_1_active": "false",
            "cert_2_active": "false",
        }
        lines.append(",".join(user[c] for c in columns))
    return ("\n".join(lines) + "\n").encode()


def test_clean_root_row_reads_as_no_credentials() -> None:
    parsed = parse_credential_report(report(users=3), ACCT)
    assert parsed.ok and parsed.rows_read == 3 and parsed.rows_rejected == 0
    root = parsed.root
    assert root is not None
    assert root.access_keys == () and root.certificates == ()
    assert root.mfa_active is False and root.password_enabled is None and root.password_last_used is None
    assert root.unknown == ()


def test_keys_certificates_and_mixed_case_booleans() -> None:
    parsed = parse_credential_report(
        report(
            {
                "mfa_active": "TRUE",
                "access_key_1_active": "True",
                "access_key_1_last_rotated": "2024-05-01T10:00:00Z",
                "access_key_1_last_used_date": "2026-08-01T09:30:00+00:00",
                "access_key_1_last_used_service": "s3",
                "access_key_2_active": "FaLsE",
                "access_key_2_last_rotated": "2023-01-01T00:00:00+00:00",
                "cert_1_active": "true",
                "cert_1_last_rotated": "2022-02-02T00:00:00+00:00",
                "password_last_used": "2026-07-04T12:00:00+00:00",
            }
        ),
        ACCT,
    )
    root = parsed.root
    assert root is not None and root.mfa_active is True
    assert [(k.slot, k.active) for k in root.access_keys] == [("access_key_1", True), ("access_key_2", False)]
    assert root.access_keys[0].last_used_at == "2026-08-01T09:30:00Z"
    assert root.access_keys[0].last_used_service == "s3"
    assert [(c.slot, c.active) for c in root.certificates] == [("cert_1", True)]
    assert root.password_last_used == "2026-07-04T12:00:00Z"


def test_missing_root_row_is_a_reasoned_rejection() -> None:
    body = report(users=3).decode().splitlines()
    del body[1]
    parsed = parse_credential_report("\n".join(body).encode(), ACCT)
    assert not parsed.ok and "no <root_account> row" in parsed.rejection and parsed.rows_read == 2


def test_missing_required_column_is_rejected_and_missing_optional_is_noted() -> None:
    parsed = parse_credential_report(
        report({}, columns=tuple(c for c in COLUMNS if c != "cert_2_active")), ACCT
    )
    assert not parsed.ok and "cert_2_active" in parsed.rejection
    parsed = parse_credential_report(
        report({}, columns=tuple(c for c in COLUMNS if c != "password_last_used")), ACCT
    )
    assert parsed.ok and any("password_last_used" in p for p in parsed.problems)


def test_unreadable_key_state_is_unknown_not_absent() -> None:
    parsed = parse_credential_report(
        report({"access_key_2_active": "no_information", "mfa_active": "maybe"}), ACCT
    )
    assert parsed.root is not None
    assert any("access_key_2_active" in u for u in parsed.root.unknown)
    assert any("mfa_active" in u for u in parsed.root.unknown)


def test_short_rows_are_counted_and_other_accounts_root_is_refused() -> None:
    text = report(users=2).decode() + "broken,row\n"
    parsed = parse_credential_report(text, ACCT)
    assert parsed.ok and parsed.rows_rejected == 1 and parsed.problems
    parsed = parse_credential_report(report(), "999988887777")
    assert not parsed.ok and "999988887777" in parsed.rejection


def test_odd_inputs_are_rejections() -> None:
    for content in (None, b"", b"\xff\xfe\x00garbage", 42, "user,arn\n", "\ufeff" + report().decode()):
        parsed = parse_credential_report(content, ACCT)
        assert parsed.ok or parsed.rejection
    assert parse_credential_report("\ufeff" + report().decode(), ACCT).ok


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        st.lists(
            st.sampled_from(
                [
                    "true",
                    "FALSE",
                    "N/A",
                    "not_supported",
                    "no_information",
                    "",
                    "2026-01-01T00:00:00+00:00",
                    "x,y",
                    '"',
                    "\n",
                ]
            ),
            min_size=len(COLUMNS),
            max_size=len(COLUMNS),
        ),
    )
)
def test_parser_is_total(data: object) -> None:
    if isinstance(data, list):
        row = dict(zip(COLUMNS, data, strict=True))
        row.update(user="<root_account>", arn=f"arn:aws:iam::{ACCT}:root")
        data = report(row)
    parsed = parse_credential_report(data, ACCT)
    assert parsed.ok != bool(parsed.rejection)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "true",
                "false",
                "TRUE",
                "N/A",
                "not_supported",
                "no_information",
                "",
                "maybe",
                "2026-01-01T00:00:00+00:00",
                "1999-13-45",
            ]
        ),
        min_size=len(COLUMNS),
        max_size=len(COLUMNS),
    ),
    st.dictionaries(
        st.sampled_from(["AccountMFAEnabled", "AccountPasswordPresent", "AccountAccessKeysPresent"]),
        st.integers(0, 3),
    ),
)
def test_report_rows_always_fit_the_schema(values: list[str], summary: dict[str, int]) -> None:
    from rootaudit.collectors.report_method import report_outcome
    from rootaudit.snapshot import make_frame

    row = dict(zip(COLUMNS, values, strict=True))
    row.update(user="<root_account>", arn=f"arn:aws:iam::{ACCT}:root")
    raw = {
        "get_credential_report": {"Content": report(row).decode(), "GeneratedTime": "2026-09-30T00:00:00Z"},
        "get_account_summary": {"SummaryMap": summary},
        "list_virtual_mfa_devices": [{"VirtualMFADevices": []}],
    }
    out = report_outcome(ACCT, raw)
    frame = make_frame("root_credentials", [out.row])
    make_frame("root_credential_items", out.items)
    assert frame.loc[0, "assessment"] in ("assessed", "not_assessed")
    if frame.loc[0, "assessment"] == "not_assessed":
        assert out.items == [] and frame.loc[0, "reason"]
