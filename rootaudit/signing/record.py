"""The signature record: what was signed, by which key, when; read, written and checked offline.

What is signed is the 32 bytes of the snapshot's digest (`Snapshot.digest()`, SHA-256 over snapshot.json
and data/), nothing else: with KMS as MessageType DIGEST, with an Ed25519 key as the message itself. So
anyone can check it with openssl from the pack's files (docs/evidence-integrity.md).

The record lives in `snapshot.signature.json` beside snapshot.json (in the snapshot folder and the pack):
    {"format": 1, "snapshot_digest": "<hex>", "algorithm": "ECDSA_SHA_256", "key_id": "arn:aws:kms:…",
     "key_source": "kms", "public_key": "-----BEGIN PUBLIC KEY-----…", "signature": "<base64>",
     "signed_at": "2026-10-02T08:15:00Z"}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from rootaudit.snapshot import SIGNATURE_FILE

FORMAT = 1
ED25519 = "ED25519"
ECDSA_SHA_256 = "ECDSA_SHA_256"
RSA_PKCS1 = "RSASSA_PKCS1_V1_5_SHA_256"
RSA_PSS = "RSASSA_PSS_SHA_256"
ALGORITHMS = (ED25519, ECDSA_SHA_256, RSA_PKCS1, RSA_PSS)
KEY_SOURCES = ("kms", "file")


class SignatureFileError(ValueError):
    """A signature record that cannot be read: names the file and what is wrong."""


@dataclass(frozen=True)
class Signature:
    snapshot_digest: str
    algorithm: str
    key_id: str
    key_source: str  # kms | file
    public_key: str  # PEM, SubjectPublicKeyInfo
    signature: bytes
    signed_at: str

    def to_bytes(self) -> bytes:
        record = {"format": FORMAT, "snapshot_digest": self.snapshot_digest, "algorithm": self.algorithm,
                  "key_id": self.key_id, "key_source": self.key_source, "public_key": self.public_key,
                  "signature": base64.b64encode(self.signature).decode("ascii"), "signed_at": self.signed_at}
        return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        try:
            record: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SignatureFileError(f"{SIGNATURE_FILE}: not JSON ({exc})") from exc
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise SignatureFileError(f"{SIGNATURE_FILE}: not a signature record of format {FORMAT}")
        fields = ("snapshot_digest", "algorithm", "key_id", "key_source", "public_key", "signature",
                  "signed_at")
        missing = [f for f in fields if not isinstance(record.get(f), str) or not record[f]]
        if missing:
            raise SignatureFileError(f"{SIGNATURE_FILE}: missing or empty: {', '.join(missing)}")
        if record["algorithm"] not in ALGORITHMS:
            raise SignatureFileError(f"{SIGNATURE_FILE}: unknown algorithm {record['algorithm']!r}")
        try:
            signature = base64.b64decode(record["signature"], validate=True)
        except binascii.Error as exc:
            raise SignatureFileError(f"{SIGNATURE_FILE}: the signature is not base64 ({exc})") from exc
        return cls(snapshot_digest=record["snapshot_digest"], algorithm=record["algorithm"],
                   key_id=record["key_id"], key_source=record["key_source"], public_key=record["public_key"],
                   signature=signature, signed_at=record["signed_at"])

    def summary(self) -> dict[str, str]:
        """What the manifest, the cover and the workbook show of it (not the signature bytes)."""
        try:
            fingerprint = public_key_fingerprint(self.public_key)
        except SignatureFileError as exc:
            fingerprint = f"unreadable: {exc}"
        return {"file": SIGNATURE_FILE, "algorithm": self.algorithm, "key_id": self.key_id,
                "key_source": self.key_source, "signed_at": self.signed_at,
                "snapshot_digest": self.snapshot_digest, "public_key_sha256": fingerprint}


def signed_message(snapshot_digest: str) -> bytes:
    """The bytes that are signed: the digest itself (32 bytes)."""
    try:
        message = bytes.fromhex(snapshot_digest)
    except ValueError as exc:
        raise SignatureFileError(f"the snapshot digest {snapshot_digest!r} is not hexadecimal") from exc
    if len(message) != 32:
        raise SignatureFileError(f"the snapshot digest {snapshot_digest!r} is not a SHA-256")
    return message


def load_public_key(pem: str | bytes) -> Any:
    """A PEM public key (SubjectPublicKeyInfo), or a SignatureFileError saying why not."""
    data = pem.encode("ascii", errors="replace") if isinstance(pem, str) else pem
    try:
        return serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignatureFileError(f"not a PEM public key ({exc})") from exc


def public_key_pem(key: Any) -> str:
    return str(key.public_bytes(serialization.Encoding.PEM,
                                serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii"))


def public_key_fingerprint(pem: str | bytes) -> str:
    """SHA-256 of the key's DER SubjectPublicKeyInfo, as `openssl pkey -pubin -outform DER | sha256sum`."""
    key = load_public_key(pem)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def same_public_key(a: str | bytes, b: str | bytes) -> bool:
    return public_key_fingerprint(a) == public_key_fingerprint(b)


def signature_problem(signature: Signature, public_key: str | bytes) -> str | None:
    """Why `signature` does not verify with `public_key` over its snapshot digest, or None when it does."""
    try:
        key = load_public_key(public_key)
        message = signed_message(signature.snapshot_digest)
    except SignatureFileError as exc:
        return str(exc)
    algorithm, sig = signature.algorithm, signature.signature
    try:
        if algorithm == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, message)
        elif algorithm == ECDSA_SHA_256 and isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name != "secp256r1":
                return f"{algorithm} needs a P-256 key, not {key.curve.name}"
            key.verify(sig, message, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif algorithm == RSA_PKCS1 and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, message, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        elif algorithm == RSA_PSS and isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            key.verify(sig, message, pss, Prehashed(hashes.SHA256()))
        else:
            return f"the public key is not a key for {algorithm}"
    except InvalidSignature:
        return "the signature does not verify with this public key over the snapshot digest"
    return None


def signature_summary(data: bytes | None, snapshot_digest: str) -> dict[str, Any] | None:
    """What the pack shows of a snapshot's signature record (None: unsigned). `matches` says whether it
    signs this snapshot's digest; an unreadable record is shown as such, never dropped."""
    if data is None:
        return None
    try:
        signature = Signature.from_bytes(data)
        summary: dict[str, Any] = signature.summary()
    except SignatureFileError as exc:
        return {"file": SIGNATURE_FILE, "unreadable": str(exc), "matches": False}
    summary["matches"] = signature.snapshot_digest == snapshot_digest
    return summary
