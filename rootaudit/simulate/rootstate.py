"""A member account's root user credentials, and how AWS shows them.

One `RootState` per account: what the root user holds (password, access keys, signing certificates,
MFA). The scenario declares it (the expected state tests compare against); the simulation keeps a live
copy that root-session calls read and change. The renderings here (credential-report row, summary
keys, virtual MFA entry) follow aws-api-facts.md to the letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MfaKind = Literal["none", "virtual", "hardware"]

CREDENTIAL_REPORT_COLUMNS = (
    "user", "arn", "user_creation_time", "password_enabled", "password_last_used",
    "password_last_changed", "password_next_rotation", "mfa_active", "access_key_1_active",
    "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region",
    "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
    "cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
)


def iso(moment: datetime) -> str:
    """The credential report's timestamp style (ISO 8601 with offset, seconds precision)."""
    return moment.replace(microsecond=0).isoformat()


@dataclass
class RootAccessKey:
    key_id: str  # AKIA…
    status: Literal["Active", "Inactive"]
    created: datetime
    last_used: datetime | None = None
    last_used_region: str = ""
    last_used_service: str = ""


@dataclass
class RootSigningCertificate:
    certificate_id: str
    status: Literal["Active", "Inactive"]
    uploaded: datetime
    body: str = "-----BEGIN CERTIFICATE-----\nMIIBsimulated\n-----END CERTIFICATE-----"


@dataclass
class RootState:
    """Everything the root user of one account holds. Mutable: delete tasks change the live copy."""

    account_id: str
    created: datetime  # the root user's creation = the account's creation
    password: bool = False
    password_created: datetime | None = None
    password_last_used: datetime | None = None
    access_keys: list[RootAccessKey] = field(default_factory=list)
    certificates: list[RootSigningCertificate] = field(default_factory=list)
    mfa: MfaKind = "none"
    mfa_serial: str = ""  # virtual: arn:aws:iam::<acct>:mfa/root-account-mfa-device; hardware: a serial
    mfa_enabled_at: datetime | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    @property
    def has_credentials(self) -> bool:
        return bool(self.password or self.access_keys or self.certificates or self.mfa != "none")

    def copy(self) -> RootState:
        return RootState(
            account_id=self.account_id, created=self.created, password=self.password,
            password_created=self.password_created, password_last_used=self.password_last_used,
            access_keys=[RootAccessKey(**vars(k)) for k in self.access_keys],
            certificates=[RootSigningCertificate(**vars(c)) for c in self.certificates],
            mfa=self.mfa, mfa_serial=self.mfa_serial, mfa_enabled_at=self.mfa_enabled_at,
        )

    def key(self, key_id: str) -> RootAccessKey | None:
        return next((k for k in self.access_keys if k.key_id == key_id), None)

    # --- how AWS shows it -------------------------------------------------------------------------

    def credential_report_row(self) -> dict[str, str]:
        """The `<root_account>` row, with AWS's spellings: `not_supported` for the password columns
        it never reports for root, `N/A` for absent keys and certificates, `no_information` when
        never used."""
        row = {
            "user": "<root_account>",
            "arn": self.arn,
            "user_creation_time": iso(self.created),
            "password_enabled": "not_supported",
            "password_last_used": (iso(self.password_last_used) if self.password_last_used
                                   else ("no_information" if self.password else "N/A")),
            "password_last_changed": "not_supported",
            "password_next_rotation": "not_supported",
            "mfa_active": "true" if self.mfa != "none" else "false",
        }
        keys = sorted(self.access_keys, key=lambda k: k.created)[:2]
        for n in (1, 2):
            key = keys[n - 1] if len(keys) >= n else None
            prefix = f"access_key_{n}_"
            if key is None:
                row |= {prefix + "active": "false", prefix + "last_rotated": "N/A",
                        prefix + "last_used_date": "N/A", prefix + "last_used_region": "N/A",
                        prefix + "last_used_service": "N/A"}
                continue
            # A key never used shows N/A in all three last-used columns, as AWS documents.
            used = key.last_used is not None
            row |= {
                prefix + "active": "true" if key.status == "Active" else "false",
                prefix + "last_rotated": iso(key.created),
                prefix + "last_used_date": iso(key.last_used) if key.last_used else "N/A",
                prefix + "last_used_region": key.last_used_region if used else "N/A",
                prefix + "last_used_service": key.last_used_service if used else "N/A",
            }
        certs = sorted(self.certificates, key=lambda c: c.uploaded)[:2]
        for n in (1, 2):
            cert = certs[n - 1] if len(certs) >= n else None
            row[f"cert_{n}_active"] = "true" if cert and cert.status == "Active" else "false"
            row[f"cert_{n}_last_rotated"] = iso(cert.uploaded) if cert else "N/A"
        return row

    def credential_report_line(self) -> str:
        row = self.credential_report_row()
        return ",".join(row[c] for c in CREDENTIAL_REPORT_COLUMNS) + "\n"

    def summary_keys(self) -> dict[str, int]:
        """The root-related keys of GetAccountSummary's SummaryMap."""
        return {
            "AccountMFAEnabled": int(self.mfa != "none"),
            "AccountAccessKeysPresent": int(bool(self.access_keys)),
            "AccountSigningCertificatesPresent": int(bool(self.certificates)),
            "AccountPasswordPresent": int(self.password),
        }
