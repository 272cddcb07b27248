"""What `make run` shows: one line per stage, a live progress bar on a terminal, the rest in a log file.

Dagster's event log, dbt's output and anything else the runs write go to the log file: file
descriptors 1 and 2 are pointed at it while the runs execute (dbt is a subprocess, so redirecting
Python's ``sys.stdout`` alone would not catch it). The stage display reads the run's events from the
instance's event log as they are stored, in a thread, and writes to the terminal saved before the
redirect. Not on a terminal (CI, a pipe) it prints one plain line per stage when the stage ends.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # Dagster is imported by the runs this display follows, not by `make run` itself
    import dagster as dg

# The ingest's per-file lines and its announcement of how many files it parses
# (orchestration/lib/ingest/pipeline.py).
_INGEST_FILE = re.compile(r"^ingest \w+: ")
_INGEST_TOTAL = re.compile(r"^ingest: (\d+) files? to parse")

# Seconds between two reads of the event log.
_POLL = 0.3


@dataclass
class Stage:
    name: str
    unit: str
    total: int
    done: int = 0
    started: float | None = None
    ended: float | None = None
    keys: frozenset = frozenset()  # asset or check keys whose events count
    seen: set = field(default_factory=set)  # of those, the ones done (a report asset also records
    # one materialization per month it wrote: counted once)

    def line(self, failed: bool = False) -> str:
        seconds = (self.ended or time.time()) - (self.started or time.time())
        status = " FAILED" if failed else ""
        return f"{self.name:<9} {self.done:>4}/{self.total:<4} {self.unit:<8} {seconds:6.1f} s{status}"


@dataclass
class RunStages:
    """The stages of one Dagster run, counted from its stored events."""

    stages: list[Stage]
    ingest: Stage | None = None
    _cursor: str | None = field(default=None, repr=False)
    _step_started: dict[str, float] = field(default_factory=dict, repr=False)

    def read(self, instance: dg.DagsterInstance, run_id: str) -> list[Stage]:
        """Read the events stored since the last call; the stages that just ended."""
        ended = []
        while True:
            connection = instance.get_records_for_run(run_id, cursor=self._cursor, limit=500)
            self._cursor = connection.cursor
            for record in connection.records:
                ended += self._count(record.event_log_entry)
            if not connection.has_more:
                return ended

    def _count(self, entry) -> list[Stage]:
        now = entry.timestamp  # when the event happened, not when it was read
        touched: Stage | None = None
        if entry.is_dagster_event:
            event = entry.dagster_event
            key = None
            if event.event_type_value == "STEP_START":  # a stage's time runs from its step's start
                self._step_started[entry.step_key] = now
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                key = event.asset_key
            elif event.event_type_value == "ASSET_CHECK_EVALUATION":
                key = event.event_specific_data.asset_check_key
            for stage in self.stages:
                if key is not None and key in stage.keys and key not in stage.seen:
                    stage.seen.add(key)
                    stage.done = len(stage.seen)
                    touched = stage
        elif self.ingest is not None:
            message = entry.user_message or ""
            if total := _INGEST_TOTAL.match(message):
                self.ingest.total = int(total.group(1))
                self.ingest.started = self.ingest.started or self._step_started.get(entry.step_key, now)
            elif _INGEST_FILE.match(message):
                self.ingest.done += 1
                touched = self.ingest
        if touched is None:
            return []
        touched.started = touched.started or self._step_started.get(entry.step_key, now)
        if touched.done >= touched.total and touched.ended is None:
            touched.ended = now
            return [touched]
        return []


class StageDisplay:
    """Rich progress bars on a terminal, plain lines otherwise."""

    def __init__(self, out: TextIO):
        self.out = out
        self.live = out.isatty()
        self._progress = None
        self._tasks: dict[int, object] = {}

    def __enter__(self) -> StageDisplay:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]:<8}"),
                TimeElapsedColumn(),
                console=Console(file=self.out),
                # the runs write to the log file (fds 1 and 2), not above the bars
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, stages: list[Stage]) -> None:
        if self._progress is None:
            return
        for stage in stages:
            if stage.started is None:
                continue
            task = self._tasks.get(id(stage))
            if task is None:
                task = self._tasks[id(stage)] = self._progress.add_task(
                    stage.name, total=stage.total, unit=stage.unit
                )
            self._progress.update(task, completed=stage.done, total=stage.total)
            if stage.ended is not None:
                self._progress.stop_task(task)

    def ended(self, stage: Stage, failed: bool = False) -> None:
        if self._progress is None:
            print(stage.line(failed), file=self.out, flush=True)
        elif failed:
            self._progress.console.print(stage.line(failed))

    def print(self, line: str) -> None:
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.out, flush=True)


@contextmanager
def watching(
    display: StageDisplay, instance: dg.DagsterInstance, run_id: str, stages: RunStages
) -> Iterator[None]:
    """Follow a run's events in a thread while the body executes it; close its stages at the end."""
    stop = threading.Event()

    def follow() -> None:
        while not stop.is_set():
            for stage in stages.read(instance, run_id):
                display.ended(stage)
            display.update(stages.stages)
            stop.wait(_POLL)

    thread = threading.Thread(target=follow, name="stage-display", daemon=True)
    thread.start()
    failed = False
    try:
        yield
    except BaseException:
        failed = True
        raise
    finally:
        stop.set()
        thread.join()
        for stage in stages.read(instance, run_id):
            display.ended(stage)
        from dagster import DagsterRunStatus

        run = instance.get_run_by_id(run_id)
        failed = failed or run is None or run.status != DagsterRunStatus.SUCCESS
        for stage in stages.stages:
            if stage.ended is None and (stage.started is not None or failed):
                stage.ended = time.time()
                display.ended(stage, failed=failed or stage.done < stage.total)
        display.update(stages.stages)


@contextmanager
def output_to(log_path: Path) -> Iterator[TextIO]:
    """Point file descriptors 1 and 2 (and sys.stdout/err) at `log_path`; yield the terminal's stdout."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1, encoding=sys.stdout.encoding or "utf-8")
    with open(log_path, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()
