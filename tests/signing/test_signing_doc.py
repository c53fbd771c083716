"""docs/evidence-integrity.md's commands for checking a pack without rootaudit work as written: the
digest computed with sha256sum, the signature checked with openssl and with the AWS CLI (against the
simulated organization's KMS)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rootaudit.signing.keyfile import KeyFileSigner
from rootaudit.signing.kms import KmsSigner
from tests.signing.conftest import SignedRun

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-integrity.md"
TOOLS = ("bash", "sha256sum", "openssl", "jq", "xxd", "base64")
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason=f"needs {', '.join(TOOLS)}")


def blocks() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [textwrap.dedent(b) for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def block_with(marker: str) -> str:
    [block] = [b for b in blocks() if marker in b]
    return block


def run(script: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True,
                          check=False, env=env)


def signature_lines(algorithm_comment: str) -> str:
    """The extraction lines and the openssl line under `algorithm_comment`."""
    lines = block_with("jq -r .signature").splitlines()
    extract = [line for line in lines if line.startswith("jq ") and ">" in line]
    at = next(i for i, line in enumerate(lines) if line.startswith(f"# {algorithm_comment}"))
    return "\n".join([*extract, lines[at + 1]])


def test_the_digest_by_sha256sum_is_the_snapshot_digest(signed: SignedRun) -> None:
    done = run(block_with("LC_ALL=C sort"), signed.pack)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((signed.pack / "manifest.json").read_text())
    assert done.stdout.split()[0] == manifest["snapshot_digest"]


def test_openssl_checks_a_kms_ecdsa_signature(signed: SignedRun, pack_copy: Path) -> None:
    shutil.copy(signed.public_key, pack_copy / "signer.pub.pem")
    done = run(signature_lines("ECDSA_SHA_256"), pack_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Signature Verified Successfully" in done.stdout
    # and not over another digest
    record = json.loads((pack_copy / "snapshot.signature.json").read_text())
    record["snapshot_digest"] = "00" + record["snapshot_digest"][2:]
    (pack_copy / "snapshot.signature.json").write_text(json.dumps(record))
    assert run(signature_lines("ECDSA_SHA_256"), pack_copy).returncode != 0


def test_openssl_checks_rsa_and_ed25519_signatures(signed: SignedRun, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    manifest = json.loads((signed.pack / "manifest.json").read_text())
    digest = manifest["snapshot_digest"]
    key = tmp_path / "key.pem"
    key.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with signed.sim.environ():
        import boto3

        kms = boto3.client("kms", region_name=signed.sim.scenario.region)
        arn = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]["Arn"]
        rsa = KmsSigner(arn)
        rsa.prepare()
        rsa_signature = rsa.sign(digest)
    for name, signature in (("ED25519", KeyFileSigner(key).sign(digest)),
                            ("RSASSA_PKCS1_V1_5_SHA_256", rsa_signature)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "snapshot.signature.json").write_bytes(signature.to_bytes())
        (folder / "signer.pub.pem").write_text(signature.public_key)
        done = run(signature_lines(name), folder)
        assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, (
            name, done.stdout + done.stderr)


def test_the_aws_cli_checks_a_kms_signature(signed: SignedRun, pack_copy: Path) -> None:
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        pytest.skip("the AWS CLI is not installed")
    script = block_with("aws kms verify").replace("aws kms", f"{aws} kms")
    extract = "\n".join(line for line in block_with("jq -r .signature").splitlines()
                        if line.startswith("jq ") and ">" in line)
    with signed.sim.environ():
        env = {**os.environ, "KEY_ARN": signed.key_arn}
        done = run(f"{extract}\n{script}", pack_copy, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout[done.stdout.index("{"):])["SignatureValid"] is True
    assert (pack_copy / "signer.pub.pem").read_bytes() == signed.public_key.read_bytes()
