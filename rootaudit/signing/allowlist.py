"""The KMS calls rootaudit makes to sign and to check a signature: each its own narrow allowlist.

kms:Sign is not a read of the audited organization, so collection's read-only allowlist
(rootaudit/readonly.py) does not name it; the signer's clients carry SIGNING instead, limited to the one
key given, MessageType DIGEST and the signing algorithms rootaudit uses. `verify --kms-key` carries
VERIFYING: kms:Verify and kms:GetPublicKey on the key given, nothing else. The permissions they need are
in docs/permissions.md ("Signing the snapshot") and policies/signer-policy.json.
"""

from __future__ import annotations

from rootaudit.allowlist import Allowlist, OperationRefused, equal_to, only
from rootaudit.signing.record import ECDSA_SHA_256, RSA_PKCS1, RSA_PSS

KMS_ALGORITHMS = (ECDSA_SHA_256, RSA_PKCS1, RSA_PSS)
DEFINED_IN = "rootaudit/signing/allowlist.py"


class SigningRefused(OperationRefused):
    """A KMS call outside the signing or verifying allowlist; nothing was sent."""


def signing(key_arn: str) -> Allowlist:
    """What the signer may call: the public key and Sign, on `key_arn` only, over a digest."""
    return Allowlist("signing", DEFINED_IN, {
        ("kms", "GetPublicKey"): (equal_to("KeyId", key_arn), only("KeyId")),
        ("kms", "Sign"): (equal_to("KeyId", key_arn), equal_to("MessageType", "DIGEST"),
                          equal_to("SigningAlgorithm", *KMS_ALGORITHMS),
                          only("KeyId", "Message", "MessageType", "SigningAlgorithm")),
    }, SigningRefused)


def verifying(key_arn: str) -> Allowlist:
    """What `verify --kms-key` may call: Verify and the public key, on `key_arn` only."""
    return Allowlist("verifying", DEFINED_IN, {
        ("kms", "GetPublicKey"): (equal_to("KeyId", key_arn), only("KeyId")),
        ("kms", "Verify"): (equal_to("KeyId", key_arn), equal_to("MessageType", "DIGEST"),
                            equal_to("SigningAlgorithm", *KMS_ALGORITHMS),
                            only("KeyId", "Message", "MessageType", "Signature", "SigningAlgorithm")),
    }, SigningRefused)


# Every operation either allowlist may call, for docs/permissions.md and policies/ to be checked against.
OPERATIONS = frozenset(signing("k").operations | verifying("k").operations)
