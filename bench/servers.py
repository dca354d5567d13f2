"""Server processes under test: start, wait for the first answer, sample memory, stop.

A server is a process tree (gunicorn's master and workers, granian's, or
node's one process). Its memory is sampled from /proc while the load runs:
the peak of the summed resident sets of the whole tree, and each process's
own high-water mark (``VmHWM``), which the kernel keeps for us.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _status_kib(pid: int, key: str) -> int:
    """One ``kB`` line of /proc/<pid>/status, or 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return 0
    return 0


def _children(pid: int) -> list[int]:
    """Direct children of a process, over all of its threads."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process, or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # Fields after the parenthesised command name; utime and stime
            # are the 14th and 15th fields of the whole line.
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def tree_cpu_seconds(root: int) -> float:
    """CPU time used so far by a process and its live descendants."""
    return sum(_cpu_seconds(pid) for pid in process_tree(root))


def process_tree(root: int) -> list[int]:
    """A process and all of its descendants."""
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(_children(pid))
    return tree


@dataclass
class MemorySampler:
    """Polls a process tree's memory in a background thread."""

    root: int
    interval: float = 0.1
    peak_total_kib: int = 0
    window_peak_kib: int = 0
    peak_by_pid: dict[int, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def take_window(self) -> int:
        """The peak summed RSS since the last call, in KiB, and start a new window."""
        self.sample()
        peak, self.window_peak_kib = self.window_peak_kib, 0
        return peak

    def sample(self) -> None:
        total = 0
        for pid in process_tree(self.root):
            total += _status_kib(pid, "VmRSS:")
            high_water = _status_kib(pid, "VmHWM:")
            self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0), high_water)
        self.peak_total_kib = max(self.peak_total_kib, total)
        self.window_peak_kib = max(self.window_peak_kib, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()


@dataclass
class Server:
    """One server process tree listening on 127.0.0.1:``port``."""

    name: str
    command: Sequence[str]
    port: int
    env: Mapping[str, str]
    log_path: Path
    app: str = ""
    kind: str = ""
    process: subprocess.Popen[bytes] | None = None
    sampler: MemorySampler | None = None
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, timeout: float = 60.0) -> float:
        """Start the server and return the seconds until ``ready_path`` answered 200."""
        began = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_ready(ready_path, began + timeout)
        self.startup_seconds = time.perf_counter() - began
        self.sampler = MemorySampler(self.process.pid)
        self.sampler.start()
        return self.startup_seconds

    def cpu_seconds(self) -> float:
        """CPU time the server's processes have used so far."""
        return 0.0 if self.process is None else tree_cpu_seconds(self.process.pid)

    def wait_until_idle(self, limit: float = 300.0) -> None:
        """Wait until the server has finished what an earlier load left queued.

        Idle means under a tenth of a core over half a second; waiting stops
        after ``limit`` seconds whatever the server is doing.
        """
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            before = self.cpu_seconds()
            time.sleep(0.5)
            if self.cpu_seconds() - before < 0.05:
                return

    def stop(self) -> None:
        """Stop the whole process tree: SIGTERM, then SIGKILL after 15 s."""
        if self.sampler is not None:
            self.sampler.stop()
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _wait_until_ready(self, path: str, deadline: float) -> None:
        while time.perf_counter() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(self._failure("exited while starting"))
            if _answers(self.port, path):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(self._failure("did not answer in time"))

    def log_tail(self, size: int = 3000) -> str:
        """The end of the server's log, for a failure report."""
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def _failure(self, what: str) -> str:
        return f"{self.name} {what}; the end of its log:\n{self.log_tail()}"


def _answers(port: int, path: str) -> bool:
    """Whether GET ``path`` on the port answers 200 now."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
