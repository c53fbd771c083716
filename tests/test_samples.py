"""samples/: the configuration example is valid, and the sample pack is intact and current (what it
means equals what the demo makes now; regenerate with `.venv/bin/python scripts/make_samples.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootaudit.config import load_config
from rootaudit.render.verify import verify_pack
from scripts.make_samples import SAMPLES, SUMMARY, make_demo_pack, summary_of, zip_files

REGENERATE = "samples/ is out of date: run .venv/bin/python scripts/make_samples.py and commit samples/"


def _sample_zip() -> Path:
    [path] = sorted(SAMPLES.glob("rootaudit-*.zip"))
    return path


def test_the_sample_configuration_is_valid_and_its_inputs_exist() -> None:
    config = load_config(SAMPLES / "rootaudit.toml")
    assert config.values["member_role"] == "RootAuditReadOnly"
    assert config.values["cloudtrail"] == "auto"
    for key in ("exceptions", "justifications"):
        assert config.values[key].is_file(), key


def test_the_sample_pack_verifies_and_matches_its_summary() -> None:
    report = verify_pack(_sample_zip(), public_key=(SAMPLES / "signing-key.pub.pem").read_bytes())
    assert report.ok, [str(p) for p in report.problems]
    assert report.status == "verified", report.signature_detail  # signed by the key published beside it
    assert summary_of(zip_files(_sample_zip())) == json.loads(SUMMARY.read_text("utf-8")), REGENERATE


@pytest.mark.slow
def test_the_sample_pack_is_what_the_demo_makes_now(tmp_path: Path) -> None:
    made = make_demo_pack(tmp_path)
    assert made.name == _sample_zip().name, REGENERATE
    assert summary_of(zip_files(made)) == json.loads(SUMMARY.read_text("utf-8")), REGENERATE
