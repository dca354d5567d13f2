"""Fuzz the running server through its own OpenAPI document with schemathesis.

A real ``gunicorn app:app`` serves a fresh data directory on a free loopback
port; schemathesis reads ``/-/openapi.json`` from it and sends generated
requests, valid and invalid, to every operation, then follows the document's
links in stateful sequences. It fails on any 5xx and on any response the
description does not allow: status, media type, required headers, body. The
run is bounded (examples per operation, a fixed seed) so that it stays under
a minute or so and sends the same requests every time.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SEED = 20260601
MAX_EXAMPLES = 20
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
STARTUP_SECONDS = 30
RUN_SECONDS = 240

pytestmark = pytest.mark.server


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment(data_dir):
    """This process's environment without datasource settings, plus a data dir."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATASOURCE_", "GUNICORN_", "WEB_CONCURRENCY"))
    }
    environment["DATASOURCE_DATA_DIR"] = str(data_dir)
    return environment


def _wait_until_healthy(url, process, log_path):
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/-/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer /-/health in time:\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """Base URL of a gunicorn serving the application over a fresh data dir."""
    work = tmp_path_factory.mktemp("fuzz-server")
    port = _free_port()
    log_path = work / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "app:app",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--threads=4",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_server_environment(work / "data"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_fuzz_every_operation_finds_no_server_error_or_spec_violation(
    server_url, tmp_path
):
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{server_url}/-/openapi.json",
        f"--checks={CHECKS}",
        # Generated requests, then stateful sequences along the document's
        # links. The coverage phase is left out for time: it sends some 3,000
        # boundary cases, nine in ten of them permutations of the where filter.
        "--phases=fuzzing,stateful",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        # One worker: with several, hypothesis parses lambda sources from
        # threads at once, which CPython 3.11's ast module does not survive.
        "--workers=1",
        "--request-timeout=10",
        "--generation-database=none",
        "--suppress-health-check=all",
        "--no-color",
    ]

    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
