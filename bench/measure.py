"""Run one stage in a subprocess and measure it: wall seconds, peak memory, machine load.

Peak memory is taken two ways, because they answer different questions:
- ``peak_tree_bytes``: the largest sum of resident memory over the stage's whole process tree
  (the stage, its pool workers, dbt), polled every ``POLL_SECONDS`` with psutil. This is what
  the machine must hold at once; a spike shorter than the poll interval can be missed.
- ``peak_process_bytes``: the largest single process of the tree, exact, from the kernel's
  ``ru_maxrss`` of the stage and every descendant it waited for (``os.wait4``).

The machine's load during the stage is recorded too, because the targets are ratios between
stages of one run and another process on the same cores skews them:
- ``load_during``: the 1-minute load average sampled while the stage ran (min, mean, max);
- ``cpu_seconds``: CPU time of the stage's tree (kernel accounting of what it waited for);
- ``others_cores``: the cores the rest of the machine kept busy on average meanwhile (all busy
  CPU time minus the stage's, over the wall time). 0 is a quiet machine; 1 on 2 cores means the
  stage had about one core.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

POLL_SECONDS = 0.1
RESULT_PREFIX = "BENCH_RESULT "  # a stage's last line: its counts as JSON, read back here


@dataclass
class Measurement:
    stage: str
    seconds: float
    peak_tree_bytes: int
    peak_process_bytes: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    returncode: int
    load_during: tuple[float, float, float] = (0.0, 0.0, 0.0)  # 1-min load: min, mean, max
    cpu_seconds: float = 0.0
    others_cores: float = 0.0
    result: dict = field(default_factory=dict)  # what the stage reported (rows, files, …)
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def as_json(self) -> dict:
        return asdict(self)


class _TreePoller(threading.Thread):
    """Samples the summed RSS of a process and all its descendants, and the machine's load
    average, until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak = 0
        self.loads: list[float] = []
        self._finished = threading.Event()

    def run(self) -> None:
        while not self._finished.is_set():
            self.peak = max(self.peak, _tree_rss(self.root))
            self.loads.append(os.getloadavg()[0])
            self._finished.wait(POLL_SECONDS)

    def load_during(self) -> tuple[float, float, float]:
        loads = self.loads or [os.getloadavg()[0]]
        return (round(min(loads), 2), round(sum(loads) / len(loads), 2), round(max(loads), 2))

    def stop(self) -> int:
        self._finished.set()
        self.join()
        return self.peak


def _busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (not idle, not waiting on disk)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # ended between the listing and the read
            total += process.memory_info().rss
    return total


def run_stage(
    stage: str,
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path | None = None,
) -> Measurement:
    """Run ``command`` to completion, measuring it. Its output goes to ``log_path`` (and the
    last lines into the measurement); a line ``BENCH_RESULT {json}`` becomes ``result``."""
    log_path = log_path or Path(os.devnull)
    load_before = os.getloadavg()
    busy_before = _busy_seconds()
    started = time.perf_counter()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        poller = _TreePoller(process.pid)
        poller.start()
        tail: list[bytes] = []
        for line in process.stdout:  # stream to the log; keep the end for the report
            log.write(line)
            tail.append(line)
            del tail[:-200]
        # wait4, not wait: it hands back the child's resource usage (its tree's largest RSS)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        busy = _busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        peak_tree = poller.stop()
    cpu_seconds = usage.ru_utime + usage.ru_stime
    text = b"".join(tail).decode("utf-8", errors="replace")
    result = {}
    for line in reversed(text.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            break
    return Measurement(
        stage=stage,
        seconds=seconds,
        peak_tree_bytes=max(peak_tree, usage.ru_maxrss * 1024),
        peak_process_bytes=usage.ru_maxrss * 1024,  # Linux reports KiB
        load_before=load_before,
        load_after=os.getloadavg(),
        returncode=process.returncode,
        load_during=poller.load_during(),
        cpu_seconds=round(cpu_seconds, 2),
        others_cores=round(max(busy - cpu_seconds, 0.0) / seconds, 2) if seconds else 0.0,
        result=result,
        output_tail="\n".join(text.splitlines()[-40:]),
    )


def report_result(**values) -> None:
    """Called at the end of a stage's subprocess: hand its counts back to the harness."""
    print(RESULT_PREFIX + json.dumps(values, ensure_ascii=False, default=str), flush=True)
