"""Signing a snapshot at collection, and checking that signature later.

`collect --sign-with` signs the snapshot's digest as soon as the snapshot is written, with an AWS KMS
asymmetric key (`kms.py`) or a local Ed25519 key file (`keyfile.py`); the signature goes into a file
beside snapshot.json (`record.py`: it cannot be inside what it signs). `report` never signs: it carries
that file into the pack, so a pack rendered from an edited snapshot no longer verifies. The KMS calls are
not read-only reads of the audited organization: they go through their own narrow allowlists
(`allowlist.py`), never the collection's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rootaudit.signing.keyfile import SigningKeyError
from rootaudit.signing.record import Signature
from rootaudit.snapshot import Snapshot, digest_files, is_snapshot_file, write_signature

KMS_PREFIX = "kms:"


class Signer(Protocol):
    key_id: str
    describe: str

    def sign(self, snapshot_digest: str) -> Signature: ...


def signer_for(spec: str, profile: str | None = None) -> Signer:
    """The signer `--sign-with SPEC` names (kms:ARN, or a key file), ready to sign: a key that cannot
    sign is a SigningKeyError now, before collection starts."""
    if spec.startswith(KMS_PREFIX):
        from rootaudit.signing.kms import KmsSigner

        kms = KmsSigner(spec[len(KMS_PREFIX):], profile=profile)
        kms.prepare()
        return kms
    if spec.startswith("arn:"):
        raise SigningKeyError(f"--sign-with {spec}: write a KMS key as kms:{spec}")
    from rootaudit.signing.keyfile import KeyFileSigner

    return KeyFileSigner(Path(spec))


def sign_snapshot_folder(folder: Path, snapshot: Snapshot, signer: Signer) -> Signature:
    """Sign the snapshot as written in `folder` (its files' digest, read back from disk), write the
    record beside snapshot.json and keep its bytes on `snapshot`, so `run` carries it into the pack."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
             if p.is_file() and is_snapshot_file(p.relative_to(folder).as_posix())}
    digest = digest_files(files)
    if digest != snapshot.digest():
        raise SigningKeyError(f"{folder}: the snapshot on disk is not the one collected; not signed")
    signature = signer.sign(digest)
    data = signature.to_bytes()
    write_signature(folder, data)
    snapshot.signature = data
    return signature
