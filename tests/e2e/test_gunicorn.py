"""End-to-end tests against a real ``gunicorn app:app`` with several workers.

They check what only a real server shows: data on disk outlives the server,
workers writing at once lose nothing, a crash (SIGKILL of the master and every
worker) loses no acknowledged write, conditional writes from several
processes lose no update, and a browser preflight passes.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import socket
import subprocess
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from live_server import GUNICORN, ROOT, Client, LiveServer, increment_counter

pytestmark = pytest.mark.server

ITEMS = "/test/items"


@pytest.fixture
def start_server(tmp_path):
    """Start servers over one data directory; stop them all after the test."""
    started: list[LiveServer] = []

    def start(workers: int = 2) -> LiveServer:
        log_path = tmp_path / f"gunicorn-{len(started)}.log"
        server = LiveServer(tmp_path / "data", log_path, workers=workers)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def all_ids(client: Client, path: str) -> list:
    """Every id in a collection, a page of 1000 at a time."""
    ids: list = []
    while True:
        reply = client.request("GET", f"{path}?fields=id&limit=1000&offset={len(ids)}")
        assert reply.status == 200, reply.body
        page = [document["id"] for document in reply.json()]
        ids += page
        if len(page) < 1000:
            return ids


SAMPLE_DOCUMENTS = [
    {"id": 1, "title": "Unlocking Android", "pageCount": 416, "price": 39.99},
    {"id": "b-2", "tags": ["a", "ü", "日本"], "nested": {"deep": [1, {"x": None}]}},
    {"id": 3, "big": 9007199254740993, "flag": True, "empty": {}, "none": None},
]


def test_restart_written_documents_survive(start_server):
    server = start_server()
    with server.client() as client:
        for document in SAMPLE_DOCUMENTS:
            assert client.request("POST", ITEMS, document).status == 201
        patched = client.request("PATCH", f"{ITEMS}/1", {"pageCount": 417})
        assert patched.status == 200
        assert client.request("DELETE", f"{ITEMS}/3").status == 204
        before = {key: client.request("GET", f"{ITEMS}/{key}") for key in (1, "b-2")}
    server.stop()

    server = start_server()
    with server.client() as client:
        for key, reply in before.items():
            after = client.request("GET", f"{ITEMS}/{key}")
            assert after.status == 200
            assert after.json() == reply.json()
            assert after.headers["etag"] == reply.headers["etag"]
        assert client.request("GET", f"{ITEMS}/3").status == 404
        assert client.request("GET", f"{ITEMS}/1").json()["pageCount"] == 417


def post_items(port: int, writer: int, count: int) -> list:
    """POST ``count`` documents; return the ids the server gave them."""
    ids = []
    with Client(port) as client:
        for number in range(count):
            reply = client.request("POST", ITEMS, {"writer": writer, "n": number})
            assert reply.status == 201, reply.body
            ids.append(reply.json()["id"])
    return ids


def test_two_workers_concurrent_posts_lose_none(start_server):
    server = start_server(workers=2)
    assert len(server.worker_pids()) == 2

    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(post_items, [server.port] * 4, range(4), [100] * 4))

    created = [document_id for batch in batches for document_id in batch]
    assert len(set(created)) == 400
    with server.client() as client:
        reply = client.request("GET", f"{ITEMS}?limit=1")
        assert reply.headers["x-total-count"] == "400"
        assert sorted(all_ids(client, ITEMS)) == sorted(created)


class WriteLoad:
    """Writer threads that record every write the server acknowledged.

    Each writer POSTs documents with ids of its own and, every few writes,
    PUTs an increasing ``value`` into a counter document of its own.
    """

    def __init__(self, port: int, writers: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.created: list[list[str]] = [[] for _ in range(writers)]
        self.last_value = [0] * writers
        self.threads = [
            threading.Thread(target=self._write, args=(writer,))
            for writer in range(writers)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def acknowledged(self) -> int:
        return sum(len(ids) for ids in self.created)

    def _write(self, writer: int) -> None:
        with Client(self.port, timeout=5) as client:
            number = 0
            while not self.stop.is_set():
                number += 1
                try:
                    self._write_once(client, writer, number)
                except (OSError, http.client.HTTPException):
                    return  # the server is gone: a crash ends the load

    def _write_once(self, client: Client, writer: int, number: int) -> None:
        document_id = f"w{writer}-{number}"
        reply = client.request("POST", ITEMS, {"id": document_id, "n": number})
        if reply.status == 201:
            self.created[writer].append(document_id)
        if number % 5 == 0:
            path = f"/test/counters/w{writer}"
            reply = client.request("PUT", path, {"value": number})
            if reply.status in (200, 201):
                self.last_value[writer] = number


def test_sigkill_mid_load_acknowledged_writes_survive(start_server):
    server = start_server(workers=3)
    load = WriteLoad(server.port, writers=4)
    load.start()
    deadline = time.monotonic() + 20
    while load.acknowledged() < 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    load.join()
    assert load.acknowledged() >= 200

    server = start_server(workers=3)
    with server.client() as client:
        stored = set(all_ids(client, ITEMS))
        for writer, value in enumerate(load.last_value):
            reply = client.request("GET", f"/test/counters/w{writer}")
            assert reply.status == (200 if value else 404)
            assert reply.status == 404 or reply.json()["value"] >= value
    acknowledged = {document_id for ids in load.created for document_id in ids}
    assert acknowledged - stored == set()


def test_if_match_concurrent_increments_lose_none(start_server):
    server = start_server(workers=2)
    path = "/test/counters/hits"
    with server.client() as client:
        assert client.request("PUT", path, {"value": 0}).status == 201

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        results = list(
            pool.map(increment_counter, [server.port] * 4, [path] * 4, [25] * 4)
        )

    successes = sum(success for success, _ in results)
    assert successes == 100
    with server.client() as client:
        assert client.request("GET", path).json()["value"] == successes


def test_preflight_patch_from_browser_allowed(start_server):
    server = start_server()
    origin = "http://localhost:3000"
    with server.client() as client:
        preflight = client.request(
            "OPTIONS",
            f"{ITEMS}/1",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "content-type, if-match",
            },
        )
        created = client.request("POST", ITEMS, {"id": 1}, {"Origin": origin})

    assert preflight.status in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", origin)
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    allowed_headers = preflight.headers["access-control-allow-headers"].lower()
    assert "if-match" in allowed_headers
    exposed = created.headers["access-control-expose-headers"].lower()
    for header in ("etag", "location", "link", "x-total-count"):
        assert header in exposed


def test_every_request_is_one_log_line_with_its_request_id(start_server):
    server = start_server()
    with server.client() as client:
        ids = [
            client.request("GET", f"{ITEMS}/absent").headers["x-request-id"]
            for _ in range(20)
        ]

        # Lines are written in batches at most a second apart, while serving.
        deadline = time.monotonic() + 10
        while not all(f"request_id={rid}" in server.log() for rid in ids):
            assert time.monotonic() < deadline, server.log()[-2000:]
            time.sleep(0.1)

    lines = [line for line in server.log().splitlines() if "request_id=" in line]
    for request_id in ids:
        (line,) = [line for line in lines if line.endswith(f"request_id={request_id}")]
        assert f"GET {ITEMS}/absent 404 " in line
        assert "[INFO] datasource.api.tracing:" in line


def listening_sockets(port: int) -> int:
    """How many sockets listen on a loopback port (Linux's /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1] == local and row[3] == "0A")


def test_each_worker_listens_on_a_socket_of_its_own(start_server):
    server = start_server(workers=3)
    # The first worker to listen answers the health check; the others follow.
    deadline = time.monotonic() + 10
    while listening_sockets(server.port) < 3:
        assert time.monotonic() < deadline, server.log()[-2000:]
        time.sleep(0.05)
    assert listening_sockets(server.port) == 3


def test_connections_opened_at_once_reach_every_worker(start_server):
    server = start_server(workers=2)
    clients = [server.client() for _ in range(32)]
    try:
        ids = [
            client.request("GET", f"{ITEMS}/absent").headers["x-request-id"]
            for client in clients
        ]
        deadline = time.monotonic() + 10
        while not all(f"request_id={rid}" in server.log() for rid in ids):
            assert time.monotonic() < deadline, server.log()[-2000:]
            time.sleep(0.1)
    finally:
        for client in clients:
            client.close()

    serving = {
        line.split("] [")[1]
        for line in server.log().splitlines()
        if any(line.endswith(f"request_id={rid}") for rid in ids)
    }
    # Each connection lands on a worker's own socket by the hash of its
    # addresses: all 32 on one of two workers has odds of 1 in 2**31.
    assert serving == {str(pid) for pid in server.worker_pids()}


def gunicorn_until_exit(bind: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``gunicorn app:app`` on ``bind``, expecting it to stop by itself."""
    return subprocess.run(
        [str(GUNICORN), "app:app", "--bind", bind],
        cwd=ROOT,
        env={**os.environ, "DATASOURCE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_second_server_on_a_busy_port_exits_with_a_message(start_server, tmp_path):
    first = start_server()
    second = gunicorn_until_exit(f"127.0.0.1:{first.port}", tmp_path / "other")
    assert second.returncode != 0
    assert f"Another server already listens on 127.0.0.1:{first.port}" in (
        second.stderr
    )
    with first.client() as client:
        assert client.request("GET", f"{ITEMS}/absent").status == 404


def test_address_not_of_this_machine_exits_with_a_message(tmp_path):
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
    result = gunicorn_until_exit("192.0.2.1:8000", tmp_path / "data")
    assert result.returncode != 0
    assert "Cannot listen on 192.0.2.1:8000" in result.stderr
    assert "Traceback" not in result.stderr


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send bytes as they are and read the reply until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\n{}\r\n0\r\n\r\n",  # a chunk size that is not hexadecimal
        b'-7\r\n{"a":1}\r\n0\r\n\r\n',  # a negative size
        b'7\r\n{"a":1}XX0\r\n\r\n',  # no CRLF after the chunk's data
        b'7\r\n{"a"',  # the connection ends inside a chunk
    ],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_malformed_chunked_body_is_a_problem_and_writes_nothing(
    start_server, method, body
):
    server = start_server()
    with server.client() as client:
        assert client.request("PUT", f"{ITEMS}/1", {"a": 0}).status == 201
    path = ITEMS if method == "POST" else f"{ITEMS}/1"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    reply = raw_exchange(server.port, head.encode() + body)

    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.split()[1] == b"400", reply
    assert b"application/problem+json" in rest
    assert b"Traceback" not in reply
    with server.client() as client:
        listed = client.request("GET", ITEMS)
    assert [item["a"] for item in listed.json()] == [0]
