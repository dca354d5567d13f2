"""An environment configured with a MongoDB URL, end to end through the CLI and HTTP.

The README's steps (set ``DATASOURCE_ENV_TEST_URL``, import books.json, query)
run here with the MongoDB store's client replaced by mongomock, the in-process
stand-in: CI has no MongoDB server. The answers are compared with those of the
same steps on the embedded SQLite store.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import mongomock
import pytest
from click.testing import CliRunner

from datasource.app import create_app
from datasource.cli import main
from datasource.config import load_config
from datasource.storage import mongo

BOOKS = Path(__file__).resolve().parents[2] / "shared" / "data" / "books.json"

QUERIES = [
    "authors=Vikram%20Goyal",
    "pageCount[gt]=500&sort=-pageCount&limit=5",
    'where={"$or":[{"status":"MEAP"},{"pageCount":{"$lt":100}}]}',
    "fields=title&limit=1000",
    "sort=title&limit=7&offset=30",
    "q=android&sort=-publishedDate",
]


@pytest.fixture
def standin_client(monkeypatch):
    """Every MongoDB client the application creates is one shared mongomock."""
    client = mongomock.MongoClient()
    monkeypatch.setattr(mongo.pymongo, "MongoClient", lambda *args, **kw: client)
    return client


def _environ(tmp_path: Path, test_url: str | None) -> dict[str, str]:
    environ = {"DATASOURCE_DATA_DIR": str(tmp_path / "data")}
    if test_url:
        environ["DATASOURCE_ENV_TEST_URL"] = test_url
    return environ


def _import_and_serve(tmp_path, monkeypatch, test_url):
    if not BOOKS.exists():
        pytest.skip(f"{BOOKS} is not there: the shared data sits next to the clone")
    environ = _environ(tmp_path, test_url)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    result = CliRunner().invoke(main, ["import", "test", "books", str(BOOKS)])
    assert result.exit_code == 0, result.output
    assert result.output == "Imported 431 documents into test/books.\n"

    return create_app(load_config(environ)).test_client()


def _answers(client) -> list[tuple[str, str | None, list]]:
    answers = []
    for query in QUERIES:
        response = client.get(f"/test/books?{query}")
        assert response.status_code == 200, response.get_json()
        answers.append(
            (query, response.headers["X-Total-Count"], json.loads(response.data))
        )
    return answers


def test_mongodb_environment_serves_the_same_answers_as_sqlite(
    tmp_path, monkeypatch, standin_client
):
    on_sqlite = _answers(_import_and_serve(tmp_path / "a", monkeypatch, None))
    on_mongodb = _answers(
        _import_and_serve(
            tmp_path / "b", monkeypatch, "mongodb://standin.invalid/datasource_test"
        )
    )

    assert standin_client["datasource_test"]["books"].count_documents({}) == 431
    assert on_mongodb == on_sqlite
    assert [len(documents) for _, _, documents in on_sqlite][:2] == [12, 5]


def test_unreachable_mongodb_environment_gives_503_and_others_keep_working(
    tmp_path,
):
    environ = _environ(
        tmp_path, "mongodb://user:secret@127.0.0.1:1/?directConnection=true"
    )
    environ["DATASOURCE_MONGODB_TIMEOUT_MS"] = "1000"
    client = create_app(load_config(environ)).test_client()
    started = time.monotonic()

    response = client.get("/test/books")

    assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)
    assert client.post("/production/books", json={"id": 1}).status_code == 201
    assert client.get("/production/books/1").status_code == 200
