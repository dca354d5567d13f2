"""What only the MongoDB store has: ObjectIds, escaped field names, the client
per process, database selection, redaction, driver errors, and the places where
MongoDB's own semantics differ from the query model.

The store runs on mongomock (the stand-in CI has) and, when
``DATASOURCE_TEST_MONGODB_URL`` is set, also on that server; the unreachable
server test uses the real driver against a closed port.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import types
import uuid

import mongomock
import pymongo
import pytest
import reference
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st
from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

from datasource.errors import (
    ConfigurationError,
    DatasourceError,
    DocumentNotFound,
    DuplicateDocument,
    InvalidDocument,
    InvalidQuery,
    InvalidRequest,
    StoreUnavailable,
)
from datasource.query import Comparison, Not, Query, Regex, Search, SortKey
from datasource.storage import mongo_client
from datasource.storage.mongo import MongoStore
from datasource.storage.mongo_client import database_name, redact_url
from datasource.storage.mongo_names import (
    EXTERNAL_VERSION,
    decode_collection,
    decode_field,
    encode_collection,
    encode_field,
)
from datasource.storage.mongo_query import LAST_CASED, caseless_pattern

SERVER_URL = os.environ.get("DATASOURCE_TEST_MONGODB_URL", "")
ENGINES = ["mongomock", *(["server"] if SERVER_URL else [])]


def without_database(url):
    """The URL naming no database (a named one would win over the test's own),
    authenticating against the one it named."""
    scheme, _, rest = url.partition("://")
    hosts, _, options = rest.partition("?")
    hosts, _, database = hosts.partition("/")
    if database and "authsource=" not in options.lower():
        options = "&".join(filter(None, [options, f"authSource={database}"]))
    return f"{scheme}://{hosts}/?{options}"


@pytest.fixture(params=ENGINES)
def engine(request):
    """A MongoDB client (mongomock, or a real server), the URL of the store and
    a fresh database name."""
    name = f"datasource_test_{uuid.uuid4().hex}"
    if request.param == "mongomock":
        yield mongomock.MongoClient(), "mongodb://standin.invalid/", name
        return
    url = without_database(SERVER_URL)
    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
    yield client, url, name
    client.drop_database(name)
    client.close()


@pytest.fixture
def store(engine):
    client, url, name = engine
    opened = MongoStore(url, environment="test", database=name, client=client)
    yield opened
    opened.close()


@pytest.fixture
def raw(engine, store):
    """The database under the store, as the driver sees it."""
    client, _, _ = engine
    return client[store.database_name]


# Ids


def test_insert_one_generated_id_is_object_id_returned_as_hex(store, raw):
    stored = store.insert_one("books", {"title": "x"})

    (row,) = raw["books"].find({})
    assert isinstance(row["_id"], ObjectId)
    assert str(row["_id"]) == stored.id
    assert store.find_one("books", stored.id).document == {
        "id": stored.id,
        "title": "x",
    }


@pytest.mark.parametrize(
    "document_id",
    [
        pytest.param(7, id="int"),
        pytest.param("7", id="str"),
        pytest.param("a b", id="text"),
    ],
)
def test_insert_one_client_id_is_stored_as_given(store, raw, document_id):
    store.insert_one("books", {"id": document_id})

    (row,) = raw["books"].find({})
    assert type(row["_id"]) is type(document_id)
    assert row["_id"] == document_id


def test_find_one_uppercase_hex_does_not_find_object_id(store):
    stored = store.insert_one("books", {})

    assert store.find_one("books", stored.id.upper()) is None


def test_insert_one_hex_string_after_object_id_raises_duplicate(store):
    stored = store.insert_one("books", {})

    with pytest.raises(DuplicateDocument):
        store.insert_one("books", {"id": stored.id})


def test_insert_many_hex_string_of_existing_object_id_raises_duplicate(store):
    stored = store.insert_one("books", {})

    with pytest.raises(DuplicateDocument) as caught:
        store.insert_many("books", [{"id": 1}, {"id": stored.id}])

    assert [detail.path for detail in caught.value.errors] == ["/1/id"]
    assert store.count("books") == 1


class _RacingClient:
    """A client on which another writer creates id 3 right after each ``find``,
    between the store's check of the ids and its insert."""

    def __init__(self, client):
        self._client = client

    def __getitem__(self, name):
        return _RacingDatabase(self._client[name])


class _RacingDatabase:
    def __init__(self, database):
        self._database = database

    def __getitem__(self, name):
        return _RacingCollection(self._database[name])

    def __getattr__(self, name):
        return getattr(self._database, name)


class _RacingCollection:
    def __init__(self, collection):
        self._collection = collection

    def find(self, *args, **kwargs):
        rows = list(self._collection.find(*args, **kwargs))
        self._collection.insert_one({"_id": 3, "id": 3, "_v": "x", "_t": []})
        return rows

    def __getattr__(self, name):
        return getattr(self._collection, name)


def test_insert_many_concurrent_duplicate_deletes_inserted_part():
    client = mongomock.MongoClient()
    store = MongoStore(
        "mongodb://h/db", environment="test", client=_RacingClient(client)
    )

    with pytest.raises(DuplicateDocument) as caught:
        store.insert_many("books", [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}])

    assert [detail.path for detail in caught.value.errors] == ["/2/id"]
    assert [row["_id"] for row in client["db"]["books"].find({})] == [3]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param({"n": 2**64}, "64 bits", id="integer-beyond-64-bits"),
        pytest.param({"id": 2**63}, "64-bit", id="id-beyond-64-bits"),
        pytest.param({"id": 1.5}, "wrong type", id="float-id"),
        pytest.param({"id": True}, "wrong type", id="boolean-id"),
        pytest.param({"id": "a/b"}, "'/'", id="slash-id"),
    ],
)
def test_insert_one_unstorable_document_raises_invalid_document(
    store, document, message
):
    with pytest.raises(InvalidDocument, match=message):
        store.insert_one("books", document)


# Versions


def test_versions_are_stored_hidden_and_change_on_write(store, raw):
    created = store.insert_one("books", {"id": 1})
    replaced = store.replace_one("books", "1", {"id": 1, "n": 2}).document

    (row,) = raw["books"].find({})
    assert row["_v"] == replaced.version != created.version
    assert replaced.document == {"id": 1, "n": 2}


def test_replace_one_star_version_existing_document_replaces(store):
    store.insert_one("books", {"id": 1})

    store.replace_one("books", "1", {"id": 1, "n": 2}, expected_version="*")

    assert store.find_one("books", "1").document == {"id": 1, "n": 2}


def test_delete_one_star_version_existing_document_deletes(store):
    store.insert_one("books", {"id": 1})

    store.delete_one("books", "1", expected_version="*")

    assert store.find_one("books", "1") is None


def test_replace_one_star_version_absent_document_raises_not_found(store):
    with pytest.raises(DocumentNotFound):
        store.replace_one("books", "1", {"id": 1}, expected_version="*")


def test_delete_one_star_version_absent_document_raises_not_found(store):
    with pytest.raises(DocumentNotFound):
        store.delete_one("books", "1", expected_version="*")


# Field names


ODD_NAMES = {
    "a.b": 1,
    "$x": {"$y": 2, "k.l": [{"$z": None}]},
    "_id": 3,
    "_v": 4,
    "_t": 5,
    "%25": 6,
    "": 7,
    "nul\u0000name": 8,
    "plain": {"_id": "nested"},
}


def test_insert_one_restricted_field_names_round_trip(store, raw):
    store.insert_one("docs", {"id": 1, **ODD_NAMES})

    (row,) = raw["docs"].find({})
    assert store.find_one("docs", "1").document == {"id": 1, **ODD_NAMES}
    assert store.find("docs", Query()).documents[0].document == {"id": 1, **ODD_NAMES}
    assert row["_id"] == 1
    assert not any(name.startswith("$") or "." in name for name in row)


@pytest.mark.parametrize(
    ("node", "ids"),
    [
        pytest.param(Comparison(("a.b",), "eq", 1), [1], id="dotted-name"),
        pytest.param(Comparison(("$x", "$y"), "gte", 2), [1], id="dollar-names"),
        pytest.param(Comparison(("_id",), "eq", 3), [1], id="client-id-field"),
        pytest.param(Comparison(("_v",), "exists", True), [1], id="client-v-field"),
        pytest.param(Comparison(("%25",), "eq", 6), [1], id="escape-character"),
        pytest.param(Comparison(("plain", "_id"), "eq", "nested"), [1], id="nested"),
        pytest.param(Comparison(("$x", "k.l", "$z"), "eq", None), [1, 2], id="deep"),
        pytest.param(Search("nested"), [1], id="search"),
    ],
)
def test_find_restricted_field_names_translate_paths(store, node, ids):
    store.insert_many("docs", [{"id": 1, **ODD_NAMES}, {"id": 2, "_id": "other"}])

    result = store.find("docs", Query(filter=node))

    assert [stored.id for stored in result.documents] == ids


def test_find_restricted_field_names_sort_and_project(store):
    store.insert_many("docs", [{"id": 1, "$x": 2, "a.b": "u"}, {"id": 2, "$x": 1}])

    query = Query(sort=(SortKey(("$x",)),), fields=(("a.b",),))
    documents = [stored.document for stored in store.find("docs", query).documents]

    assert documents == [{"id": 2}, {"id": 1, "a.b": "u"}]


@given(st.text(max_size=6))
def test_encode_field_any_name_round_trips_and_is_legal(name):
    encoded = encode_field(name)

    assert decode_field(encoded) == name
    assert encoded and not encoded.startswith("$")
    assert "." not in encoded and "\x00" not in encoded
    assert encoded not in {"_id", "_v", "_t"}


@pytest.mark.parametrize(
    "name", ["books", "system.users", "a..b", "a.", "a.b-c_d", "%2E"]
)
def test_encode_collection_name_round_trips_and_is_legal(name):
    encoded = encode_collection(name)

    assert decode_collection(encoded) == name
    assert not encoded.startswith("system.") and ".." not in encoded
    assert not encoded.endswith(".")


def test_list_collections_escaped_collection_names_listed_as_given(store):
    store.insert_one("system.x", {"id": 1})
    store.insert_one("a..b", {"id": 1})

    listed = [info.name for info in store.list_collections()]

    assert listed == ["a..b", "system.x"]
    assert store.drop_collection("system.x") is True


def test_drop_all_other_collections_of_database_stay(store, raw):
    store.insert_one("books", {"id": 1})
    raw["not an api name"].insert_one({"x": 1})

    store.drop_all()

    assert raw.list_collection_names() == ["not an api name"]
    assert store.list_collections() == []


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a$b", "x" * 65])
def test_find_invalid_collection_name_raises_invalid_request(store, name):
    with pytest.raises(InvalidRequest):
        store.find(name, Query())


# Query semantics where MongoDB's own differ from the model


SEMANTICS_DOCUMENTS = [
    {"id": 1, "a": [{"b": 1}], "n": [True, 2], "o": {"x": 1, "y": 2}},
    {"id": 2, "a": {"b": 1}, "n": 1, "o": {"y": 2, "x": 1}},
    {"id": 3, "a": {"0": 5}, "n": [[1]], "o": [{"x": 1, "y": 2}]},
    {"id": 4, "a": [5], "n": [1.0, "1"], "o": {"x": 1}},
    {"id": 5, "a": "Kelvin \u212a", "n": False, "o": "İstanbul"},
    {"id": 6, "n": [0, False], "o": ["ISTANBUL"]},
]


@pytest.mark.parametrize(
    "node",
    [
        pytest.param(Comparison(("a", "b"), "eq", 1), id="path-through-array"),
        pytest.param(Comparison(("a", "b"), "exists", True), id="exists-through-array"),
        pytest.param(Comparison(("a", "b"), "eq", None), id="null-through-array"),
        pytest.param(Comparison(("a", "0"), "eq", 5), id="numeric-segment"),
        pytest.param(Comparison(("n",), "eq", 1), id="number-not-true"),
        pytest.param(Comparison(("n",), "eq", True), id="true-not-number"),
        pytest.param(Comparison(("n",), "in", (0, True)), id="in-typed"),
        pytest.param(Comparison(("n",), "ne", False), id="ne-typed"),
        pytest.param(Comparison(("n",), "eq", [1]), id="nested-array-element"),
        pytest.param(Comparison(("o",), "eq", {"x": 1, "y": 2}), id="object-key-order"),
        pytest.param(Comparison(("o",), "in", ({"y": 2, "x": 1},)), id="object-in"),
        pytest.param(Not(Comparison(("o",), "eq", {"y": 2, "x": 1})), id="object-nor"),
        pytest.param(Comparison(("a",), "contains", "k"), id="contains-kelvin"),
        pytest.param(Comparison(("o",), "startswith", "i"), id="startswith-dotted-i"),
        pytest.param(Comparison(("o",), "contains", "i\u0307s"), id="contains-dot"),
        pytest.param(Comparison(("o",), "contains", "\u0307"), id="contains-mark"),
        pytest.param(Search("istan"), id="search-lowered"),
    ],
)
def test_find_mongodb_differences_answer_as_reference(store, node):
    store.insert_many("items", SEMANTICS_DOCUMENTS)
    query = Query(filter=node)

    result = store.find("items", query)

    expected = reference.evaluate_ids(SEMANTICS_DOCUMENTS, query)
    assert ([stored.id for stored in result.documents], result.total) == expected


@pytest.mark.parametrize(
    "operand",
    [pytest.param([1], id="array"), pytest.param({"k": 1}, id="object")],
)
def test_find_composite_operand_never_equates_true_with_one(request, store, operand):
    if request.node.callspec.params["engine"] == "mongomock":
        request.applymarker(
            pytest.mark.xfail(
                reason="mongomock compares composite values with Python's ==",
                strict=True,
            )
        )
    store.insert_many("items", [{"id": 1, "a": [True]}, {"id": 2, "a": {"k": True}}])

    result = store.find("items", Query(filter=Comparison(("a",), "eq", operand)))

    assert result.documents == []


SORT_DOCUMENTS = [
    {"id": 1, "v": [0]},
    {"id": 2, "v": {"k": 0}},
    {"id": 3, "v": "b"},
    {"id": 4, "v": [9, "z"]},
    {"id": 5, "v": True},
    {"id": 6, "v": 3},
    {"id": 7},
    {"id": 8, "v": {}},
    {"id": 9, "v": False},
    {"id": 10, "w": [{"x": 1}], "v": None},
    {"id": "k", "v": []},
]


@pytest.mark.parametrize(
    ("keys", "page"),
    [
        pytest.param((SortKey(("v",)),), (0, 100), id="ascending"),
        pytest.param((SortKey(("v",), True),), (0, 100), id="descending"),
        pytest.param((SortKey(("v",)),), (3, 4), id="page"),
        pytest.param((SortKey(("w", "x")), SortKey(("v",), True)), (0, 100), id="two"),
    ],
)
def test_find_sort_objects_and_arrays_by_type_rank_then_id(store, keys, page):
    store.insert_many("items", SORT_DOCUMENTS)
    query = Query(sort=keys, offset=page[0], limit=page[1])

    result = store.find("items", query)

    expected = reference.evaluate(SORT_DOCUMENTS, query)[0]
    assert [stored.document for stored in result.documents] == expected


def test_find_sort_objects_with_projection_returns_projected(store):
    store.insert_many("items", SORT_DOCUMENTS)
    query = Query(sort=(SortKey(("v",)),), fields=(("w",),), limit=3)

    documents = [stored.document for stored in store.find("items", query).documents]

    assert documents == reference.evaluate(SORT_DOCUMENTS, query)[0]


def test_caseless_pattern_lowering_table_covers_every_code_point():
    characters = [chr(code) for code in range(sys.maxunicode + 1)]
    changed = [char for char in characters if char.lower() != char]
    longer = [char for char in changed if len(char.lower()) > 1]

    assert ord(changed[-1]) == LAST_CASED
    assert longer == ["\u0130"]


@pytest.mark.parametrize(
    ("text", "anchored", "pattern"),
    [
        pytest.param("ab", False, "[aA][bB]", id="letters"),
        pytest.param("a.", True, "^[aA]\\x2e", id="punctuation-escaped"),
        pytest.param("1%", False, "1\\x25", id="digits-and-percent"),
        pytest.param("k", False, "[kK\u212a]", id="kelvin-sign"),
        pytest.param("i", True, "^[iI\u0130]", id="dotted-capital-at-end"),
    ],
)
def test_caseless_pattern_spells_character_classes(text, anchored, pattern):
    assert caseless_pattern(text, anchored=anchored) == pattern


def test_find_regex_that_does_not_compile_raises_invalid_query(store):
    store.insert_one("items", {"id": 1, "w": "a"})
    query = Query(filter=Comparison(("w",), "regex", Regex("(")))

    with pytest.raises(InvalidQuery, match="does not compile"):
        store.find("items", query)


# Indexes


def index_keys(raw, collection):
    return sorted(info["key"] for info in raw[collection].index_information().values())


def test_configured_indexes_created_on_first_write(engine):
    client, url, name = engine
    configured = MongoStore(
        url,
        environment="test",
        database=name,
        client=client,
        indexes={"books": (("author", "name"), ("$x",))},
    )

    configured.insert_one("books", {"id": 1})

    assert index_keys(client[name], "books") == [
        [("%%24x", 1), ("id", 1)],
        [("_id", 1)],
        [("author.name", 1), ("id", 1)],
        [("id", 1)],
    ]


def test_automatic_index_after_repeated_queries(engine):
    client, url, name = engine
    store = MongoStore(
        url, environment="test", database=name, client=client, auto_index_after=2
    )
    store.insert_one("books", {"id": 1, "pages": 5})
    query = Query(filter=Comparison(("pages",), "gt", 1), sort=(SortKey(("id",)),))

    store.find("books", query)
    before = index_keys(client[name], "books")
    store.find("books", query)

    assert [("pages", 1), ("id", 1)] not in before
    assert [("pages", 1), ("id", 1)] in index_keys(client[name], "books")


# Documents other tools wrote


def test_find_one_document_written_by_other_tool_is_served(store, raw):
    key = ObjectId()
    raw["books"].insert_one({"_id": key, "title": "x", "ref": ObjectId(str(key))})

    found = store.find_one("books", str(key))

    assert found.document == {"id": str(key), "title": "x", "ref": str(key)}
    assert found.version == EXTERNAL_VERSION


# Database selection, the client per process, redaction


@pytest.mark.parametrize(
    ("url", "database", "expected"),
    [
        pytest.param("mongodb://h/books", None, "books", id="url-path"),
        pytest.param("mongodb://h/books", "other", "books", id="url-path-first"),
        pytest.param("mongodb://h/", "given", "given", id="configured"),
        pytest.param("mongodb://h", None, "datasource_test", id="default"),
        pytest.param("mongodb://h/?tls=true", None, "datasource_test", id="options"),
        pytest.param(
            "mongodb://u:p%2F@h1,h2:27018/db?replicaSet=rs", None, "db", id="rs"
        ),
        pytest.param(
            "mongodb+srv://u:p@cluster0.example.net/prod", None, "prod", id="srv"
        ),
        pytest.param("mongodb://h/my%2Ddb", None, "my-db", id="escaped"),
        pytest.param("mongodb://h/db.coll", None, "db", id="namespace"),
    ],
)
def test_database_name_from_url_then_setting_then_environment(url, database, expected):
    assert database_name(url, "test", database) == expected


@pytest.mark.parametrize("database", ["a b", "a/b", "a$b", "x" * 64])
def test_database_name_invalid_raises_configuration_error(database):
    with pytest.raises(ConfigurationError, match="database name"):
        database_name("mongodb://h/", "test", database)


def test_store_uses_database_of_url():
    client = mongomock.MongoClient()
    store = MongoStore("mongodb://h/shop", environment="test", client=client)

    store.insert_one("books", {"id": 1})

    assert client["shop"]["books"].count_documents({}) == 1
    assert store.database_name == "shop"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("mongodb://h/db", "mongodb://h/?authSource=db", id="database"),
        pytest.param(
            "mongodb://h/db?tls=true",
            "mongodb://h/?tls=true&authSource=db",
            id="options",
        ),
        pytest.param(
            "mongodb://h/?authSource=admin", "mongodb://h/?authSource=admin", id="none"
        ),
    ],
)
def test_without_database_url_names_no_database(url, expected):
    assert without_database(url) == expected
    assert database_name(without_database(url), "test", "own") == "own"


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        pytest.param("mongodb://u:s3cret@h/db", "mongodb://u:***@h/db", id="password"),
        pytest.param(
            "mongodb+srv://u:p%40ss@c.example.net/?x=1",
            "mongodb+srv://u:***@c.example.net/?x=1",
            id="srv-escaped",
        ),
        pytest.param("mongodb://u@h/db", "mongodb://u@h/db", id="user-only"),
        pytest.param("mongodb://h:1/db", "mongodb://h:1/db", id="no-user"),
    ],
)
def test_redact_url_hides_password(url, redacted):
    assert redact_url(url) == redacted


class _Recorder:
    """Stands in for ``pymongo.MongoClient``: records each client created."""

    def __init__(self):
        self.created = []

    def __call__(self, url, **options):
        client = mongomock.MongoClient()
        self.created.append((url, options))
        return client


def test_client_created_lazily_once_per_process(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(mongo_client.pymongo, "MongoClient", recorder)
    process = types.SimpleNamespace(getpid=lambda: 100)
    monkeypatch.setattr(mongo_client, "os", process)
    store = MongoStore("mongodb://u:pw@h/db", environment="test", timeout_ms=1500)

    assert recorder.created == []
    store.ping()
    store.find("books", Query())
    process.getpid = lambda: 101
    store.ping()

    assert len(recorder.created) == 2
    url, options = recorder.created[0]
    assert url == "mongodb://u:pw@h/db"
    assert options["serverSelectionTimeoutMS"] == 1500
    assert options["connectTimeoutMS"] == 1500
    assert options["socketTimeoutMS"] == 1500 * mongo_client.SOCKET_TIMEOUT_FACTOR
    assert options["retryWrites"] is True


class _FailingClient:
    """A client whose every database command raises the given driver error."""

    def __init__(self, error):
        self.error = error

    def __getitem__(self, name):
        return self

    def command(self, name):
        raise self.error


PASSWORD = "s3cret-pw"
URL = f"mongodb://user:{PASSWORD}@db.example.net/app"


@pytest.mark.parametrize(
    ("error", "expected", "status"),
    [
        pytest.param(
            ServerSelectionTimeoutError(f"db.example.net {PASSWORD} timed out"),
            StoreUnavailable,
            503,
            id="server-selection",
        ),
        pytest.param(
            AutoReconnect("connection reset"), StoreUnavailable, 503, id="reconnect"
        ),
        pytest.param(
            OperationFailure("Authentication failed.", code=18),
            StoreUnavailable,
            503,
            id="authentication",
        ),
        pytest.param(
            OperationFailure("Regular expression is invalid", code=51091),
            InvalidQuery,
            400,
            id="regex",
        ),
        pytest.param(OperationFailure("odd", code=1), DatasourceError, 500, id="other"),
    ],
)
def test_driver_errors_become_domain_errors(error, expected, status, caplog):
    store = MongoStore(URL, environment="test", client=_FailingClient(error))
    caplog.set_level(logging.DEBUG, logger="datasource.storage")

    with pytest.raises(expected) as caught:
        store.ping()

    assert type(caught.value) is expected
    assert caught.value.status == status
    assert caught.value.__cause__ is error
    assert PASSWORD not in caught.value.detail
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_unreachable_server_raises_store_unavailable_quickly(caplog):
    caplog.set_level(logging.DEBUG, logger="datasource.storage")
    url = f"mongodb://user:{PASSWORD}@127.0.0.1:1/?directConnection=true"
    store = MongoStore(url, environment="test", timeout_ms=1000)
    started = time.monotonic()

    try:
        with pytest.raises(StoreUnavailable) as caught:
            store.find("books", Query())
    finally:
        store.close()

    assert time.monotonic() - started < 5
    assert "user:***@127.0.0.1:1" in caught.value.detail
    assert PASSWORD not in caught.value.detail
    assert any("user:***@" in record.getMessage() for record in caplog.records)
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)


def test_store_url_of_other_scheme_raises_configuration_error():
    with pytest.raises(ConfigurationError, match="mongodb://"):
        MongoStore("postgres://u:pw@h/db", environment="test")
