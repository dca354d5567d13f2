"""The ``store`` fixture: every store implementation, a fresh empty one per test.

- ``sqlite``: a SQLite file under the test's temporary directory.
- ``mongo-standin-mongomock``: the MongoDB store on an in-process mongomock
  client, with a database name of its own; this is what CI runs.
- ``mongo-server``: instead of the stand-in, a real server when
  ``DATASOURCE_TEST_MONGODB_URL`` is set; its database is dropped afterwards.

A store whose module does not exist yet is skipped with a reason; once the
module exists, any failure to import it (or mongomock) is an error, so no
parameter can disappear silently.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from datasource.storage.base import Store

MONGODB_URL = os.environ.get("DATASOURCE_TEST_MONGODB_URL", "")


def _store_class(module_name: str, class_name: str) -> Any:
    """The store class, or a skip when its module is not written yet."""
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{module_name} does not exist yet")
    return getattr(importlib.import_module(module_name), class_name)


def _open_sqlite(tmp_path: Path) -> Iterator[Store]:
    store_class = _store_class("datasource.storage.sqlite", "SQLiteStore")
    store = store_class(str(tmp_path / "store.sqlite3"))
    yield store
    store.close()


def _open_mongomock(tmp_path: Path) -> Iterator[Store]:
    store_class = _store_class("datasource.storage.mongo", "MongoStore")
    import mongomock

    store = store_class(
        "mongodb://standin.invalid/",
        environment="test",
        database=f"datasource_test_{uuid.uuid4().hex}",
        client=mongomock.MongoClient(),
    )
    yield store
    store.close()


def _open_mongo_server(tmp_path: Path) -> Iterator[Store]:
    store_class = _store_class("datasource.storage.mongo", "MongoStore")
    import pymongo

    database = f"datasource_test_{uuid.uuid4().hex}"
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(
        MONGODB_URL, serverSelectionTimeoutMS=5000
    )
    # The URL's own database would win over ``database``: give the store none.
    parts = urlsplit(MONGODB_URL)
    url = urlunsplit((parts.scheme, parts.netloc, "/", parts.query, ""))
    store = store_class(url, environment="test", database=database, client=client)
    try:
        yield store
    finally:
        client.drop_database(database)
        store.close()
        client.close()


STORES: dict[str, Callable[[Path], Iterator[Store]]] = {"sqlite": _open_sqlite}
if MONGODB_URL:
    STORES["mongo-server"] = _open_mongo_server
else:
    STORES["mongo-standin-mongomock"] = _open_mongomock


@pytest.fixture(params=list(STORES), ids=list(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each implementation."""
    yield from STORES[request.param](tmp_path)
