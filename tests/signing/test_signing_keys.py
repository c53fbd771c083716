"""Signing a snapshot digest: the record, a local Ed25519 key file, KMS (moto's KMS with the simulation's
DIGEST extension) and the signer's own allowlist."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from rootaudit.signing import signer_for
from rootaudit.signing.allowlist import SigningRefused
from rootaudit.signing.keyfile import KeyFileSigner, SigningKeyError
from rootaudit.signing.kms import KmsSigner, kms_verify
from rootaudit.signing.record import Signature, SignatureFileError, signature_problem

DIGEST = hashlib.sha256(b"a snapshot").hexdigest()
OTHER = hashlib.sha256(b"another snapshot").hexdigest()


def write_key(path: Path, key: Any, password: bytes | None = None) -> Path:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       encryption))
    return path


@pytest.fixture()
def ed_key(tmp_path: Path) -> Path:
    return write_key(tmp_path / "key.pem", ed25519.Ed25519PrivateKey.generate())


def test_a_key_file_signs_the_digest_and_the_record_round_trips(ed_key: Path) -> None:
    signer = KeyFileSigner(ed_key)
    signature = signer.sign(DIGEST)
    assert signature.algorithm == "ED25519" and signature.key_source == "file"
    assert signature.key_id.startswith("ed25519:sha256:") and signature.snapshot_digest == DIGEST
    assert signature_problem(signature, signature.public_key) is None
    again = Signature.from_bytes(signature.to_bytes())
    assert again == signature
    # the same signature over another digest, or checked with another key, does not verify
    forged = Signature(**{**signature.__dict__, "snapshot_digest": OTHER})
    assert "does not verify" in (signature_problem(forged, signature.public_key) or "")
    other_key = KeyFileSigner(write_key(ed_key.parent / "other.pem", ed25519.Ed25519PrivateKey.generate()))
    assert "does not verify" in (signature_problem(signature, other_key.public_key) or "")
    assert b"PRIVATE" not in signature.to_bytes()


def test_openssl_genpkey_keys_are_accepted_and_openssl_checks_the_signature(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    key = tmp_path / "key.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "ed25519", "-out", str(key)], check=True)
    signature = KeyFileSigner(key).sign(DIGEST)
    # what docs/evidence-integrity.md tells an auditor to run
    (tmp_path / "pub.pem").write_text(signature.public_key)
    (tmp_path / "digest.bin").write_bytes(bytes.fromhex(DIGEST))
    (tmp_path / "sig.bin").write_bytes(signature.signature)
    done = subprocess.run([openssl, "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
                           "-in", "digest.bin", "-sigfile", "sig.bin"], cwd=tmp_path, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Signature Verified Successfully" in done.stdout


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: write_key(p, rsa.generate_private_key(public_exponent=65537, key_size=2048)),
     "must be Ed25519"),
    (lambda p: write_key(p, ec.generate_private_key(ec.SECP256R1())), "must be Ed25519"),
    (lambda p: write_key(p, ed25519.Ed25519PrivateKey.generate(), b"secret"), "encrypted"),
    (lambda p: p.write_text("not a key\n") and p, "not a PEM private key"),
    (lambda p: p.parent / "missing.pem", "cannot read"),
])
def test_a_key_file_that_cannot_sign_is_one_clear_error_naming_it(tmp_path: Path, make: Any,
                                                                  expected: str) -> None:
    path = make(tmp_path / "key.pem")
    with pytest.raises(SigningKeyError, match=expected) as caught:
        KeyFileSigner(path)
    assert str(path) in str(caught.value)


def test_records_that_cannot_be_read_say_why() -> None:
    with pytest.raises(SignatureFileError, match="not JSON"):
        Signature.from_bytes(b"{")
    with pytest.raises(SignatureFileError, match=r"missing or empty: .*signature"):
        Signature.from_bytes(b'{"format": 1, "snapshot_digest": "ab"}')


# ---- KMS ----------------------------------------------------------------------------------------

@pytest.fixture()
def kms() -> Iterator[Any]:
    from moto import mock_aws

    from rootaudit.simulate.extensions import install

    install()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "eu-west-1")):
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield boto3.client("kms", region_name="eu-west-1")


def make_key(kms: Any, spec: str, usage: str = "SIGN_VERIFY") -> str:
    return str(kms.create_key(KeyUsage=usage, KeySpec=spec)["KeyMetadata"]["Arn"])


@pytest.mark.parametrize(("spec", "algorithm"), [("ECC_NIST_P256", "ECDSA_SHA_256"),
                                                 ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256")])
def test_kms_signs_the_digest_and_the_signature_verifies_offline_and_with_kms(kms: Any, spec: str,
                                                                              algorithm: str) -> None:
    arn = make_key(kms, spec)
    signer = signer_for(f"kms:{arn}")
    signature = signer.sign(DIGEST)
    assert (signature.algorithm, signature.key_id, signature.key_source) == (algorithm, arn, "kms")
    assert signature_problem(signature, signature.public_key) is None
    assert kms_verify(arn, signature) is None
    forged = Signature(**{**signature.__dict__, "snapshot_digest": OTHER})
    assert "KMSInvalidSignatureException" in (kms_verify(arn, forged) or "")
    assert signature_problem(forged, signature.public_key) is not None
    # the signer's calls went through its own allowlist, with the digest as a DIGEST message
    assert isinstance(signer, KmsSigner)
    calls = [(r["operation"], r["outcome"]) for r in signer.ctx.call_log.rows()]
    assert calls == [("GetPublicKey", "ok"), ("Sign", "ok")]


def test_a_kms_signature_over_a_digest_is_over_the_digest_itself(kms: Any) -> None:
    """MessageType DIGEST: the 32 bytes are the hash (moto alone hashes them again)."""
    from cryptography.hazmat.primitives import hashes

    arn = make_key(kms, "ECC_NIST_P256")
    der = kms.get_public_key(KeyId=arn)["PublicKey"]
    public = serialization.load_der_public_key(der)
    raw = kms.sign(KeyId=arn, Message=b"the whole message", MessageType="RAW",
                   SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    public.verify(raw, b"the whole message", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(kms.exceptions.ClientError, match="invalid length"):
        kms.sign(KeyId=arn, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")


@pytest.mark.parametrize(("spec", "usage", "expected"), [
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "usage is ENCRYPT_DECRYPT"),
    ("ECC_NIST_P384", "SIGN_VERIFY", "ECC_NIST_P384 cannot sign a SHA-256 digest"),
])
def test_a_kms_key_that_cannot_sign_the_digest_is_refused_before_collection(kms: Any, spec: str, usage: str,
                                                                            expected: str) -> None:
    arn = make_key(kms, spec, usage)
    with pytest.raises(SigningKeyError, match=expected):
        signer_for(f"kms:{arn}")


def test_unknown_keys_and_malformed_arns_are_clear_errors(kms: Any) -> None:
    with pytest.raises(SigningKeyError, match=r"kms:GetPublicKey failed .*docs/permissions\.md"):
        signer_for("kms:arn:aws:kms:eu-west-1:123456789012:key/0f4b2e0e-0000-4000-8000-000000000000")
    with pytest.raises(SigningKeyError, match="not a KMS key ARN"):
        signer_for("kms:arn:aws:s3:::bucket")
    with pytest.raises(SigningKeyError, match="write a KMS key as kms:"):
        signer_for("arn:aws:kms:eu-west-1:123456789012:key/x")


def test_the_signers_allowlist_refuses_another_key_or_a_raw_message(kms: Any) -> None:
    arn, other = make_key(kms, "ECC_NIST_P256"), make_key(kms, "ECC_NIST_P256")
    signer = KmsSigner(arn)
    signer.prepare()
    client = signer._kms()
    with pytest.raises(SigningRefused, match="KeyId must be"):
        client.sign(KeyId=other, Message=bytes(32), MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    with pytest.raises(SigningRefused, match="MessageType must be DIGEST"):
        client.sign(KeyId=arn, Message=b"anything", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    with pytest.raises(SigningRefused, match="not in the signing allowlist"):
        client.list_keys()
    outcomes = [(r["operation"], r["outcome"]) for r in signer.ctx.call_log.rows()]
    assert outcomes == [("GetPublicKey", "ok"), ("Sign", "refused"), ("Sign", "refused"),
                        ("ListKeys", "refused")]
