"""Signing with a local Ed25519 private key, for organizations without KMS.

The key is a PEM file as `openssl genpkey -algorithm ed25519 -out key.pem` writes it (PKCS#8,
unencrypted). It is read into memory when collection starts, so a bad file is reported before the wait,
and is never written anywhere: only its public key and signature go into the snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from rootaudit.signing.record import (
    ED25519,
    Signature,
    public_key_fingerprint,
    public_key_pem,
    signed_message,
)

GENERATE = "openssl genpkey -algorithm ed25519 -out key.pem"


class SigningKeyError(ValueError):
    """The key given with --sign-with cannot be used; the message names the file."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KeyFileSigner:
    key_source = "file"

    def __init__(self, path: Path) -> None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"--sign-with {path}: cannot read the key file ({exc.strerror})") from exc
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except TypeError as exc:  # encrypted with a passphrase
            raise SigningKeyError(f"--sign-with {path}: the key is encrypted; give an unencrypted Ed25519 "
                                  f"key ({GENERATE}) kept where only the collector can read it") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SigningKeyError(f"--sign-with {path}: not a PEM private key; make one with "
                                  f"`{GENERATE}`") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SigningKeyError(f"--sign-with {path}: a {type(key).__name__.removeprefix('_')} key; a key "
                                  f"file must be Ed25519 (`{GENERATE}`); for RSA or ECC keys use KMS "
                                  "(--sign-with kms:arn:aws:kms:…)")
        self._key = key
        self.public_key = public_key_pem(key.public_key())
        # The key's own fingerprint names it: a file name says nothing once the pack has left the building.
        self.key_id = f"ed25519:sha256:{public_key_fingerprint(self.public_key)}"
        self.describe = f"key file {path} ({self.key_id})"

    def sign(self, snapshot_digest: str) -> Signature:
        signature = self._key.sign(signed_message(snapshot_digest))
        return Signature(snapshot_digest=snapshot_digest, algorithm=ED25519, key_id=self.key_id,
                         key_source=self.key_source, public_key=self.public_key, signature=signature,
                         signed_at=_now())
