"""Progress of the long steps, for a person watching: the small interface the stages call.

    from rootaudit import progress

    with progress.task("root credentials", total=len(accounts), unit="accounts") as task:
        ...
        task.advance()                        # one account done (from any worker thread)
    with progress.task("CloudTrail files", total=len(keys), unit="files") as task:
        task.advance(nbytes=len(body))        # one file read, and its size
    with progress.task("LookupEvents", unit="pages") as task:   # no total: a count only
        task.advance()
    progress.step("rendering the PDF")        # a step with no count

Nothing is drawn unless the command line installs a reporter with `progress.use(...)`: rich bars on
stderr when stderr is a terminal and --quiet is not given (`rich_reporter`), otherwise none. Every
task and step is also logged on the `rootaudit.progress` logger at INFO, which `-v` shows. Progress is
never evidence: nothing here reaches the snapshot or the pack.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

log = logging.getLogger(__name__)


class Task:
    """One counted piece of work. `advance` is thread-safe."""

    def __init__(self, name: str, total: int | None, unit: str, clock: Callable[[], float]) -> None:
        self.name = name
        self.total = total
        self.unit = unit
        self.done = 0
        self.nbytes = 0
        self._clock = clock
        self.started = clock()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Task], None]] = []

    def advance(self, n: int = 1, nbytes: int = 0) -> None:
        with self._lock:
            self.done += n
            self.nbytes += nbytes
        for listener in self._listeners:
            listener(self)

    def set_total(self, total: int) -> None:
        self.total = total
        for listener in self._listeners:
            listener(self)

    def elapsed(self) -> float:
        return max(0.0, self._clock() - self.started)

    def summary(self) -> str:
        counted = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        size = f", {human_bytes(self.nbytes)}" if self.nbytes else ""
        return f"{self.name}: {counted} {self.unit}{size} in {self.elapsed():.1f} s"


class Reporter:
    """Shows tasks and steps; this base shows nothing (no terminal, or --quiet)."""

    def start(self) -> None:
        """Called when the reporter is installed."""

    def stop(self) -> None:
        """Called when it is removed; a live display ends here."""

    def begin(self, task: Task) -> None:
        """A task starts."""

    def end(self, task: Task) -> None:
        """A task ends (its count is final)."""

    def step(self, message: str) -> None:
        """A step with no count starts."""

    def write_line(self, text: str) -> None:
        """A line for the person (a warning, a log line), kept clear of any live display."""
        print(text, file=sys.stderr, flush=True)


_lock = threading.Lock()
_current: Reporter = Reporter()
_clock: Callable[[], float] = time.monotonic


def current() -> Reporter:
    return _current


@contextmanager
def use(reporter: Reporter, clock: Callable[[], float] | None = None) -> Iterator[Reporter]:
    """Install `reporter` for the duration of the block (`clock` for tests)."""
    global _current, _clock
    with _lock:
        previous, previous_clock = _current, _clock
        _current, _clock = reporter, clock or time.monotonic
    reporter.start()
    try:
        yield reporter
    finally:
        reporter.stop()
        with _lock:
            _current, _clock = previous, previous_clock


@contextmanager
def task(name: str, total: int | None = None, unit: str = "items") -> Iterator[Task]:
    reporter = _current
    counted = Task(name, total, unit, _clock)
    log.info("%s: %s %s", name, "started" if total is None else total, unit)
    reporter.begin(counted)
    try:
        yield counted
    finally:
        reporter.end(counted)
        log.info("%s", counted.summary())


def step(message: str) -> None:
    log.info("%s", message)
    _current.step(message)


def end_display() -> None:
    """End any live display now (before a command prints its result on stdout)."""
    _current.stop()


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # not reached


class RichReporter(Reporter):
    """Bars on a terminal: done/total, the rate, the time left, and bytes read where counted."""

    def __init__(self, stream: TextIO | None = None, force_terminal: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                speed = task.finished_speed or task.speed
                unit = task.fields.get("unit", "")
                return Text("" if not speed else f"{speed:,.1f} {unit}/s")

        class Size(ProgressColumn):
            def render(self, task: Any) -> Text:
                nbytes = task.fields.get("nbytes", 0)
                return Text(human_bytes(nbytes) if nbytes else "")

        self.console = Console(file=stream, stderr=stream is None, force_terminal=force_terminal)
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"), Size(), Rate(), TimeRemainingColumn(),
            console=self.console, transient=False, redirect_stdout=_same_terminal(self.console),
            redirect_stderr=False)
        self._ids: dict[int, Any] = {}

    def start(self) -> None:
        self._progress.start()
        self._live = True

    def stop(self) -> None:
        if getattr(self, "_live", False):  # idempotent: the result's lines end the display early
            self._live = False
            self._progress.stop()

    def begin(self, task: Task) -> None:
        self._ids[id(task)] = self._progress.add_task(task.name, total=task.total, unit=task.unit, nbytes=0)
        task._listeners.append(self._update)

    def _update(self, task: Task) -> None:
        ident = self._ids.get(id(task))
        if ident is not None:
            self._progress.update(ident, completed=task.done, total=task.total, nbytes=task.nbytes)

    def end(self, task: Task) -> None:
        ident = self._ids.pop(id(task), None)
        if ident is not None:
            total = task.total if task.total is not None else task.done
            self._progress.update(ident, completed=task.done, total=total, nbytes=task.nbytes)
            self._progress.stop_task(ident)

    def step(self, message: str) -> None:
        self.console.print(f"[dim]·[/dim] {message}", highlight=False)

    def write_line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)


def _same_terminal(console: Any) -> bool:
    # A line printed on stdout while the bars are drawn would be overwritten by their next refresh, when
    # both go to the same terminal; rich then prints it above the bars. Redirected stdout is left alone.
    stdout_tty = getattr(sys.stdout, "isatty", lambda: False)()
    return bool(stdout_tty and console.is_terminal)


def reporter_for(stream: TextIO, quiet: bool) -> Reporter:
    """Rich bars when `stream` is a terminal and not --quiet; else nothing drawn."""
    if quiet or not getattr(stream, "isatty", lambda: False)():
        return Reporter()
    return RichReporter(stream)
