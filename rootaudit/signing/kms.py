"""Signing with an AWS KMS asymmetric key (kms:Sign, MessageType DIGEST), and checking with kms:Verify.

The key's private half never leaves KMS, so whoever renders or forwards the pack cannot sign a different
snapshot unless the key's policy lets them call kms:Sign. Supported key specs: ECC_NIST_P256
(ECDSA_SHA_256) and RSA_2048/3072/4096 (RSASSA_PKCS1_V1_5_SHA_256); the signed message is the snapshot's
SHA-256, so a P-384 or P-521 key (which signs a 48- or 64-byte digest) cannot be used. Every client
carries its own allowlist (`rootaudit.signing.allowlist`), never collection's read-only one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootaudit.aws import AwsContext, AwsSettings, error_code, error_text
from rootaudit.signing.allowlist import signing, verifying
from rootaudit.signing.keyfile import SigningKeyError
from rootaudit.signing.record import (
    ECDSA_SHA_256,
    RSA_PKCS1,
    Signature,
    public_key_pem,
    signature_problem,
    signed_message,
)

KMS_ARN = re.compile(r"^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)/[A-Za-z0-9/_+=.@-]+$")
ALGORITHM_OF_SPEC = {"ECC_NIST_P256": ECDSA_SHA_256, "RSA_2048": RSA_PKCS1, "RSA_3072": RSA_PKCS1,
                     "RSA_4096": RSA_PKCS1}
PERMISSIONS = "docs/permissions.md, section \"Signing the snapshot\""


def parse_key_arn(arn: str, flag: str) -> tuple[str, str]:
    """(region, account) of a KMS key or alias ARN; a SigningKeyError naming `flag` otherwise."""
    match = KMS_ARN.match(arn)
    if not match:
        raise SigningKeyError(f"{flag} {arn!r}: not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or "
                              "…:alias/NAME)")
    return match.group(2), match.group(3)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _der_to_pem(der: bytes) -> str:
    from cryptography.hazmat.primitives import serialization

    return public_key_pem(serialization.load_der_public_key(der))


class KmsSigner:
    key_source = "kms"

    def __init__(self, key_arn: str, profile: str | None = None) -> None:
        self.flag = f"--sign-with kms:{key_arn}"
        region, account = parse_key_arn(key_arn, "--sign-with kms:")
        self.key_arn = key_arn
        self.ctx = AwsContext(AwsSettings(profile=profile, region=region), allowlist=signing(key_arn))
        self._region, self._account = region, account
        self._client: Any = None
        self.public_key = ""
        self.key_id = key_arn
        self.algorithm = ""
        self.describe = f"KMS key {key_arn}"

    def _kms(self) -> Any:
        if self._client is None:
            self._client = self.ctx.client("kms", region=self._region, account_id=self._account)
        return self._client

    def prepare(self) -> None:
        """GetPublicKey before collection: a key that cannot sign is an error now, not after the wait."""
        try:
            answer = self._kms().get_public_key(KeyId=self.key_arn)
        except (ClientError, BotoCoreError) as exc:
            raise SigningKeyError(f"{self.flag}: kms:GetPublicKey failed ({error_text(exc)}); the collector "
                                  f"needs kms:GetPublicKey and kms:Sign on the key ({PERMISSIONS})") from exc
        usage = answer.get("KeyUsage")
        spec = str(answer.get("KeySpec") or answer.get("CustomerMasterKeySpec"))
        if usage != "SIGN_VERIFY":
            raise SigningKeyError(f"{self.flag}: the key's usage is {usage}, not SIGN_VERIFY; create an "
                                  "asymmetric signing key (KeySpec ECC_NIST_P256, KeyUsage SIGN_VERIFY)")
        if spec not in ALGORITHM_OF_SPEC:
            raise SigningKeyError(f"{self.flag}: key spec {spec} cannot sign a SHA-256 digest here; use "
                                  f"{', '.join(ALGORITHM_OF_SPEC)}")
        self.algorithm = ALGORITHM_OF_SPEC[spec]
        self.key_id = str(answer.get("KeyId") or self.key_arn)
        self.public_key = _der_to_pem(answer["PublicKey"])

    def sign(self, snapshot_digest: str) -> Signature:
        if not self.public_key:
            self.prepare()
        try:
            answer = self._kms().sign(KeyId=self.key_arn, Message=signed_message(snapshot_digest),
                                      MessageType="DIGEST", SigningAlgorithm=self.algorithm)
        except (ClientError, BotoCoreError) as exc:
            raise SigningKeyError(f"{self.flag}: kms:Sign failed ({error_text(exc)}); the collector needs "
                                  f"kms:Sign on the key ({PERMISSIONS})") from exc
        signature = Signature(snapshot_digest=snapshot_digest, algorithm=self.algorithm,
                              key_id=str(answer.get("KeyId") or self.key_id), key_source=self.key_source,
                              public_key=self.public_key, signature=bytes(answer["Signature"]),
                              signed_at=_now())
        # KMS's answer is checked against the public key it gave: a record that would not verify offline
        # is never written.
        problem = signature_problem(signature, self.public_key)
        if problem:
            raise SigningKeyError(f"{self.flag}: KMS's signature does not verify with the key's public key: "
                                  f"{problem}")
        return signature


def kms_verify(key_arn: str, signature: Signature, profile: str | None = None) -> str | None:
    """kms:Verify of the signature over its snapshot digest with `key_arn`: None when KMS says valid,
    else why not. Raises SigningKeyError when KMS cannot be asked (a usage or access problem)."""
    region, account = parse_key_arn(key_arn, "--kms-key")
    ctx = AwsContext(AwsSettings(profile=profile, region=region), allowlist=verifying(key_arn))
    kms = ctx.client("kms", region=region, account_id=account)
    if signature.algorithm not in ALGORITHM_OF_SPEC.values():
        return f"the pack was signed with {signature.algorithm}, which is not a KMS signing algorithm"
    try:
        answer = kms.verify(KeyId=key_arn, Message=signed_message(signature.snapshot_digest),
                            MessageType="DIGEST", Signature=signature.signature,
                            SigningAlgorithm=signature.algorithm)
    except ClientError as exc:
        if error_code(exc) in ("KMSInvalidSignatureException", "ValidationException"):
            return f"kms:Verify with {key_arn} refused the signature ({error_text(exc)})"
        raise SigningKeyError(f"--kms-key {key_arn}: kms:Verify failed ({error_text(exc)}); the verifier "
                              f"needs kms:Verify on the key ({PERMISSIONS})") from exc
    except BotoCoreError as exc:
        raise SigningKeyError(f"--kms-key {key_arn}: kms:Verify failed ({exc})") from exc
    if answer.get("SignatureValid") is not True:
        return f"kms:Verify with {key_arn} says the signature is not valid"
    return None
