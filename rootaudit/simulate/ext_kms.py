"""KMS extensions: Sign and Verify with MessageType DIGEST, and Verify's refusal of a bad signature.

moto 5.2.5 reads MessageType and ignores it: a DIGEST message is hashed again, so its signature is over
SHA-256(digest) and no verifier outside moto accepts it; and Verify answers `SignatureValid: false` where
AWS fails with KMSInvalidSignatureException ("If the signature is not verified, the Verify operation
fails", KMS API Reference, Verify). With DIGEST the message is the hash itself, and its length must be
the signing algorithm's hash length (ValidationException otherwise, as AWS documents for Sign/Verify).
RSASSA-PSS signs with a salt as long as the hash, as KMS does.
"""

from __future__ import annotations

import base64
import json
from typing import Any

HASH_LENGTH = {"ECDSA_SHA_256": 32, "RSASSA_PKCS1_V1_5_SHA_256": 32, "RSASSA_PSS_SHA_256": 32,
               "ECDSA_SHA_384": 48, "RSASSA_PKCS1_V1_5_SHA_384": 48, "RSASSA_PSS_SHA_384": 48,
               "ECDSA_SHA_512": 64, "RSASSA_PKCS1_V1_5_SHA_512": 64, "RSASSA_PSS_SHA_512": 64}

_installed = False


def _hash(algorithm: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {32: hashes.SHA256, 48: hashes.SHA384, 64: hashes.SHA512}[HASH_LENGTH[algorithm]]()


def _scheme(algorithm: str, digest: bool, signing: bool) -> tuple[Any, ...]:
    """The cryptography arguments after the message for `algorithm`: padding (RSA) and hash."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    hashed = Prehashed(_hash(algorithm)) if digest else _hash(algorithm)
    if algorithm.startswith("ECDSA"):
        return (ec.ECDSA(hashed),)
    if algorithm.startswith("RSASSA_PSS"):
        salt = padding.PSS.DIGEST_LENGTH if signing else padding.PSS.AUTO
        return (padding.PSS(mgf=padding.MGF1(_hash(algorithm)), salt_length=salt), hashed)
    return (padding.PKCS1v15(), hashed)


def _key_for(response: Any, key_id: str, algorithm: str, message: bytes, digest: bool) -> Any:
    from moto.kms.exceptions import ValidationException

    response._validate_key_id(key_id)
    key = response.kms_backend.describe_key(key_id)
    if key.key_usage != "SIGN_VERIFY":
        raise ValidationException(f"1 validation error detected: Value '{key.id}' at 'KeyId' failed to "
                                  "satisfy constraint: Member must point to a key with usage: 'SIGN_VERIFY'")
    if algorithm not in key.signing_algorithms:
        raise ValidationException(f"1 validation error detected: Value '{algorithm}' at 'SigningAlgorithm' "
                                  f"failed to satisfy constraint: Member must satisfy enum value set: "
                                  f"{key.signing_algorithms}")
    if digest and len(message) != HASH_LENGTH.get(algorithm, -1):
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm}.")
    return key


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.core.exceptions import JsonRESTError
    from moto.kms.responses import KmsResponse

    class InvalidSignature(JsonRESTError):
        code = 400

        def __init__(self) -> None:
            super().__init__("KMSInvalidSignatureException", "")

    def sign(self: Any) -> str:
        key_id, message = self._get_param("KeyId"), self._get_param("Message") or b""
        algorithm = self._get_param("SigningAlgorithm")
        digest = (self._get_param("MessageType") or "RAW") == "DIGEST"
        key = _key_for(self, key_id, algorithm, message, digest)
        signature = key.private_key.private_key.sign(message, *_scheme(algorithm, digest, signing=True))
        return json.dumps({"KeyId": key.arn, "Signature": base64.b64encode(signature).decode("ascii"),
                           "SigningAlgorithm": algorithm})

    def verify(self: Any) -> str:
        from cryptography.exceptions import InvalidSignature as BadSignature

        key_id, message = self._get_param("KeyId"), self._get_param("Message") or b""
        algorithm = self._get_param("SigningAlgorithm")
        digest = (self._get_param("MessageType") or "RAW") == "DIGEST"
        signature = base64.b64decode(self._get_param("Signature") or "")
        key = _key_for(self, key_id, algorithm, message, digest)
        try:
            key.private_key.private_key.public_key().verify(signature, message,
                                                            *_scheme(algorithm, digest, signing=False))
        except BadSignature as exc:
            raise InvalidSignature() from exc
        return json.dumps({"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm})

    cls: Any = KmsResponse
    cls.sign = sign
    cls.verify = verify
    _installed = True
