"""The command line: exit statuses, one-line errors, and the demo writing a whole pack."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rootaudit.cli import main

PACK_FILES = {"evidence.pdf", "evidence.xlsx", "report.html", "snapshot.json", "manifest.json", "SHA256SUMS"}


def test_bad_usage_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect"]) == 3  # --out is required
    assert main(["no-such-command"]) == 3
    assert main(["report", "nowhere", "--out", "x", "--period", "2026-Q9"]) == 3


def test_a_bad_period_is_one_line_saying_what_to_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collect", "--out", "x", "--period", "last-quarter"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "2026-Q3" in err[0]


def test_report_on_a_missing_snapshot_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 3
    assert "snapshot.json" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_frameworks_lists_every_mapping_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frameworks"]) == 0
    out = capsys.readouterr().out
    assert "cis-aws-7.0.0" in out
    assert "soc2-2017-tsc" in out


@pytest.mark.slow
def test_demo_writes_a_whole_pack_that_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--accounts", "14", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    # The demo made its pack: exit 0. The scenario holds an account whose audit is refused, so the pack's
    # own status is 2 (evidence incomplete), printed beside it.
    assert status == 0
    assert "pack status:   2 (the evidence is incomplete" in out
    packs = sorted(p for p in tmp_path.iterdir() if p.is_dir() and p.name.startswith("rootaudit-o-"))
    # the period asked for (the last complete quarter) and the one before it, for the history
    assert len(packs) == 2
    from rootaudit.history.store import HistoryStore

    with HistoryStore.open(tmp_path / "rootaudit-history.sqlite", create=False) as store:
        # both packs recorded, oldest first (rootaudit-<org>-<YYYY>-Q<n>)
        assert [r.period for r in store.records()] == ["-".join(p.name.rsplit("-", 2)[-2:]) for p in packs]
    pack = packs[1]
    assert pack.with_suffix(".zip").is_file()
    assert {p.name for p in pack.iterdir()} >= PACK_FILES
    assert (pack / "data" / "root_credentials.csv").is_file()

    # sha256sum -c SHA256SUMS, done by hand so the test does not depend on coreutils
    lines = (pack / "SHA256SUMS").read_text().splitlines()
    manifest = json.loads((pack / "manifest.json").read_text())
    # SHA256SUMS covers every file of the manifest, and the manifest itself
    assert {line.split(maxsplit=1)[1].lstrip("*") for line in lines} == (
        {f["path"] for f in manifest["files"]} | {"manifest.json"})
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((pack / name.lstrip("*")).read_bytes()).hexdigest() == digest, name

    # the demo signs the snapshot with the simulated organization's KMS key and hands over its public key
    assert main(["verify", str(pack.with_suffix(".zip")), "--public-key",
                 str(tmp_path / "signing-key.pub.pem")]) == 0
    assert main(["verify", str(pack.with_suffix(".zip"))]) == 5  # without it: self-asserted


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "rootaudit", "--version"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("rootaudit ")

