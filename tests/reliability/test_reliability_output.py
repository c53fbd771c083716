"""Atomic output: a pack is whole under its name or not there; an older pack is replaced only with --force
and only once the new one is complete; one writer per output folder; an interrupt (SIGINT, SIGTERM) at
any point of the writing leaves the older pack as it was and no temporary name.

The interruption tests run `rootaudit report` in a real subprocess that stops at a known point
(tests/support/paused_report.py), so the signal lands exactly there, never by timing."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from rootaudit import atomic
from rootaudit.atomic import LOCK_NAME, OLD_MARK, TMP_MARK, OutputExists, Staging, leftovers, output_lock
from rootaudit.cli import main
from rootaudit.history.store import DEFAULT_NAME as HISTORY_NAME
from rootaudit.snapshot import save_snapshot
from tests.support.sample import account_id, sample_snapshot

pytestmark = pytest.mark.reliability

DRIVER = Path(__file__).resolve().parents[1] / "support" / "paused_report.py"
PACK = "rootaudit-o-sample12345-2026-Q3"
FRAMEWORK = ["--frameworks", "cis-aws-7.0.0"]
EXCEPTIONS = f"""exceptions:
  - id: EXC-1
    account: "{account_id(0)}"
    reason: r
    owner: o@example.com
    approver: a@example.com
    ticket: T-1
    expires: 2027-12-31
"""


def pack_entries(folder: Path) -> list[str]:
    """What the folder holds besides the history index every report records into (rootaudit/history)."""
    return sorted(p.name for p in folder.iterdir() if p.name != HISTORY_NAME)


def tree_digest(path: Path) -> str:
    """One digest over a folder's or a file's paths and bytes."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        h.update(p.relative_to(path.parent).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def pack_state(out: Path) -> dict[str, str]:
    return {p.name: tree_digest(p) for p in sorted(out.iterdir()) if p.name != HISTORY_NAME}


def zip_manifest(zip_path: Path) -> bytes:
    with zipfile.ZipFile(zip_path) as zf:
        return zf.read(f"{PACK}/manifest.json")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(snapshot folder, an exceptions file, a folder holding an older pack made without it)."""
    root = tmp_path_factory.mktemp("atomic")
    snapshot = save_snapshot(sample_snapshot(accounts=4, with_credentials=1), root / "snap")
    exceptions = root / "exceptions.yaml"
    exceptions.write_text(EXCEPTIONS, encoding="utf-8")
    older = root / "older"
    assert main(["report", str(snapshot), "--out", str(older), *FRAMEWORK, "-q"]) in (0, 1, 2)
    assert pack_entries(older) == [PACK, f"{PACK}.zip"]
    return snapshot, exceptions, older


@pytest.fixture
def out(made: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    """An output folder that holds the older pack."""
    target = tmp_path / "out"
    shutil.copytree(made[2], target)
    return target


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


# ---- --force -------------------------------------------------------------------------------------

def test_an_existing_pack_is_refused_without_force(made: tuple[Path, Path, Path], out: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    snapshot, exceptions, _ = made
    before = pack_state(out)
    status = main(["report", str(snapshot), "--out", str(out), "--exceptions", str(exceptions), *FRAMEWORK])
    line = one_line(capsys.readouterr().err)
    assert status == 3
    assert str(out / PACK) in line and "--force" in line
    assert pack_state(out) == before


def test_force_replaces_it_whole(made: tuple[Path, Path, Path], out: Path) -> None:
    snapshot, exceptions, _ = made
    before = pack_state(out)
    status = main(["report", str(snapshot), "--out", str(out), "--exceptions", str(exceptions), *FRAMEWORK,
                   "--force", "-q"])
    assert status in (0, 1, 2)
    after = pack_state(out)
    assert sorted(after) == [PACK, f"{PACK}.zip"], "a temporary name or the lock was left"
    assert after[PACK] != before[PACK] and after[f"{PACK}.zip"] != before[f"{PACK}.zip"]
    assert zip_manifest(out / f"{PACK}.zip") == (out / PACK / "manifest.json").read_bytes()


def test_run_refuses_an_existing_pack_of_the_period_before_collecting(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rootaudit-o-abc-2026-Q3").mkdir()
    # No AWS credentials or endpoint are given: reaching the collection would be a different error.
    status = main(["run", "--out", str(tmp_path), "--period", "2026-Q3", "--profile", "no-such-profile"])
    line = one_line(capsys.readouterr().err)
    assert status == 3 and "rootaudit-o-abc-2026-Q3 already exists: give --force" in line
    assert pack_entries(tmp_path) == ["rootaudit-o-abc-2026-Q3"]


def test_a_folder_that_is_not_a_snapshot_is_never_replaced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExists, match="holds no rootaudit snapshot"):
        save_snapshot(sample_snapshot(accounts=2), home)
    assert (home / "notes.txt").read_text(encoding="utf-8") == "mine"


# ---- the swap ------------------------------------------------------------------------------------

def test_a_failed_rename_puts_the_older_entries_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "a").write_text("old", encoding="utf-8")
    (tmp_path / "pack.zip").write_text("old zip", encoding="utf-8")
    real_replace = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).name == "pack.zip" and TMP_MARK in Path(src).name:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    with Staging(tmp_path, "pack") as stage:
        tree, zipped = stage.write_tree({"a": b"new"}), stage.write_file(b"new zip", ".zip")
        monkeypatch.setattr(atomic.os, "replace", replace)
        with pytest.raises(OSError, match="No space"):
            stage.publish({tree: tmp_path / "pack", zipped: tmp_path / "pack.zip"}, replace=True)
        monkeypatch.undo()
    assert (tmp_path / "pack" / "a").read_text(encoding="utf-8") == "old"
    assert (tmp_path / "pack.zip").read_text(encoding="utf-8") == "old zip"
    assert leftovers(tmp_path) == []


def test_signals_are_held_until_the_swap_is_over() -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), atomic.signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        reached.append("after the signal")
    assert reached == ["after the signal"]


def test_a_killed_writers_leftovers_are_cleared_by_the_next(tmp_path: Path) -> None:
    (tmp_path / f".{PACK}{TMP_MARK}dead").mkdir()
    (tmp_path / f".{PACK}{TMP_MARK}dead.zip").write_bytes(b"half")
    (tmp_path / f".{PACK}.zip{OLD_MARK}dead").write_bytes(b"the older zip, moved aside")
    (tmp_path / f".{PACK}{OLD_MARK}dead").mkdir()
    (tmp_path / PACK).mkdir()  # the new folder made it into place; its zip did not
    with output_lock(tmp_path):
        pass
    assert pack_entries(tmp_path) == [PACK, f"{PACK}.zip"]
    assert (tmp_path / f"{PACK}.zip").read_bytes() == b"the older zip, moved aside"


# ---- the lock ------------------------------------------------------------------------------------

@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of tmp_path/out."""
    (tmp_path / "out").mkdir()
    code = ("import sys, time; from rootaudit.atomic import output_lock\n"
            f"with output_lock({str(tmp_path / 'out')!r}):\n"
            "    print('HELD', flush=True); sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "HELD"
    yield proc
    proc.communicate("", timeout=60)


def test_a_second_writer_is_refused_with_the_lock_and_its_pid(
        made: tuple[Path, Path, Path], tmp_path: Path, holder: subprocess.Popen[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["report", str(made[0]), "--out", str(tmp_path / "out"), *FRAMEWORK])
    line = one_line(capsys.readouterr().err)
    assert status == 3
    assert f"{tmp_path / 'out' / LOCK_NAME}: another rootaudit (pid {holder.pid}) is writing" in line
    assert pack_entries(tmp_path / "out") == [LOCK_NAME]  # the holder's, untouched


def test_a_lock_left_by_a_dead_process_is_taken_over(made: tuple[Path, Path, Path], tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text(dead.stdout, encoding="ascii")
    assert main(["report", str(made[0]), "--out", str(out), *FRAMEWORK, "-q"]) in (0, 1, 2)
    assert pack_entries(out) == [PACK, f"{PACK}.zip"]


def test_the_lock_file_is_at_its_path_only_once_it_is_locked_and_names_its_holder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rival that opens the lock the instant it appears finds it held and naming a pid, never empty."""
    seen: list[tuple[str, bool]] = []
    link = os.link

    def link_and_look(src: str, dst: str) -> None:
        rival = os.open(src, os.O_RDONLY)
        try:
            try:
                fcntl.flock(rival, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = False
            except BlockingIOError:
                held = True
            seen.append((os.pread(rival, 64, 0).decode("ascii").strip(), held))
        finally:
            os.close(rival)
        link(src, dst)

    monkeypatch.setattr(atomic.os, "link", link_and_look)
    with output_lock(tmp_path / "out") as lock:
        assert seen == [(str(os.getpid()), True)]
        assert lock.read_text(encoding="ascii").strip() == str(os.getpid())
        assert leftovers(tmp_path / "out") == [LOCK_NAME]  # the private name is gone once linked
    assert leftovers(tmp_path / "out") == []


def test_a_file_system_without_hard_links_still_takes_the_lock(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", src)

    monkeypatch.setattr(atomic.os, "link", no_links)
    with output_lock(tmp_path / "out") as lock:
        assert lock.read_text(encoding="ascii").strip() == str(os.getpid())
        assert leftovers(tmp_path / "out") == [LOCK_NAME]
    assert leftovers(tmp_path / "out") == []


def test_a_longer_record_left_by_a_dead_process_is_overwritten_whole(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / LOCK_NAME).write_text("4" * 60 + "\n", encoding="ascii")
    with output_lock(tmp_path / "out") as lock:
        assert lock.read_text(encoding="ascii").strip() == str(os.getpid())


# ---- interrupted in a real process ---------------------------------------------------------------

SPAWNED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _end_spawned() -> Iterator[None]:
    """A test that fails before it releases its paused process must not leave it (and its PDF worker)
    running: each is started in its own process group, ended whole here."""
    yield
    while SPAWNED:
        proc = SPAWNED.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def paused_report(point: str, out: Path, made: tuple[Path, Path, Path], tmp_path: Path,
                  ) -> tuple[subprocess.Popen[str], Path]:
    snapshot, exceptions, _ = made
    release = tmp_path / f"release-{point}"
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), point, str(release), "--", "report", str(snapshot), "--out", str(out),
         "--exceptions", str(exceptions), *FRAMEWORK, "--force", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    SPAWNED.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("PAUSED"), (line, proc.stderr.read() if proc.stderr else "")
    return proc, release


@pytest.mark.slow
@pytest.mark.parametrize(("point", "sig"), [("mid_folder", signal.SIGINT), ("before_publish", signal.SIGINT),
                                            ("mid_folder", signal.SIGTERM),
                                            ("before_publish", signal.SIGTERM)])
def test_an_interrupt_while_writing_keeps_the_older_pack(point: str, sig: int, made: tuple[Path, Path, Path],
                                                         out: Path, tmp_path: Path) -> None:
    before = pack_state(out)
    proc, _ = paused_report(point, out, made, tmp_path)
    staged = sorted(p.name for p in out.iterdir() if TMP_MARK in p.name)
    assert staged, "the pause came before anything was staged"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3, stderr
    assert one_line(stderr).startswith("rootaudit: interrupted")
    assert pack_state(out) == before, "the older pack was changed"
    assert leftovers(out) == []


@pytest.mark.slow
def test_an_interrupt_during_the_swap_waits_for_it(made: tuple[Path, Path, Path], out: Path,
                                                   tmp_path: Path) -> None:
    """SIGINT after the first rename: held until the swap is done, so the new pack is whole in place."""
    before = pack_state(out)
    proc, release = paused_report("mid_swap", out, made, tmp_path)
    proc.send_signal(signal.SIGINT)
    release.touch()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 3 and one_line(stderr).startswith("rootaudit: interrupted")
    after = pack_state(out)
    assert sorted(after) == [PACK, f"{PACK}.zip"] and after != before
    assert zip_manifest(out / f"{PACK}.zip") == (out / PACK / "manifest.json").read_bytes()


# ---- two writers ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_writer_paused_with_the_lock_stops_a_second_process(made: tuple[Path, Path, Path], out: Path,
                                                              tmp_path: Path) -> None:
    first, release = paused_report("before_publish", out, made, tmp_path)
    second = subprocess.run([sys.executable, "-m", "rootaudit", "report", str(made[0]), "--out", str(out),
                             *FRAMEWORK, "--force", "-q"], capture_output=True, text=True, timeout=120)
    assert second.returncode == 3
    assert f"{out / LOCK_NAME}: another rootaudit (pid {first.pid})" in one_line(second.stderr)
    release.touch()
    _, stderr = first.communicate(timeout=120)
    assert first.returncode in (0, 1, 2), stderr
    assert pack_entries(out) == [PACK, f"{PACK}.zip"]
    manifest = json.loads((out / PACK / "manifest.json").read_bytes())
    assert "inputs/exceptions.yaml" in {f["path"] for f in manifest["files"]}, "not the first writer's pack"
    assert zip_manifest(out / f"{PACK}.zip") == (out / PACK / "manifest.json").read_bytes()


@pytest.mark.slow
def test_two_racing_reports_leave_one_whole_pack(made: tuple[Path, Path, Path], out: Path) -> None:
    """Started together, with different inputs: whichever wins, the folder and the zip are its own."""
    snapshot, exceptions, _ = made
    base = [sys.executable, "-m", "rootaudit", "report", str(snapshot), "--out", str(out), *FRAMEWORK,
            "--force", "-q"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cmd in ([*base, "--exceptions", str(exceptions)], base)]
    results = [(p.communicate(timeout=180)[1], p.returncode) for p in procs]
    results = [(status, stderr) for stderr, status in results]
    for status, stderr in results:
        assert status in (0, 1, 2) or (status == 3 and "another rootaudit (pid" in one_line(stderr)), stderr
    assert any(status != 3 for status, _ in results)
    assert pack_entries(out) == [PACK, f"{PACK}.zip"]
    assert zip_manifest(out / f"{PACK}.zip") == (out / PACK / "manifest.json").read_bytes()
    verified = subprocess.run([sys.executable, "-m", "rootaudit", "verify", str(out / f"{PACK}.zip")],
                              capture_output=True, text=True, timeout=180)
    assert verified.returncode == 4, verified.stdout + verified.stderr  # consistent and unsigned


def test_the_document_names_what_is_left_on_disk() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Atomic output"):doc.index("## Parsers fuzzed")]
    assert f"`{LOCK_NAME}`" in section and f"`.<name>{TMP_MARK}…`" in section
    assert "tests/support/paused_report.py" in section and Path(DRIVER).is_file()


def test_an_interrupt_while_starting_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from rootaudit import cli

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["report", "x"]) == 3
    assert one_line(capsys.readouterr().err) == "rootaudit: interrupted before anything was done"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupt_while_the_pdf_is_made_ends_its_worker(sig: int, made: tuple[Path, Path, Path],
                                                            out: Path, tmp_path: Path) -> None:
    """Interrupted while its forked worker renders the PDF (here for ever), the command ends the worker
    and exits, instead of waiting for the PDF it will not use."""
    before = pack_state(out)
    proc, _ = paused_report("while_pdf", out, made, tmp_path)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert children, "no PDF worker was started"
    for pid in children:  # the worker leaves Ctrl-C to the command and dies of SIGTERM (not caught)
        status = dict(line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                      if ":\t" in line)
        ignored, caught = int(status["SigIgn"], 16), int(status["SigCgt"], 16)
        assert ignored & (1 << (signal.SIGINT - 1)) and not caught & (1 << (signal.SIGTERM - 1)), status
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 3 and one_line(stderr).startswith("rootaudit: interrupted")
    for pid in map(int, children):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert pack_state(out) == before and leftovers(out) == []
