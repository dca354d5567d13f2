"""A real ``gunicorn app:app`` (or granian) for end-to-end tests, and a small
HTTP client.

The server runs from the repository root with the virtual environment's
gunicorn and the repository's gunicorn.conf.py, exactly as deployed, but bound
to a free port on 127.0.0.1 and given its own data directory. It runs in a
process group of its own, so that a test can stop it gracefully (SIGTERM) or
kill the master and every worker at once (SIGKILL), as a crash would.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
GRANIAN = Path(sys.executable).parent / "granian"
HEALTH_PATH = "/-/health"

# Connection failures after which a request on a reused keep-alive connection
# is sent again on a new one: the server closed the idle connection before
# reading the request, so it was never handled.
_STALE_CONNECTION_ERRORS = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Reply:
    """One HTTP response: status, headers (names in lower case) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """HTTP/1.1 over one keep-alive connection; not shared between threads."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send a request (``body`` as JSON unless bytes) and read the whole reply."""
        payload = body if body is None or isinstance(body, bytes) else _json(body)
        sent_headers = {"Content-Type": "application/json"} if payload else {}
        sent_headers.update(headers or {})
        is_reused = self._connection is not None
        try:
            return self._send(method, path, payload, sent_headers)
        except _STALE_CONNECTION_ERRORS:
            self.close()
            if not is_reused:
                raise
            return self._send(method, path, payload, sent_headers)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(
        self, method: str, path: str, payload: bytes | None, headers: dict[str, str]
    ) -> Reply:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=self.timeout
            )
        try:
            self._connection.request(method, path, body=payload, headers=headers)
            response = self._connection.getresponse()
            body = response.read()
        except BaseException:
            self.close()
            raise
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            self.close()
        return Reply(response.status, reply_headers, body)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def gunicorn_command(port: int) -> list[str]:
    """``gunicorn app:app`` with the repository's gunicorn.conf.py, on loopback."""
    return [str(GUNICORN), "app:app", "--bind", f"127.0.0.1:{port}"]


def granian_command(port: int) -> list[str]:
    """``app:app`` under granian, as the README offers it, on loopback."""
    return [
        str(GRANIAN),
        "--interface=wsgi",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=2",
        "--blocking-threads=4",
        "--no-ws",
        "app:app",
    ]


class LiveServer:
    """``gunicorn app:app`` (or another ``command``) on a free loopback port over
    ``data_dir``.

    :param workers: worker processes, passed as ``WEB_CONCURRENCY`` so that
        gunicorn.conf.py's own handling of it is exercised.
    :param env: more environment variables for the server.
    :param command: the command line serving the application on a port.
    """

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        workers: int = 2,
        env: dict[str, str] | None = None,
        command: Callable[[int], list[str]] = gunicorn_command,
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.workers = workers
        self.env = env or {}
        self.command = command
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> LiveServer:
        """Start the server and wait until /-/health answers 200."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(self.port),
                cwd=ROOT,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_healthy(time.monotonic() + timeout)
        return self

    def client(self) -> Client:
        return Client(self.port)

    def worker_pids(self) -> list[int]:
        """The pids of the master's children: its workers."""
        if self._process is None:
            return []
        master = self._process.pid
        pids: list[int] = []
        for task in os.listdir(f"/proc/{master}/task"):
            with open(f"/proc/{master}/task/{task}/children") as children:
                pids.extend(int(pid) for pid in children.read().split())
        return pids

    def stop(self, timeout: float = 15.0) -> None:
        """Stop gracefully with SIGTERM; SIGKILL what is left after ``timeout``."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Kill the master and all workers at once with SIGKILL, as a crash would."""
        if self._process is None:
            return
        self._signal(signal.SIGKILL)
        self._process.wait()
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _signal(self, number: signal.Signals) -> None:
        if self._process is None:
            return
        try:
            os.killpg(self._process.pid, number)
        except ProcessLookupError:
            return

    def _environment(self) -> dict[str, str]:
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DATASOURCE_", "GUNICORN_", "WEB_CONCURRENCY"))
        }
        return {
            **inherited,
            "DATASOURCE_DATA_DIR": str(self.data_dir),
            "WEB_CONCURRENCY": str(self.workers),
            **self.env,
        }

    def _wait_until_healthy(self, deadline: float) -> None:
        with self.client() as client:
            while time.monotonic() < deadline:
                if self._process is None or self._process.poll() is not None:
                    raise RuntimeError(
                        f"the server exited while starting:\n{self.log()}"
                    )
                try:
                    if client.request("GET", HEALTH_PATH).status == 200:
                        return
                except OSError:
                    client.close()
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not answer in time:\n{self.log()}")

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def increment_counter(port: int, path: str, increments: int) -> tuple[int, int]:
    """Add 1 to ``value`` of a document ``increments`` times with If-Match.

    Each cycle reads the document and its ETag, then PATCHes the new value on
    condition that the ETag is unchanged; a 412 means another writer came
    first, so the cycle starts again. Runs in a separate process of its own.

    :returns: (successful writes, 412 answers).
    """
    successes = conflicts = 0
    with Client(port) as client:
        while successes < increments:
            current = client.request("GET", path)
            patch = {"value": current.json()["value"] + 1}
            reply = client.request(
                "PATCH",
                path,
                patch,
                {
                    "If-Match": current.headers["etag"],
                    "Content-Type": "application/merge-patch+json",
                },
            )
            if reply.status == 412:
                conflicts += 1
                continue
            if reply.status != 200:
                raise RuntimeError(f"PATCH answered {reply.status}: {reply.body!r}")
            successes += 1
    return successes, conflicts
