"""The progress interface: tasks and steps reach the installed reporter; rich bars only on a terminal
and never with --quiet; -v logs rootaudit's own steps, not the libraries'."""

from __future__ import annotations

import io
import logging
import threading

import pytest

from rootaudit import progress
from rootaudit.cli import _setup_logging


class Recorder(progress.Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int, int | None]] = []

    def begin(self, task: progress.Task) -> None:
        self.events.append(("begin", task.name, task.done, task.total))

    def end(self, task: progress.Task) -> None:
        self.events.append(("end", task.name, task.done, task.total))

    def step(self, message: str) -> None:
        self.events.append(("step", message, 0, None))


def test_tasks_count_from_many_threads_and_steps_arrive_in_order() -> None:
    recorder = Recorder()
    ticks = iter(range(1000))
    with progress.use(recorder, clock=lambda: float(next(ticks))):
        with progress.task("root credentials", total=400, unit="accounts") as task:
            def hundred() -> None:
                for _ in range(100):
                    task.advance()

            threads = [threading.Thread(target=hundred) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        progress.step("rendering the report")
    assert recorder.events == [("begin", "root credentials", 0, 400), ("end", "root credentials", 400, 400),
                               ("step", "rendering the report", 0, None)]
    assert progress.current() is not recorder  # uninstalled after the block


def test_task_summary_counts_files_and_bytes() -> None:
    ticks = iter([10.0, 12.5])
    task = progress.Task("CloudTrail files", 3, "files", clock=lambda: next(ticks))
    task.advance(nbytes=1500)
    task.advance(2, nbytes=2_500_000)
    assert task.summary() == "CloudTrail files: 3/3 files, 2.5 MB in 2.5 s"


def test_no_bars_when_stderr_is_not_a_terminal_or_quiet() -> None:
    assert type(progress.reporter_for(io.StringIO(), quiet=False)) is progress.Reporter

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(progress.reporter_for(Tty(), quiet=False), progress.RichReporter)
    assert type(progress.reporter_for(Tty(), quiet=True)) is progress.Reporter


def test_rich_bars_show_counts_rate_and_bytes() -> None:
    stream = io.StringIO()
    reporter = progress.RichReporter(stream, force_terminal=True)
    with progress.use(reporter):
        with progress.task("CloudTrail files", total=4, unit="files") as task:
            for _ in range(4):
                task.advance(nbytes=250_000)
        progress.step("writing the PDF/A report")
        reporter.write_line("warning: exceptions.yaml:3: expired")
    text = stream.getvalue()
    assert "CloudTrail files" in text and "4/4" in text and "1.0 MB" in text
    assert "writing the PDF/A report" in text
    assert "warning: exceptions.yaml:3: expired" in text


def test_verbose_logs_rootaudit_and_aws_calls_but_not_the_libraries(capsys: pytest.CaptureFixture[str]
                                                                    ) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _setup_logging(verbose=True)
        logging.getLogger("rootaudit.collect").info("collecting as arn:aws:iam::1:role/x")
        logging.getLogger("rootaudit.aws.calls").info("ok sts:GetCallerIdentity")
        logging.getLogger("weasyprint").warning("Ignored `break-inside: avoid` at 3:1")
        logging.getLogger("weasyprint").info("Step 4 - Creating pages")
        logging.getLogger("botocore.endpoint").debug("Sending http request: X-Amz-Security-Token: FQoG")
        logging.getLogger("botocore.hooks").info("Event before-call")
        err = capsys.readouterr().err
        assert "collecting as" in err and "sts:GetCallerIdentity" in err
        assert "Creating pages" not in err and "break-inside" not in err
        assert "X-Amz-Security-Token" not in err and "before-call" not in err
        _setup_logging(verbose=False)
        logging.getLogger("rootaudit.collect").info("collecting quietly")
        assert "collecting quietly" not in capsys.readouterr().err
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_result_line_on_the_same_terminal_prints_above_the_bars(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout and stderr on one terminal: a line printed while the bars are live goes through the live display
    (above the bars), not into the middle of their next redraw."""
    terminal, stdout = _Terminal(), _Terminal()
    monkeypatch.setattr("sys.stdout", stdout)
    reporter = progress.RichReporter(terminal, force_terminal=True)
    with progress.use(reporter), progress.task("root credentials", total=2, unit="accounts") as task:
        task.advance()
        print("snapshot:      evidence/snapshot (2 accounts listed)")
        task.advance()
    assert "snapshot:      evidence/snapshot (2 accounts listed)" in terminal.getvalue()
    assert stdout.getvalue() == ""


def test_redirected_stdout_keeps_its_lines_while_the_bars_are_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout to a file, bars on the terminal: the file gets every line, the terminal none of them."""
    terminal, stdout = _Terminal(), io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    reporter = progress.RichReporter(terminal, force_terminal=True)
    with progress.use(reporter), progress.task("root credentials", total=1, unit="accounts") as task:
        print("snapshot:      evidence/snapshot (1 account listed)")
        task.advance()
    assert stdout.getvalue() == "snapshot:      evidence/snapshot (1 account listed)\n"
    assert "evidence/snapshot" not in terminal.getvalue()
