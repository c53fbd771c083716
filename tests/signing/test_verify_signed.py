"""verify against the signer: a signed pack verifies only with the signer's key, an edited and re-reported
snapshot fails at the signature step (and, unsigned, at the re-derivation step), an unsigned pack is
reported as unsigned with its own exit status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rootaudit.snapshot import SIGNATURE_FILE
from tests.signing.conftest import SignedRun, report_args
from tests.support.packs import reseal


def verify(signed: SignedRun, capsys: pytest.CaptureFixture[str], pack: Path, *extra: str) -> dict[str, Any]:
    from rootaudit.cli import main

    capsys.readouterr()
    with signed.sim.environ():
        status = main(["verify", str(pack), "--json", *extra])
    document = json.loads(capsys.readouterr().out)
    assert document["exit_status"] == status
    return document


def dirty_account(snapshot: Path) -> str:
    """An assessed member whose root holds an active access key."""
    lines = (snapshot / "data" / "root_credentials.csv").read_text().splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row["access_keys_active"] not in ("", "0") and row["method"] == "assume_root_audit":
            return row["account_id"]
    raise AssertionError("the scenario has no account with an active root key")


def forge(snapshot: Path, target: Path, *, keep_signature: bool) -> str:
    """The snapshot with one account's active root key edited away (its raw responses left as they are),
    as in the issue: the account now reads "clean"."""
    shutil.copytree(snapshot, target)
    account = dirty_account(target)
    for name in ("root_credentials", "root_credential_items"):
        path = target / "data" / f"{name}.csv"
        lines = path.read_text().splitlines(keepends=True)
        header = lines[0].rstrip("\n").split(",")
        out = [lines[0]]
        for line in lines[1:]:
            cells = line.rstrip("\n").split(",")
            if cells[0] == account and name == "root_credentials":
                cells[header.index("access_keys_active")] = "0"
                cells[header.index("access_key_last_used")] = ""
            elif cells[0] == account and cells[header.index("kind")] == "access_key":
                continue
            out.append(",".join(cells) + "\n")
        path.write_text("".join(out))
    if not keep_signature:
        (target / SIGNATURE_FILE).unlink()
    return account


def report(snapshot: Path, out: Path) -> Path:
    from rootaudit.cli import main

    assert main(report_args(snapshot, out)) in (0, 1, 2)
    [pack] = [p for p in out.iterdir() if p.is_dir()]
    return pack


def test_the_signed_pack_verifies_with_the_signers_key(signed: SignedRun,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--kms-key", signed.key_arn], ["--public-key", str(signed.public_key)]):
        for pack in (signed.pack, signed.zip):
            doc = verify(signed, capsys, pack, *extra)
            assert (doc["exit_status"], doc["details"]["status"]) == (0, "verified"), doc["details"]
            assert signed.key_arn in doc["details"]["signature_detail"]


def test_without_a_key_from_outside_the_signature_is_only_self_asserted(
        signed: SignedRun, capsys: pytest.CaptureFixture[str]) -> None:
    doc = verify(signed, capsys, signed.zip)
    assert (doc["exit_status"], doc["details"]["status"]) == (5, "self-asserted")
    assert "verified" not in doc["details"]["signature_detail"].replace("verifies", "")


def test_another_key_fails_at_the_signature_step(signed: SignedRun, capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = tmp_path / "other.pem"
    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    doc = verify(signed, capsys, signed.pack, "--public-key", str(other))
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "signature")


def test_an_edited_and_re_reported_snapshot_fails_at_the_signature_step(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    account = forge(signed.snapshot, tmp_path / "snapshot", keep_signature=True)
    pack = report(tmp_path / "snapshot", tmp_path / "out")
    for extra in ([], ["--kms-key", signed.key_arn], ["--public-key", str(signed.public_key)]):
        doc = verify(signed, capsys, pack, *extra)
        assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "signature"), doc["details"]
        problems = doc["details"]["problems"]
        assert any(SIGNATURE_FILE in p and "changed after collection" in p for p in problems), problems
        # and the raw responses contradict the edited row
        assert any("[derivation]" in p and account in p and "access_keys_active is 0" in p for p in problems)


def test_unsigned_the_same_forgery_fails_at_the_re_derivation_step(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    account = forge(signed.snapshot, tmp_path / "snapshot", keep_signature=False)
    pack = report(tmp_path / "snapshot", tmp_path / "out")
    doc = verify(signed, capsys, pack)
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "derivation"), doc["details"]
    [row, item] = [p for p in doc["details"]["problems"] if account in p]
    assert "data/root_credentials.csv" in row and "access_keys_active is 0, the responses give 1" in row
    assert "data/root_credential_items.csv" in item and "access_key" in item


def test_an_honest_unsigned_pack_is_reported_as_unsigned(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shutil.copytree(signed.snapshot, tmp_path / "snapshot")
    (tmp_path / "snapshot" / SIGNATURE_FILE).unlink()
    pack = report(tmp_path / "snapshot", tmp_path / "out")
    for extra in ([], ["--kms-key", signed.key_arn]):
        doc = verify(signed, capsys, pack, *extra)
        assert (doc["exit_status"], doc["details"]["status"]) == (4, "unsigned"), doc["details"]
        assert not doc["details"]["problems"]


def test_a_recomputed_manifest_does_not_make_an_edited_signed_pack_verify(
        signed: SignedRun, capsys: pytest.CaptureFixture[str], pack_copy: Path) -> None:
    csv = pack_copy / "data" / "root_credentials.csv"
    csv.write_text(csv.read_text().replace(",1,", ",0,", 1))
    reseal(pack_copy, snapshot_digest=False)  # the hashes only: the old digest stays in the manifest
    doc = verify(signed, capsys, pack_copy, "--kms-key", signed.key_arn)
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "manifest"), doc["details"]
    reseal(pack_copy)  # every hash and the snapshot digest recomputed
    doc = verify(signed, capsys, pack_copy, "--kms-key", signed.key_arn)
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "signature"), doc["details"]


def test_a_removed_signature_is_named(signed: SignedRun, capsys: pytest.CaptureFixture[str],
                                      pack_copy: Path) -> None:
    (pack_copy / SIGNATURE_FILE).unlink()
    reseal(pack_copy)
    doc = verify(signed, capsys, pack_copy, "--kms-key", signed.key_arn)
    assert (doc["exit_status"], doc["details"]["failed_step"]) == (1, "signature")
    assert any(SIGNATURE_FILE in p and "manifest.json records a signature" in p
               for p in doc["details"]["problems"])
