"""The wheel: built from the source, installed in a fresh virtual environment outside the source tree,
it runs `rootaudit frameworks` and `rootaudit demo` with the mappings and templates it carries.

Costs about a minute (a build, a venv, a demo of 12 accounts): marked `wheel` and `slow`. No internet:
the fresh environment installs only the wheel (--no-index --no-deps) and reaches the dependencies
already installed here through a .pth file, so nothing but the wheel brings rootaudit's own files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.wheel, pytest.mark.slow]


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _source_copy(dest: Path) -> Path:
    """The tracked files only (no build leftovers, no venv), symlinks kept as symlinks."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        src, out = ROOT / name, dest / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the work tree, not yet committed
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)
    return dest


def test_the_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    source = _source_copy(tmp_path / "src")
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
          "-w", str(wheels), str(source)], cwd=tmp_path, env=env)
    [wheel] = list(wheels.glob("rootaudit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("rootaudit/_data/mappings/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("rootaudit/_data/report_templates/") for n in names)
    assert not any(n.startswith(("tests/", "bench/", "scripts/")) for n in names)

    venv = tmp_path / "fresh"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    fresh_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                           cwd=tmp_path, env=env).strip())
    # the dependencies installed here, after the fresh environment's own site-packages
    (fresh_site / "_rootaudit_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
         cwd=tmp_path, env=env)

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run([python, "-c", "import rootaudit; print(rootaudit.__file__)"], cwd=work, env=env)
    assert Path(where.strip()).is_relative_to(fresh_site), where

    listed = _run([str(bin_dir / "rootaudit"), "frameworks"], cwd=work, env=env)
    assert "cis-aws-7.0.0" in listed and "soc2-2017-tsc" in listed
    out = _run([str(bin_dir / "rootaudit"), "demo", "--accounts", "12", "--out", "demo", "--quiet",
                "--period", "2026-Q3"], cwd=work, env=env)
    assert "exit status 0: the demo made its pack" in out
    [pack] = list((work / "demo").glob("rootaudit-*-2026-Q3.zip"))  # the period asked for (and Q2 before it)
    _run([str(bin_dir / "rootaudit"), "verify", str(pack), "--public-key", "demo/signing-key.pub.pem"],
         cwd=work, env=env)
