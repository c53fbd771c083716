"""One simulated organization (server mode) collected and reported once for the module, signed with a KMS
key of the simulated organization, so the signing tests share the slow part."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from rootaudit.period import parse_period
from rootaudit.simulate import SimulatedOrganization, build_scenario

PERIOD = "2026-Q3"


@dataclass
class SignedRun:
    sim: SimulatedOrganization
    key_arn: str
    public_key: Path  # the KMS key's public key, as PEM, as an auditor would be handed it
    snapshot: Path
    pack: Path  # the pack folder
    zip: Path
    out: Path


def collect_args(sim: SimulatedOrganization, out: Path, *extra: str) -> list[str]:
    s = sim.scenario
    return ["collect", "--out", str(out), "--period", PERIOD, "--cloudtrail",
            f"s3://{s.trail.bucket}/{s.trail.prefix}", "--regions", *s.regions, "--fallback-role",
            s.audit_role_name, "--quiet", *extra]


def report_args(snapshot: Path, out: Path) -> list[str]:
    return ["report", str(snapshot), "--out", str(out), "--frameworks", "cis-aws-7.0.0", "--quiet"]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignedRun]:
    from cryptography.hazmat.primitives import serialization

    from rootaudit.cli import main

    base = tmp_path_factory.mktemp("signed")
    scenario = build_scenario(accounts=8, seed=7, period=parse_period(PERIOD))
    with SimulatedOrganization(scenario, mode="server") as sim, sim.environ():
        kms = boto3.client("kms", region_name=scenario.region)
        arn = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
        der = kms.get_public_key(KeyId=arn)["PublicKey"]
        public = base / "kms-public.pem"
        public.write_bytes(serialization.load_der_public_key(der).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        snapshot = base / "snapshot"
        assert main(collect_args(sim, snapshot, "--sign-with", f"kms:{arn}")) == 0
        assert main(report_args(snapshot, base / "out")) in (0, 1, 2)
        [pack] = [p for p in (base / "out").iterdir() if p.is_dir()]
        yield SignedRun(sim, arn, public, snapshot, pack, pack.with_suffix(".zip"), base)


@pytest.fixture()
def pack_copy(signed: SignedRun, tmp_path: Path) -> Path:
    target = tmp_path / signed.pack.name
    shutil.copytree(signed.pack, target)
    return target
