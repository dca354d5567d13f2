"""The ceiling: the least a Flask + gunicorn + SQLite app can do per request.

Each request makes exactly one SQLite statement on a per-thread connection
opened once (after gunicorn forks): a primary-key lookup, an insert or an
update with JSON Merge Patch done inside SQLite. Nothing checks, versions or
logs anything, so no real service on this stack can be faster; datasource's
rates are printed as ratios of these.

Serve it as the benchmark does: ``BENCH_CEILING_DATABASE=path gunicorn
bench.ceiling_app:app`` from the repository root, with gunicorn.conf.py.
"""

from __future__ import annotations

import os
import sqlite3
import threading

import orjson
from flask import Flask, Response, request

_local = threading.local()


def _connection() -> sqlite3.Connection:
    """This thread's connection, opened on its first request."""
    connection: sqlite3.Connection | None = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(
            os.environ["BENCH_CEILING_DATABASE"], check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=5000")
        _local.connection = connection
    return connection


def _json(body: str | bytes, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/json")


def create_app() -> Flask:
    """The three routes, under the same paths as datasource's test environment."""
    flask_app = Flask(__name__)

    @flask_app.get("/test/books/<document_id>")
    def read(document_id: str) -> Response:
        row = (
            _connection()
            .execute("SELECT body FROM documents WHERE id = ?", (document_id,))
            .fetchone()
        )
        return _json(row[0]) if row else _json(b"{}", 404)

    @flask_app.post("/test/books")
    def create() -> Response:
        document = orjson.loads(request.get_data())
        document["id"] = os.urandom(12).hex()
        body = orjson.dumps(document)
        connection = _connection()
        with connection:
            connection.execute(
                "INSERT INTO documents VALUES (?, ?)", (document["id"], body.decode())
            )
        return _json(body, 201)

    @flask_app.patch("/test/books/<document_id>")
    def update(document_id: str) -> Response:
        patch = orjson.dumps(orjson.loads(request.get_data())).decode()
        connection = _connection()
        with connection:
            row = connection.execute(
                "UPDATE documents SET body = json_patch(body, ?) WHERE id = ? "
                "RETURNING body",
                (patch, document_id),
            ).fetchone()
        return _json(row[0]) if row else _json(b"{}", 404)

    return flask_app


app = create_app()
