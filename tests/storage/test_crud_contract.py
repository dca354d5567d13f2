"""The store contract of ``datasource.storage.base``, run against every store.

Expectations come from the ``Store`` protocol's docstrings and the Names
section of the HTTP contract; the same tests run unchanged on each store.
"""

from __future__ import annotations

import re
import threading

import pytest

from datasource.errors import (
    DocumentNotFound,
    DuplicateDocument,
    VersionMismatch,
)
from datasource.query import Comparison, Query
from datasource.storage.base import CollectionInfo, Store

GENERATED_ID = re.compile(r"[0-9a-f]{24}")


def typed(value):
    """A value with the type of every JSON scalar made explicit, so that
    comparisons tell 1 from 1.0 and from True."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def ids_of(store: Store, collection: str) -> list:
    return [stored.id for stored in store.find(collection, Query(limit=1000)).documents]


def test_ping_open_store_returns_none(store):
    assert store.ping() is None


def test_insert_one_without_id_generates_24_hex_digits(store):
    stored = store.insert_one("books", {"title": "Unlocking Android"})

    assert isinstance(stored.id, str)
    assert GENERATED_ID.fullmatch(stored.id)
    assert stored.document == {"id": stored.id, "title": "Unlocking Android"}


def test_insert_one_without_id_generates_distinct_ids(store):
    first = store.insert_one("books", {})
    second = store.insert_one("books", {})

    assert first.id != second.id


@pytest.mark.parametrize(
    "document_id",
    [
        pytest.param(1, id="int"),
        pytest.param(0, id="int-zero"),
        pytest.param(-5, id="int-negative"),
        pytest.param(2**63 - 1, id="int64-max"),
        pytest.param("abc", id="str"),
        pytest.param("1", id="str-digits"),
        pytest.param("Grüße dir", id="str-unicode-space"),
    ],
)
def test_insert_one_client_id_kept_with_its_type(store, document_id):
    stored = store.insert_one("books", {"id": document_id, "n": 1})
    found = store.find_one("books", str(document_id))

    assert typed(stored.id) == typed(document_id)
    assert found is not None
    assert typed(found.id) == typed(document_id)
    assert typed(found.document) == typed({"id": document_id, "n": 1})


@pytest.mark.parametrize(
    ("document_id", "lookup"),
    [
        pytest.param(1, "1", id="int-by-digits"),
        pytest.param("1", "1", id="str-by-digits"),
        pytest.param(-7, "-7", id="negative-int"),
        pytest.param("x y", "x y", id="str-with-space"),
    ],
)
def test_find_one_text_finds_int_or_str_id(store, document_id, lookup):
    store.insert_one("books", {"id": document_id})

    found = store.find_one("books", lookup)

    assert found is not None
    assert typed(found.id) == typed(document_id)


@pytest.mark.parametrize(
    "lookup",
    [
        pytest.param("2", id="other-number"),
        pytest.param("1.0", id="float-spelling"),
        pytest.param("one", id="text"),
    ],
)
def test_find_one_unknown_id_returns_none(store, lookup):
    store.insert_one("books", {"id": 1})

    assert store.find_one("books", lookup) is None


def test_find_one_missing_collection_returns_none(store):
    assert store.find_one("nothing", "1") is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(1, 1, id="same-int"),
        pytest.param("a", "a", id="same-str"),
        pytest.param(1, "1", id="str-after-int"),
        pytest.param("1", 1, id="int-after-str"),
    ],
)
def test_insert_one_taken_id_raises_duplicate_document(store, first, second):
    store.insert_one("books", {"id": first, "v": "first"})

    with pytest.raises(DuplicateDocument) as caught:
        store.insert_one("books", {"id": second, "v": "second"})

    assert caught.value.status == 409
    assert store.find_one("books", str(first)).document == {"id": first, "v": "first"}


def test_insert_one_same_id_in_other_collection_is_accepted(store):
    store.insert_one("books", {"id": 1})
    store.insert_one("authors", {"id": 1})

    assert ids_of(store, "books") == [1]
    assert ids_of(store, "authors") == [1]


def test_insert_many_creates_all_in_order(store):
    stored = store.insert_many("books", [{"id": 3}, {"title": "x"}, {"id": "b"}])

    assert [item.id for item in stored[::2]] == [3, "b"]
    assert GENERATED_ID.fullmatch(stored[1].id)
    assert store.count("books") == 3


def test_insert_many_empty_list_creates_nothing(store):
    assert store.insert_many("books", []) == []
    assert store.count("books") == 0


@pytest.mark.parametrize(
    ("existing", "batch", "path"),
    [
        pytest.param([], [{"id": 1}, {"id": 2}, {"id": 1}], "/2/id", id="repeat-int"),
        pytest.param([], [{"id": "a"}, {"id": "a"}], "/1/id", id="repeat-str"),
        pytest.param([], [{"id": 1}, {"id": "1"}], "/1/id", id="repeat-both-forms"),
        pytest.param([{"id": 5}], [{"id": 1}, {"id": 5}], "/1/id", id="taken"),
        pytest.param([{"id": 5}], [{"id": "5"}], "/0/id", id="taken-other-form"),
    ],
)
def test_insert_many_duplicate_raises_and_creates_none(store, existing, batch, path):
    for document in existing:
        store.insert_one("books", document)

    with pytest.raises(DuplicateDocument) as caught:
        store.insert_many("books", batch)

    assert [detail.path for detail in caught.value.errors] == [path]
    assert ids_of(store, "books") == [document["id"] for document in existing]


def test_import_documents_stream_returns_count(store):
    documents = ({"id": number, "n": number * 2} for number in range(7))

    assert store.import_documents("books", documents, batch_size=3) == 7
    assert ids_of(store, "books") == list(range(7))
    assert store.find_one("books", "6").document == {"id": 6, "n": 12}


def test_import_documents_without_ids_generates_them(store):
    assert store.import_documents("books", iter([{"a": 1}, {"a": 2}])) == 2

    assert all(GENERATED_ID.fullmatch(item) for item in ids_of(store, "books"))


def test_import_documents_failing_stream_imports_nothing(store):
    def documents():
        yield from ({"id": number} for number in range(5))
        raise ValueError("line 6 is not JSON")

    with pytest.raises(ValueError, match="line 6 is not JSON"):
        store.import_documents("books", documents(), batch_size=2)

    assert store.count("books") == 0
    assert store.list_collections() == []


def test_import_documents_duplicate_in_later_batch_imports_nothing(store):
    documents = [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": "2"}]

    with pytest.raises(DuplicateDocument):
        store.import_documents("books", iter(documents), batch_size=2)

    assert store.count("books") == 0


def test_import_documents_taken_id_keeps_existing_documents(store):
    store.insert_one("books", {"id": 9, "v": "kept"})

    with pytest.raises(DuplicateDocument):
        store.import_documents("books", iter([{"id": 1}, {"id": 9}]), batch_size=1)

    assert ids_of(store, "books") == [9]
    assert store.find_one("books", "9").document == {"id": 9, "v": "kept"}


@pytest.mark.parametrize(
    ("document_id", "path_id"),
    [
        pytest.param(7, "7", id="int"),
        pytest.param("7", "7", id="str-digits"),
        pytest.param("abc", "abc", id="str"),
    ],
)
def test_replace_one_absent_document_creates_it(store, document_id, path_id):
    result = store.replace_one("books", path_id, {"id": document_id, "v": 1})

    assert result.created is True
    assert typed(result.document.id) == typed(document_id)
    found = store.find_one("books", path_id)
    assert typed(found.document) == typed({"id": document_id, "v": 1})


@pytest.mark.parametrize(
    ("stored_id", "body_id"),
    [
        pytest.param(7, "7", id="int-kept-over-str"),
        pytest.param("7", 7, id="str-kept-over-int"),
        pytest.param(7, 7, id="same-int"),
    ],
)
def test_replace_one_existing_document_keeps_id_type(store, stored_id, body_id):
    store.insert_one("books", {"id": stored_id, "v": 1, "old": True})

    result = store.replace_one("books", "7", {"id": body_id, "v": 2})

    assert result.created is False
    assert typed(result.document.id) == typed(stored_id)
    found = store.find_one("books", "7")
    assert typed(found.document) == typed({"id": stored_id, "v": 2})
    assert store.count("books") == 1


def test_replace_one_absent_without_upsert_raises_not_found(store):
    with pytest.raises(DocumentNotFound):
        store.replace_one("books", "1", {"id": 1}, upsert=False)

    assert store.count("books") == 0


def test_replace_one_existing_without_upsert_replaces(store):
    store.insert_one("books", {"id": 1, "v": 1})

    result = store.replace_one("books", "1", {"id": 1, "v": 2}, upsert=False)

    assert result.created is False
    assert store.find_one("books", "1").document == {"id": 1, "v": 2}


def test_versions_every_write_gives_a_new_version(store):
    created = store.insert_one("books", {"id": 1, "v": 1})
    first = store.replace_one("books", "1", {"id": 1, "v": 1}).document
    second = store.replace_one("books", "1", {"id": 1, "v": 2}).document

    versions = [created.version, first.version, second.version]
    assert len(set(versions)) == 3
    assert store.find_one("books", "1").version == second.version


def test_versions_recreated_document_gets_a_new_version(store):
    created = store.insert_one("books", {"id": 1})
    store.delete_one("books", "1")

    recreated = store.insert_one("books", {"id": 1})

    assert recreated.version != created.version


def test_versions_read_returns_version_of_last_write(store):
    created = store.insert_one("books", {"id": "a"})

    assert store.find_one("books", "a").version == created.version
    assert store.find("books", Query()).documents[0].version == created.version


def test_replace_one_current_version_replaces(store):
    created = store.insert_one("books", {"id": 1, "v": 1})

    result = store.replace_one(
        "books", "1", {"id": 1, "v": 2}, expected_version=created.version
    )

    assert result.document.version != created.version
    assert store.find_one("books", "1").document == {"id": 1, "v": 2}


def test_replace_one_stale_version_raises_version_mismatch(store):
    created = store.insert_one("books", {"id": 1, "v": 1})
    store.replace_one("books", "1", {"id": 1, "v": 2})

    with pytest.raises(VersionMismatch) as caught:
        store.replace_one(
            "books", "1", {"id": 1, "v": 3}, expected_version=created.version
        )

    assert caught.value.status == 412
    assert store.find_one("books", "1").document == {"id": 1, "v": 2}


def test_update_one_writes_the_change_of_the_current_document(store):
    created = store.insert_one("books", {"id": 1, "pages": 100, "title": "A"})
    seen = []

    def add_pages(current):
        seen.append(current)
        return {**current.document, "pages": current.document["pages"] + 1}

    updated = store.update_one("books", "1", add_pages)

    assert [(doc.id, doc.version) for doc in seen] == [(1, created.version)]
    assert updated.version != created.version
    assert typed(updated.document) == typed({"id": 1, "pages": 101, "title": "A"})
    assert store.find_one("books", "1") == updated


def test_update_one_keeps_the_stored_id_and_its_type(store):
    store.insert_one("books", {"id": "7", "v": 1})

    updated = store.update_one("books", "7", lambda current: {"v": 2})

    assert typed(updated.document) == typed({"id": "7", "v": 2})
    assert typed(store.find_one("books", "7").document) == typed({"id": "7", "v": 2})


def test_update_one_absent_document_raises_not_found_without_calling(store):
    store.insert_one("books", {"id": 1})
    calls = []

    with pytest.raises(DocumentNotFound):
        store.update_one("books", "2", calls.append)
    with pytest.raises(DocumentNotFound):
        store.update_one("films", "1", calls.append)

    assert calls == []


def test_update_one_change_that_raises_leaves_the_document(store):
    created = store.insert_one("books", {"id": 1, "v": 1})

    def refuse(current):
        raise VersionMismatch("not this one")

    with pytest.raises(VersionMismatch, match="not this one"):
        store.update_one("books", "1", refuse)

    assert store.find_one("books", "1") == created


def test_update_one_from_threads_at_once_loses_no_change(store):
    store.insert_one("books", {"id": 1, "count": 0})

    def increment() -> None:
        for _ in range(10):
            store.update_one(
                "books",
                "1",
                lambda current: {
                    **current.document,
                    "count": current.document["count"] + 1,
                },
            )

    threads = [threading.Thread(target=increment) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert store.find_one("books", "1").document["count"] == 40


def test_replace_one_expected_version_of_absent_raises_not_found(store):
    with pytest.raises(DocumentNotFound):
        store.replace_one("books", "1", {"id": 1}, expected_version="anything")

    assert store.count("books") == 0


def test_delete_one_existing_document_removes_it(store):
    store.insert_one("books", {"id": 1})
    store.insert_one("books", {"id": 2})

    assert store.delete_one("books", "1") is None
    assert store.find_one("books", "1") is None
    assert ids_of(store, "books") == [2]


def test_delete_one_absent_raises_not_found(store):
    store.insert_one("books", {"id": 1})

    with pytest.raises(DocumentNotFound) as caught:
        store.delete_one("books", "2")

    assert caught.value.status == 404


def test_delete_one_stale_version_raises_version_mismatch(store):
    created = store.insert_one("books", {"id": "a"})
    store.replace_one("books", "a", {"id": "a", "v": 2})

    with pytest.raises(VersionMismatch):
        store.delete_one("books", "a", expected_version=created.version)

    assert store.find_one("books", "a") is not None


def test_delete_one_current_version_deletes(store):
    created = store.insert_one("books", {"id": "a"})

    store.delete_one("books", "a", expected_version=created.version)

    assert store.find_one("books", "a") is None


def test_delete_one_expected_version_of_absent_raises_not_found(store):
    with pytest.raises(DocumentNotFound):
        store.delete_one("books", "a", expected_version="anything")


def test_drop_collection_existing_returns_true_and_removes(store):
    store.insert_many("books", [{"id": 1}, {"id": 2}])
    store.insert_one("authors", {"id": 1})

    assert store.drop_collection("books") is True
    assert store.count("books") == 0
    assert store.list_collections() == [CollectionInfo("authors", 1)]


def test_drop_collection_missing_returns_false(store):
    assert store.drop_collection("never") is False


def test_drop_all_removes_every_collection(store):
    store.insert_one("books", {"id": 1})
    store.insert_one("authors", {"id": 1})

    store.drop_all()

    assert store.list_collections() == []
    assert store.find_one("books", "1") is None


def test_list_collections_reports_counts(store):
    store.insert_many("books", [{"id": 1}, {"id": 2}, {"id": 3}])
    store.insert_one("authors", {})
    store.insert_one("a.b-c_d", {})

    listed = sorted(store.list_collections(), key=lambda info: info.name)

    assert listed == [
        CollectionInfo("a.b-c_d", 1),
        CollectionInfo("authors", 1),
        CollectionInfo("books", 3),
    ]


def test_list_collections_empty_store_returns_empty(store):
    assert store.list_collections() == []


def test_list_collections_emptied_collection_is_not_listed(store):
    store.insert_one("books", {"id": 1})
    store.insert_one("authors", {"id": 1})

    store.delete_one("books", "1")

    assert store.list_collections() == [CollectionInfo("authors", 1)]


def test_count_filter_counts_matching_documents(store):
    store.insert_many("books", [{"n": 1}, {"n": 2}, {"n": 2}, {}])

    assert store.count("books") == 4
    assert store.count("books", Comparison(("n",), "eq", 2)) == 2
    assert store.count("missing") == 0


def test_find_missing_collection_returns_empty_page(store):
    result = store.find("never", Query())

    assert (result.documents, result.total) == ([], 0)


def test_ensure_index_twice_keeps_documents_and_answers(store):
    store.insert_many("books", [{"id": 1, "a": {"b": 2}}, {"id": 2, "a": {"b": 3}}])

    store.ensure_index("books", ("a", "b"))
    store.ensure_index("books", ("a", "b"))

    query = Query(filter=Comparison(("a", "b"), "eq", 3))
    assert [stored.id for stored in store.find("books", query).documents] == [2]


def test_ensure_index_missing_collection_is_accepted(store):
    store.ensure_index("fresh", ("title",))

    assert store.list_collections() == []


ROUND_TRIP_DOCUMENTS = [
    pytest.param(
        {"s": "", "t": "ünïcödé ✓ 日本語 😀", "e": '\u0000\n\t"\\/'},
        id="strings",
    ),
    pytest.param(
        {
            "i": 0,
            "neg": -42,
            "max": 2**63 - 1,
            "min": -(2**63),
            "beyond53": 2**53 + 1,
        },
        id="integers",
    ),
    pytest.param(
        {
            "half": 0.5,
            "tenth": 0.1,
            "whole": 2.0,
            "tiny": 5e-324,
            "huge": 1.7976931348623157e308,
            "negative": -1.25e-7,
        },
        id="floats",
    ),
    pytest.param({"t": True, "f": False, "n": None}, id="constants"),
    pytest.param(
        {
            "a": {"b": {"c": [1, "two", 3.0, None, True, {"d": []}, [[]]]}},
            "empty_object": {},
            "empty_array": [],
        },
        id="nested",
    ),
    pytest.param(
        {
            "address line 2": "Cardiff",
            "a.b": 1,
            "$dollar": 2,
            "nested": {"x.y": {"$z": 3}, "$": 4},
            "": "empty name",
            "ключ": "value",
        },
        id="field-names",
    ),
]


@pytest.mark.parametrize("document", ROUND_TRIP_DOCUMENTS)
def test_insert_one_json_types_round_trip_exactly(store, document):
    stored = store.insert_one("docs", {"id": "doc", **document})

    expected = typed({"id": "doc", **document})
    assert typed(stored.document) == expected
    assert typed(store.find_one("docs", "doc").document) == expected
    assert typed(store.find("docs", Query()).documents[0].document) == expected


@pytest.mark.parametrize("document", ROUND_TRIP_DOCUMENTS)
def test_replace_one_json_types_round_trip_exactly(store, document):
    store.insert_one("docs", {"id": 1})

    store.replace_one("docs", "1", {"id": 1, **document})

    assert typed(store.find_one("docs", "1").document) == typed({"id": 1, **document})


@pytest.mark.parametrize("document", ROUND_TRIP_DOCUMENTS)
def test_import_documents_json_types_round_trip_exactly(store, document):
    store.import_documents("docs", iter([{"id": 1, **document}]))

    assert typed(store.find_one("docs", "1").document) == typed({"id": 1, **document})
