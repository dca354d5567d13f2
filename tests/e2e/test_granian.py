"""The same ``app:app`` under granian, the faster WSGI server the README offers.

Not the whole suite again: the requests whose handling depends on the server
(bodies of a declared length and chunked ones, a body cut short, conditional
requests, the request log) answer as they do under gunicorn.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import HEALTH_PATH, ROOT, Client, free_port

pytestmark = pytest.mark.server

GRANIAN = Path(sys.executable).parent / "granian"
BOOKS = "/test/books"


@pytest.fixture
def granian(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A granian server with two workers; yields its port and its log file."""
    port = free_port()
    log_path = tmp_path / "granian.log"
    command = [
        str(GRANIAN),
        "--interface=wsgi",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=2",
        "--blocking-threads=4",
        "--no-ws",
        "app:app",
    ]
    environment = {**os.environ, "DATASOURCE_DATA_DIR": str(tmp_path / "data")}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_healthy(process, port, log_path)
        yield port, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_healthy(
    process: subprocess.Popen[bytes], port: int, log_path: Path
) -> None:
    deadline = time.monotonic() + 30
    with Client(port) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"granian exited:\n{log_path.read_text()}")
            try:
                if client.request("GET", HEALTH_PATH).status == 200:
                    return
            except OSError:
                client.close()
            time.sleep(0.05)
    raise RuntimeError(f"granian did not answer in time:\n{log_path.read_text()}")


def test_documents_are_created_read_patched_and_listed(granian):
    port, _log = granian
    with Client(port) as client:
        created = client.request("POST", BOOKS, {"title": "Dune", "pageCount": 412})
        assert created.status == 201
        location = created.headers["location"]
        path = location.removeprefix(f"http://127.0.0.1:{port}")
        etag = created.headers["etag"]

        assert client.request("GET", path, headers={"If-None-Match": etag}).status == (
            304
        )
        patched = client.request(
            "PATCH",
            path,
            b'{"pageCount": 413}',
            {"Content-Type": "application/merge-patch+json", "If-Match": etag},
        )
        assert patched.status == 200
        assert patched.json()["pageCount"] == 413

        listed = client.request("GET", f"{BOOKS}?pageCount[gt]=400")
        assert listed.status == 200
        assert listed.headers["x-total-count"] == "1"
        assert [book["title"] for book in listed.json()] == ["Dune"]


def test_chunked_body_is_read_whole(granian):
    port, _log = granian
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    chunks = iter([b'{"title": ', b'"Emma", ', b'"pageCount": 474}'])
    connection.request(
        "POST",
        BOOKS,
        body=chunks,
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()

    assert response.status == 201, body
    assert b'"title":"Emma"' in body


def test_body_shorter_than_its_length_is_a_problem_not_a_crash(granian):
    port, _log = granian
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", BOOKS)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "50")
    connection.endheaders(b'{"title": "cut')
    connection.sock.shutdown(1)  # no more bytes will come
    response = connection.getresponse()
    body = response.read()
    connection.close()

    assert response.status == 400, body
    assert b"Traceback" not in body
    with Client(port) as client:
        assert client.request("GET", BOOKS).headers["x-total-count"] == "0"


def test_every_request_is_logged_with_its_request_id(granian):
    port, log_path = granian
    with Client(port) as client:
        reply = client.request("GET", f"{BOOKS}/absent")
    request_id = reply.headers["x-request-id"]

    deadline = time.monotonic() + 10
    while f"request_id={request_id}" not in log_path.read_text():
        assert time.monotonic() < deadline, log_path.read_text()[-2000:]
        time.sleep(0.1)
    (line,) = [
        line
        for line in log_path.read_text().splitlines()
        if line.endswith(f"request_id={request_id}")
    ]
    assert f"GET {BOOKS}/absent 404 " in line
