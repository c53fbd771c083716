"""`collect --sign-with` on the simulated organization: the snapshot is signed as written, `report`
carries the signature into the pack (manifest, cover, workbook) and never signs itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rootaudit.signing.record import Signature, signature_problem
from rootaudit.snapshot import SIGNATURE_FILE, load_snapshot
from tests.signing.conftest import SignedRun, collect_args, report_args


def test_collect_signs_the_snapshot_as_written_with_kms(signed: SignedRun) -> None:
    signature = Signature.from_bytes((signed.snapshot / SIGNATURE_FILE).read_bytes())
    snapshot = load_snapshot(signed.snapshot)
    assert signature.snapshot_digest == snapshot.digest()
    assert (signature.algorithm, signature.key_id, signature.key_source) == (
        "ECDSA_SHA_256", signed.key_arn, "kms")
    assert signature_problem(signature, signed.public_key.read_bytes()) is None
    # the signature is beside the snapshot, not among the files its digest covers
    assert SIGNATURE_FILE not in snapshot.files()


def test_the_pack_carries_the_collections_signature(signed: SignedRun) -> None:
    carried = (signed.pack / SIGNATURE_FILE).read_bytes()
    assert carried == (signed.snapshot / SIGNATURE_FILE).read_bytes()
    manifest = json.loads((signed.pack / "manifest.json").read_text())
    signature = Signature.from_bytes(carried)
    assert manifest["signature"]["key_id"] == signed.key_arn
    assert manifest["signature"]["matches"] is True
    digest = manifest["snapshot_digest"]
    assert manifest["signature"]["snapshot_digest"] == digest == signature.snapshot_digest
    assert SIGNATURE_FILE in {f["path"] for f in manifest["files"]}
    html = (signed.pack / "report.html").read_text()
    assert signed.key_arn in html and "unsigned" not in html.split('id="contents"')[0]


def test_report_never_signs_an_edited_snapshot(signed: SignedRun, tmp_path: Path) -> None:
    from rootaudit.cli import main

    edited = tmp_path / "snapshot"
    shutil.copytree(signed.snapshot, edited)
    csv = edited / "data" / "root_credentials.csv"
    csv.write_text(csv.read_text().replace("true", "false"))
    assert main(report_args(edited, tmp_path / "out")) in (0, 1, 2)
    [pack] = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    # the collection's record, unchanged: it signs the digest of the snapshot as collected
    assert (pack / SIGNATURE_FILE).read_bytes() == (signed.snapshot / SIGNATURE_FILE).read_bytes()
    manifest = json.loads((pack / "manifest.json").read_text())
    assert manifest["signature"]["matches"] is False
    assert manifest["signature"]["snapshot_digest"] != manifest["snapshot_digest"]
    cover = (pack / "report.html").read_text().split('id="contents"')[0]
    assert "this snapshot was changed after collection" in cover


def test_collect_signs_with_a_local_key_file(signed: SignedRun, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from rootaudit.cli import main

    key = tmp_path / "key.pem"
    private = ed25519.Ed25519PrivateKey.generate()
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    with signed.sim.environ():
        assert main(collect_args(signed.sim, tmp_path / "snap", "--sign-with", str(key))) == 0
    signature = Signature.from_bytes((tmp_path / "snap" / SIGNATURE_FILE).read_bytes())
    assert signature.algorithm == "ED25519"
    assert signature.snapshot_digest == load_snapshot(tmp_path / "snap").digest()
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert signature_problem(signature, public) is None
    # the private key is nowhere in the snapshot
    marker = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption())
    for path in (tmp_path / "snap").rglob("*"):
        if path.is_file():
            assert marker not in path.read_bytes() and b"PRIVATE KEY" not in path.read_bytes(), path


def test_a_key_that_cannot_sign_stops_collect_before_it_starts(signed: SignedRun, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit.cli import main

    bad = tmp_path / "key.pem"
    bad.write_text("not a key\n")
    with signed.sim.environ():
        status = main(collect_args(signed.sim, tmp_path / "snap", "--sign-with", str(bad)))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 3 and len(err) == 1 and str(bad) in err[0] and "not a PEM private key" in err[0]
    assert not (tmp_path / "snap").exists()  # nothing was collected


def test_run_signs_and_the_pack_verifies_with_the_key_files_public_key(signed: SignedRun, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]
                                                                       ) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from rootaudit.cli import main

    private = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "key.pem").write_bytes(private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "key.pub.pem").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    args = collect_args(signed.sim, tmp_path / "out", "--sign-with", str(tmp_path / "key.pem"),
                        "--frameworks", "cis-aws-7.0.0")
    args[0] = "run"
    with signed.sim.environ():
        assert main(args) in (0, 1, 2)
    [zip_path] = (tmp_path / "out").glob("rootaudit-*.zip")
    capsys.readouterr()
    assert main(["verify", str(zip_path), "--public-key", str(tmp_path / "key.pub.pem")]) == 0
    assert "verified:" in capsys.readouterr().out
