"""The same ``app:app`` under granian, the faster WSGI server the README offers.

Not the whole suite again: the requests whose handling depends on the server
(bodies of a declared length and chunked ones, a body cut short, conditional
requests, the request log) answer as they do under gunicorn.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import Client, LiveServer, granian_command

pytestmark = pytest.mark.server

BOOKS = "/test/books"


@pytest.fixture
def granian(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A granian server with two workers; yields its port and its log file."""
    log_path = tmp_path / "granian.log"
    server = LiveServer(tmp_path / "data", log_path, command=granian_command)
    with server.start():
        yield server.port, log_path


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
