"""What only the SQLite store promises: its file, its schema, its indexes and its
behaviour under several processes. The store-neutral contract lives in
test_crud_contract.py and the query suites."""

from __future__ import annotations

import json
import logging
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from datasource.errors import (
    ConfigurationError,
    DocumentNotFound,
    DuplicateDocument,
    InvalidDocument,
    InvalidQuery,
    InvalidRequest,
    StoreUnavailable,
    VersionMismatch,
)
from datasource.query import Comparison, Query, Regex, Search, SortKey
from datasource.storage.sqlite import SQLiteStore
from datasource.storage.sqlite_counts import TotalCache
from datasource.storage.sqlite_query import (
    FieldIndex,
    register_functions,
    translate_filter,
    translate_query,
)
from datasource.storage.sqlite_tables import count_rows, read_catalog


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "test.sqlite3"


@pytest.fixture
def store(database: Path):
    store = SQLiteStore(str(database), auto_index_after=0)
    yield store
    store.close()


def _raw(database: Path) -> sqlite3.Connection:
    """A plain connection to the store's file, as any SQLite tool would open it."""
    connection = sqlite3.connect(database)
    register_functions(connection)
    return connection


def _table(database: Path, collection: str) -> str:
    with _raw(database) as connection:
        row = connection.execute(
            "SELECT id FROM catalog_collections WHERE name = ?", (collection,)
        ).fetchone()
    return f"c_{row[0]}"


def _field_indexes(database: Path, collection: str) -> dict[tuple, FieldIndex]:
    """The indexed paths of a collection, read from the catalog tables."""
    with _raw(database) as connection:
        rows = connection.execute(
            "SELECT c.id, i.id, i.path FROM catalog_indexes AS i "
            "JOIN catalog_collections AS c ON c.id = i.collection_id "
            "WHERE c.name = ?",
            (collection,),
        ).fetchall()
    return {
        tuple(json.loads(path)): FieldIndex(
            f"c_{table}_x{number}", number, f"c_{table}_e"
        )
        for table, number, path in rows
    }


def _indexed_paths(database: Path, collection: str) -> set[tuple[str, ...]]:
    return set(_field_indexes(database, collection))


def _plan(
    database: Path, collection: str, query: Query, has_arrays: bool = False
) -> str:
    """SQLite's plan for the page query the store runs, as one text."""
    indexes = _field_indexes(database, collection)
    translation = translate_query(query, indexes, lambda path: has_arrays)
    sql = (
        f"SELECT id FROM {_table(database, collection)} WHERE {translation.where} "
        f"ORDER BY {translation.order_by} LIMIT 20"
    )
    with _raw(database) as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", translation.params)
        return "\n".join(row[3] for row in rows)


# The file


def test_open_missing_directory_creates_it(database):
    SQLiteStore(str(database)).close()

    assert database.parent.is_dir()


def test_write_database_uses_wal_journal(store, database):
    store.insert_one("books", {"id": 1})

    with _raw(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_open_unknown_synchronous_mode_raises_configuration_error(database):
    with pytest.raises(ConfigurationError, match="SOMETIMES"):
        SQLiteStore(str(database), synchronous="SOMETIMES")


def test_two_paths_keep_separate_documents(tmp_path):
    production = SQLiteStore(str(tmp_path / "production.sqlite3"))
    test = SQLiteStore(str(tmp_path / "test.sqlite3"))

    production.insert_one("books", {"id": 1, "title": "kept"})

    assert test.find_one("books", "1") is None
    assert production.find_one("books", "1").document["title"] == "kept"
    assert sorted(path.name for path in tmp_path.glob("*.sqlite3")) == [
        "production.sqlite3",
        "test.sqlite3",
    ]
    production.close()
    test.close()


def test_reopen_after_close_keeps_documents_and_versions(database):
    first = SQLiteStore(str(database))
    stored = first.insert_one("books", {"id": "a", "n": [1, 2.5, None]})
    first.close()

    second = SQLiteStore(str(database))

    assert second.find_one("books", "a") == stored
    second.close()


def test_read_never_written_collection_creates_no_table(store, database):
    assert store.find("books", Query()).total == 0
    assert store.count("books") == 0

    with _raw(database) as connection:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE name GLOB 'c_[0-9]*'"
        ).fetchall()
    assert tables == []


def test_drop_collection_removes_its_table(store, database):
    store.insert_one("books", {"id": 1})
    table = _table(database, "books")

    store.drop_collection("books")

    with _raw(database) as connection:
        found = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE tbl_name = ?", (table,)
        ).fetchone()
    assert found == (0,)


@pytest.mark.parametrize(
    "name", ["", "a b", "../books", "-books", "a" * 65, "books;drop"]
)
def test_collection_name_outside_contract_raises_invalid_request(store, name):
    with pytest.raises(InvalidRequest, match="collection name"):
        store.insert_one(name, {"id": 1})


# Ids


@pytest.mark.parametrize(
    ("document_id", "sqlite_type"),
    [(7, "integer"), ("7", "text"), (-(2**63), "integer"), ("ünï cödé", "text")],
    ids=["int", "digit-string", "int64-min", "unicode"],
)
def test_insert_id_keeps_its_json_type(store, database, document_id, sqlite_type):
    store.insert_one("books", {"id": document_id})

    with _raw(database) as connection:
        row = connection.execute(
            f"SELECT typeof(id), json_type(body, '$.id') "
            f"FROM {_table(database, 'books')}"
        ).fetchone()
    assert row[0] == sqlite_type
    assert store.find_one("books", str(document_id)).id == document_id


def test_insert_without_id_generates_object_id_hex(store):
    stored = store.insert_one("books", {"title": "x"})

    assert isinstance(stored.id, str) and len(stored.id) == 24
    int(stored.id, 16)
    assert stored.document == {"id": stored.id, "title": "x"}


@pytest.mark.parametrize(
    ("existing", "new"),
    [(1, "1"), ("1", 1), (-5, "-5"), ("-5", -5), (0, "0")],
    ids=["int-then-str", "str-then-int", "negative", "negative-str", "zero"],
)
def test_insert_id_spelling_existing_id_raises_duplicate(store, existing, new):
    store.insert_one("books", {"id": existing})

    with pytest.raises(DuplicateDocument, match="already exists"):
        store.insert_one("books", {"id": new})


@pytest.mark.parametrize(
    ("existing", "new"),
    [(1, "01"), (1, "+1"), (1, "1.0"), (10, "1e1"), (1, " 1")],
    ids=["leading-zero", "plus", "decimal", "exponent", "space"],
)
def test_insert_non_canonical_spelling_coexists(store, existing, new):
    store.insert_one("books", {"id": existing})
    store.insert_one("books", {"id": new})

    assert store.find_one("books", str(existing)).id == existing
    assert store.find_one("books", new).id == new


@pytest.mark.parametrize(
    ("document_id", "message"),
    [
        (True, "wrong type"),
        (1.5, "wrong type"),
        (None, "wrong type"),
        ({"a": 1}, "wrong type"),
        ([1], "wrong type"),
        ("", "non-empty"),
        ("a/b", "must not contain '/'"),
        (2**63, "64-bit"),
        (-(2**63) - 1, "64-bit"),
    ],
    ids=["bool", "float", "null", "object", "array", "empty", "slash", "big", "small"],
)
def test_insert_unusable_id_raises_invalid_document(store, document_id, message):
    with pytest.raises(InvalidDocument, match=message):
        store.insert_one("books", {"id": document_id})


def test_insert_many_duplicate_in_batch_names_index_and_stores_nothing(store):
    store.insert_one("books", {"id": "x"})

    with pytest.raises(DuplicateDocument) as caught:
        store.insert_many("books", [{"id": 1}, {"id": 2}, {"id": "2"}, {"id": 3}])

    assert [error.path for error in caught.value.errors] == ["/2/id"]
    assert '"2"' in caught.value.detail
    assert store.count("books") == 1


def test_replace_existing_keeps_stored_id_type(store):
    store.insert_one("books", {"id": 5, "title": "old"})

    result = store.replace_one("books", "5", {"id": "5", "title": "new"})

    assert result.created is False
    assert result.document.document == {"id": 5, "title": "new"}
    assert store.find_one("books", "5").document == {"id": 5, "title": "new"}


def test_replace_with_wildcard_version_replaces_existing(store):
    store.insert_one("books", {"id": 5})

    result = store.replace_one("books", "5", {"id": 5, "n": 1}, expected_version="*")

    assert result.document.document == {"id": 5, "n": 1}


# Import


def test_import_many_batches_returns_count(store):
    documents = ({"id": number, "n": number % 7} for number in range(2500))

    assert store.import_documents("books", documents, batch_size=1000) == 2500
    assert store.count("books", Comparison(("n",), "eq", 3)) == 357


def test_import_stream_failing_midway_stores_nothing(store):
    def documents():
        for number in range(1500):
            yield {"id": number}
        raise ValueError("line 1501 is not JSON")

    with pytest.raises(ValueError, match="line 1501"):
        store.import_documents("books", documents(), batch_size=500)

    assert store.count("books") == 0
    assert store.list_collections() == []


def test_import_duplicate_raises_naming_id_and_stores_nothing(store):
    store.insert_one("books", {"id": "kept"})
    documents = [{"id": number} for number in range(1200)] + [{"id": 1100}]

    with pytest.raises(DuplicateDocument, match="1100") as caught:
        store.import_documents("books", iter(documents), batch_size=500)

    assert caught.value.errors[0].path == "/1200/id"
    assert store.count("books") == 1


# Queries the SQLite way


@pytest.mark.parametrize(
    "path",
    [('say "hi"',), ("back\\slash",), ("tab\there",), ("",), ("a", "")],
    ids=["quote", "backslash", "control", "empty", "empty-segment"],
)
def test_find_inexpressible_field_name_raises_invalid_query(store, path):
    store.insert_one("books", {"id": 1})

    with pytest.raises(InvalidQuery, match="field"):
        store.find("books", Query(Comparison(path, "eq", 1)))


@pytest.mark.parametrize(
    "key", ["address line 2", "a.b", "$set", "it's", "ключ"], ids=str
)
def test_find_unusual_field_name_matches_stored_key(store, key):
    store.insert_one("places", {"id": 1, key: "here", "a": {"b": "nested"}})
    store.insert_one("places", {"id": 2, key: "there"})

    found = store.find("places", Query(Comparison((key,), "eq", "here")))

    assert [document.id for document in found.documents] == [1]
    assert found.documents[0].document[key] == "here"


def test_find_regex_that_does_not_compile_raises_invalid_query(store):
    with pytest.raises(InvalidQuery, match="does not compile"):
        store.find("books", Query(Comparison(("t",), "regex", Regex("(unclosed"))))


@pytest.mark.parametrize(
    ("text", "needle"),
    [("\u212a", "k"), ("\u0130stanbul", "i"), ("STRASSE", "strasse"), ("Ä", "ä")],
    ids=["kelvin-sign", "dotted-capital-i", "ascii", "non-ascii"],
)
def test_search_folds_case_as_python_lower(store, text, needle):
    store.insert_one("words", {"id": 1, "nested": [{"text": text}]})
    store.insert_one("words", {"id": 2, "text": "other"})

    found = store.find("words", Query(Search(needle)))

    assert [document.id for document in found.documents] == [1]


def test_find_with_fields_projects_page(store):
    store.insert_one("books", {"id": 1, "title": "t", "author": {"name": "n", "x": 1}})

    found = store.find("books", Query(fields=(("title",), ("author", "name"))))

    assert found.documents[0].document == {
        "id": 1,
        "title": "t",
        "author": {"name": "n"},
    }


# Indexes


def _page_count(number: int) -> int:
    return number * 37 % 1000


def _books(store: SQLiteStore, count: int = 300) -> None:
    store.import_documents(
        "books",
        (
            {"id": number, "pageCount": _page_count(number), "title": f"t{number:04}"}
            for number in range(count)
        ),
    )


def test_ensure_index_filter_plan_searches_index(store, database):
    _books(store)
    store.ensure_index("books", ("pageCount",))

    plan = _plan(database, "books", Query(Comparison(("pageCount",), "gt", 500)))

    index = _field_indexes(database, "books")[("pageCount",)].name
    assert f"SEARCH c_1 USING INDEX {index} (<expr>=? AND <expr>>?)" in plan
    expected = sum(1 for number in range(300) if _page_count(number) > 500)
    assert store.count("books", Comparison(("pageCount",), "gt", 500)) == expected


def test_ensure_index_sort_plan_walks_index_without_sorting(store, database):
    _books(store)
    store.ensure_index("books", ("title",))

    plan = _plan(database, "books", Query(sort=(SortKey(("title",)),)))

    index = _field_indexes(database, "books")[("title",)].name
    assert plan == f"SCAN c_1 USING INDEX {index}"


def test_ensure_index_array_element_plan_searches_element_table(store, database):
    store.insert_many(
        "books", [{"id": 1, "authors": ["a", "b"]}, {"id": 2, "authors": "b"}]
    )
    store.ensure_index("books", ("authors",))
    query = Query(Comparison(("authors",), "eq", "a"))

    plan = _plan(database, "books", query, has_arrays=True)

    assert "SEARCH c_1_e USING INDEX c_1_e_value (x=? AND rank=? AND value=?)" in plan
    assert "SCAN" not in plan
    assert [document.id for document in store.find("books", query).documents] == [1]


def test_ensure_index_filtered_descending_sort_sorts_only_ties(store, database):
    _books(store)
    store.ensure_index("books", ("pageCount",))
    query = Query(
        Comparison(("pageCount",), "gt", 500),
        sort=(SortKey(("pageCount",), descending=True),),
        limit=5,
    )

    plan = _plan(database, "books", query)

    assert "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY" in plan
    found = store.find("books", query)
    longest = sorted(map(_page_count, range(300)), reverse=True)[:5]
    assert [document.document["pageCount"] for document in found.documents] == longest


def test_indexed_field_holding_arrays_still_matches_elements(store):
    store.insert_many(
        "books",
        [{"id": 1, "authors": ["a", "b"]}, {"id": 2, "authors": "b"}, {"id": 3}],
    )
    store.ensure_index("books", ("authors",))

    found = store.find("books", Query(Comparison(("authors",), "eq", "b")))

    assert [document.id for document in found.documents] == [1, 2]


def test_indexed_array_field_follows_replace_and_delete(store):
    store.ensure_index("books", ("authors",))
    store.insert_many(
        "books",
        [{"id": 1, "authors": ["a", "b"]}, {"id": 2, "authors": ["b"]}, {"id": 3}],
    )

    store.replace_one("books", "1", {"id": 1, "authors": ["c"]})
    store.replace_one("books", "3", {"id": 3, "authors": ["b", "b"]})
    store.delete_one("books", "2")

    found = store.find("books", Query(Comparison(("authors",), "in", ("b", "c"))))
    assert [document.id for document in found.documents] == [1, 3]
    assert found.total == 2


def test_ensure_index_survives_reopen(database):
    first = SQLiteStore(str(database))
    _books(first)
    first.ensure_index("books", ("title",))
    first.close()

    second = SQLiteStore(str(database))
    second.ensure_index("books", ("title",))

    assert _indexed_paths(database, "books") == {("title",)}
    assert (
        second.find("books", Query(sort=(SortKey(("title",)),), limit=1)).total == 300
    )
    second.close()


def test_find_reaching_auto_index_after_creates_index(database):
    store = SQLiteStore(str(database), auto_index_after=3)
    _books(store, 30)
    query = Query(Comparison(("pageCount",), "gte", 0), sort=(SortKey(("title",)),))

    store.find("books", query)
    store.find("books", query)
    assert _indexed_paths(database, "books") == set()
    store.find("books", query)

    assert _indexed_paths(database, "books") == {("pageCount",), ("title",)}
    store.close()


def test_auto_index_after_zero_never_indexes(store, database):
    _books(store, 10)

    for _ in range(30):
        store.find("books", Query(Comparison(("title",), "eq", "t0001")))

    assert _indexed_paths(database, "books") == set()


def test_configured_index_created_with_collection(database):
    store = SQLiteStore(str(database), indexes={"books": (("title",),)})

    store.insert_one("books", {"id": 1, "title": "t"})

    assert _indexed_paths(database, "books") == {("title",)}
    store.close()


def test_configured_index_created_on_first_query_of_existing_collection(database):
    first = SQLiteStore(str(database))
    _books(first, 10)
    first.close()
    second = SQLiteStore(str(database), indexes={"books": (("pageCount",),)})

    second.find("books", Query())

    assert _indexed_paths(database, "books") == {("pageCount",)}
    second.close()


# Totals and the cached catalog

OVER_300 = Query(Comparison(("pageCount",), "gt", 300), limit=5)


def _books_over_300(store: SQLiteStore, count: int) -> None:
    """``count`` books over 300 pages and one under, with the filter indexed,
    so that a page of five leaves the total to a count."""
    store.insert_many(
        "books",
        [{"id": number, "pageCount": 301 + number} for number in range(count)]
        + [{"id": "short", "pageCount": 10}],
    )
    store.ensure_index("books", ("pageCount",))


def test_find_total_after_other_store_writes_counts_its_commit(store, database):
    _books_over_300(store, 20)
    assert store.find("books", OVER_300).total == 20
    other = SQLiteStore(str(database), auto_index_after=0)

    other.insert_one("books", {"id": "new", "pageCount": 500})
    after_insert = store.find("books", OVER_300).total
    other.delete_one("books", "0")
    other.delete_one("books", "1")
    after_deletes = store.find("books", OVER_300).total

    assert (after_insert, after_deletes) == (21, 19)
    other.close()


def test_find_total_after_other_thread_writes_counts_its_commit(store):
    _books_over_300(store, 20)
    assert store.find("books", OVER_300).total == 20
    writer = threading.Thread(
        target=store.insert_one, args=("books", {"id": "new", "pageCount": 500})
    )

    writer.start()
    writer.join(timeout=30)

    assert store.find("books", OVER_300).total == 21


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (lambda store: store.insert_one("books", {"pageCount": 400}), 21),
        (lambda store: store.replace_one("books", "3", {"pageCount": 1}), 19),
        (lambda store: store.replace_one("books", "short", {"pageCount": 999}), 21),
        (lambda store: store.delete_one("books", "3"), 19),
        (lambda store: store.drop_collection("books"), 0),
    ],
    ids=["insert", "replace-out", "replace-in", "delete", "drop"],
)
def test_find_total_after_own_write_counts_it(store, write, expected):
    _books_over_300(store, 20)
    assert store.find("books", OVER_300).total == 20

    write(store)

    assert store.find("books", OVER_300).total == expected
    assert store.count("books", OVER_300.filter) == expected


def _count_statements(connection: sqlite3.Connection) -> list[str]:
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    return statements


def test_count_rows_unchanged_database_counts_once(store, database):
    _books_over_300(store, 20)
    connection, other = _raw(database), _raw(database)
    entry = read_catalog(connection)["books"]
    translation = translate_filter(OVER_300.filter, entry.indexed)
    totals = TotalCache()
    statements = _count_statements(connection)

    first = count_rows(connection, entry, translation, totals)
    again = count_rows(connection, entry, translation, totals)
    with other:
        other.execute(f"DELETE FROM {entry.table} WHERE id = 0")
    after_delete = count_rows(connection, entry, translation, totals)

    assert (first, again, after_delete) == (20, 20, 19)
    assert sum("count(*)" in statement for statement in statements) == 2
    connection.close()
    other.close()


def test_total_cache_full_forgets_least_recently_used():
    connection = sqlite3.connect(":memory:")
    totals = TotalCache(size=2)
    assert totals.get(connection, ("a",)) is None
    totals.put(("a",), 1)
    totals.put(("b",), 2)

    totals.get(connection, ("a",))
    totals.put(("c",), 3)

    remembered = {key: totals.get(connection, (key,)) for key in "abc"}
    assert remembered == {"a": 1, "b": None, "c": 3}
    connection.close()


@pytest.mark.parametrize(
    ("write", "expected_ids"),
    [
        (lambda store: store.insert_one("books", {"id": "late"}), {"new", "late"}),
        (lambda store: store.replace_one("books", "late", {}), {"new", "late"}),
        (lambda store: store.replace_one("books", "new", {"n": 1}), {"new"}),
        (lambda store: store.delete_one("books", "new"), set()),
    ],
    ids=["insert", "replace-create", "replace-existing", "delete"],
)
def test_write_after_other_store_recreates_collection_uses_new_table(
    store, database, write, expected_ids
):
    store.insert_one("books", {"id": "old"})
    assert store.find_one("books", "old") is not None  # the catalog is cached
    other = SQLiteStore(str(database), auto_index_after=0)
    other.drop_collection("books")
    other.insert_one("books", {"id": "new"})

    write(store)

    documents = other.find("books", Query()).documents
    assert {document.id for document in documents} == expected_ids
    assert _table(database, "books") != "c_1"
    other.close()


def _drop_behind(store: SQLiteStore, database: Path) -> SQLiteStore:
    """Cache the catalog of a one-document collection in ``store``, then drop
    the collection through another store on the same file."""
    store.insert_one("books", {"id": "old"})
    assert store.find_one("books", "old") is not None
    other = SQLiteStore(str(database), auto_index_after=0)
    other.drop_collection("books")
    return other


def test_insert_after_other_store_drops_collection_creates_it_again(store, database):
    other = _drop_behind(store, database)

    store.insert_one("books", {"id": "late"})

    assert [document.id for document in other.find("books", Query()).documents] == [
        "late"
    ]
    other.close()


@pytest.mark.parametrize(
    "write",
    [
        lambda store: store.replace_one("books", "old", {}, upsert=False),
        lambda store: store.replace_one("books", "old", {}, expected_version="*"),
        lambda store: store.delete_one("books", "old"),
    ],
    ids=["replace-without-upsert", "replace-versioned", "delete"],
)
def test_write_after_other_store_drops_collection_raises_not_found(
    store, database, write
):
    other = _drop_behind(store, database)

    with pytest.raises(DocumentNotFound, match="no document with id 'old'"):
        write(store)

    assert other.list_collections() == []
    other.close()


@pytest.mark.parametrize(
    ("existing", "expected_version", "upsert", "error"),
    [
        (False, None, False, DocumentNotFound),
        (False, "v1", True, DocumentNotFound),
        (True, "stale", True, VersionMismatch),
        (True, None, True, InvalidDocument),
        (False, None, True, InvalidDocument),
    ],
    ids=["missing", "missing-versioned", "stale", "existing", "created"],
)
def test_replace_unstorable_body_reports_lookup_errors_first(
    store, existing, expected_version, upsert, error
):
    store.insert_one("books", {"id": "other" if not existing else "a"})

    with pytest.raises(error):
        store.replace_one(
            "books", "a", {"n": 2**70}, expected_version=expected_version, upsert=upsert
        )


# Processes and logs


def _insert_range(path: str, first: int, count: int) -> None:
    store = SQLiteStore(path)
    for number in range(first, first + count):
        store.insert_one("counter", {"id": number, "writer": first})
    store.close()


def test_insert_from_two_processes_loses_nothing(database):
    SQLiteStore(str(database)).close()
    context = multiprocessing.get_context("fork")
    writers = [
        context.Process(target=_insert_range, args=(str(database), first, 150))
        for first in (0, 1000)
    ]

    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)

    assert [writer.exitcode for writer in writers] == [0, 0]
    store = SQLiteStore(str(database))
    assert store.count("counter") == 300
    assert store.count("counter", Comparison(("writer",), "eq", 1000)) == 150
    store.close()


def _insert_in_child(store: SQLiteStore) -> None:
    store.insert_one("books", {"id": "child"})


def test_store_used_after_fork_opens_its_own_connection(store):
    store.insert_one("books", {"id": "parent"})
    child = multiprocessing.get_context("fork").Process(
        target=_insert_in_child, args=(store,)
    )

    child.start()
    child.join(timeout=30)

    assert child.exitcode == 0
    assert {document.id for document in store.find("books", Query()).documents} == {
        "parent",
        "child",
    }


def test_write_logs_call_without_body(store, caplog):
    caplog.set_level(logging.DEBUG, logger="datasource.storage.sqlite")

    store.insert_one("books", {"id": 42, "secret": "do-not-log"})

    messages = [record.getMessage() for record in caplog.records]
    assert any("insert_one" in m and "books" in m and "42" in m for m in messages)
    assert not any("do-not-log" in message for message in messages)


def test_find_with_catastrophic_regex_gives_up_with_invalid_query(tmp_path):
    store = SQLiteStore(str(tmp_path / "re.sqlite3"))
    store.insert_one("texts", {"id": 1, "s": "a" * 40 + "!"})
    query = Query(filter=Comparison(("s",), "regex", Regex("^(a|aa)+$")))
    started = time.monotonic()

    with pytest.raises(InvalidQuery, match="took more than 2 s"):
        store.find("texts", query)

    assert time.monotonic() - started < 5


def test_threads_writing_at_once_each_write_once(store):
    store.insert_one("books", {"id": "counter", "count": 0})
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            for step in range(25):
                store.insert_one("books", {"id": f"{number}-{step}"})
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)

    assert errors == []
    assert store.count("books") == 1 + 8 * 25


def test_write_waiting_past_the_busy_timeout_is_unavailable(store, monkeypatch):
    monkeypatch.setattr(
        "datasource.storage.sqlite_connections.BUSY_TIMEOUT_SECONDS", 0.2
    )
    store.insert_one("books", {"id": 1})
    holding, release = threading.Event(), threading.Event()

    def slow_stream():
        yield {"id": "first"}
        holding.set()
        release.wait(timeout=30)

    def hold_the_write_turn() -> None:
        store.import_documents("books", slow_stream(), batch_size=1)

    holder = threading.Thread(target=hold_the_write_turn)
    holder.start()
    holding.wait(timeout=30)
    try:
        with pytest.raises(StoreUnavailable, match="busy"):
            store.insert_one("books", {"id": 2})
    finally:
        release.set()
        holder.join(timeout=30)

    store.insert_one("books", {"id": 2})
    assert store.count("books") == 3


def _interfering_change(store: SQLiteStore, overtaken: int):
    """A change that rewrites the document itself on its first calls, as a
    concurrent writer landing between the read and the write would.

    A read first gives the store its catalog, as any served request has, so
    that update_one starts with its optimistic attempts.
    """
    store.find_one("books", "1")
    seen: list[int] = []

    def change(current):
        seen.append(current.document["count"])
        if len(seen) <= overtaken:
            store.replace_one("books", "1", {"id": 1, "count": len(seen) * 10})
        return {**current.document, "count": current.document["count"] + 1}

    return change, seen


def test_update_one_overtaken_once_applies_the_change_to_the_new_version(store):
    store.insert_one("books", {"id": 1, "count": 0})
    change, seen = _interfering_change(store, overtaken=1)

    updated = store.update_one("books", "1", change)

    assert seen == [0, 10]
    assert updated.document == {"id": 1, "count": 11}
    assert store.find_one("books", "1") == updated


def test_update_one_overtaken_every_time_lands_under_the_write_lock(store):
    store.insert_one("books", {"id": 1, "count": 0})
    change, seen = _interfering_change(store, overtaken=3)

    updated = store.update_one("books", "1", change)

    # Three optimistic attempts, each overtaken, then one under the lock.
    assert seen == [0, 10, 20, 30]
    assert store.find_one("books", "1").document == {"id": 1, "count": 31}
    assert store.find_one("books", "1").version == updated.version


def test_update_one_of_a_collection_dropped_by_another_store_is_not_found(
    store, database
):
    store.insert_one("books", {"id": 1, "count": 0})
    other = SQLiteStore(str(database))
    other.drop_collection("books")
    other.close()

    with pytest.raises(DocumentNotFound):
        store.update_one("books", "1", lambda current: current.document)
