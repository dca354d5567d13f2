"""Reading import files, importing them into a store, exporting collections.

The real MongoDB exports live in ../shared/data next to the repository:
books.json (431 documents, shell-style mongoexport) and restaurant.json
(2548 documents, relaxed Extended JSON lines).
"""

from __future__ import annotations

import importlib.util
import io
import uuid
from pathlib import Path

import orjson
import pytest

from datasource import transfer
from datasource.errors import DuplicateDocument, InvalidDocument
from datasource.extjson import decode_document
from datasource.query import Query
from datasource.transfer import (
    export_collection,
    export_file,
    import_file,
    import_stream,
    read_documents,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OID = "53c2ae8528d75d572c06ad9d"


def _open_sqlite(tmp_path):
    from datasource.storage.sqlite import SQLiteStore

    return SQLiteStore(str(tmp_path / "store.sqlite3"), synchronous="OFF")


def _open_mongomock(tmp_path):
    if importlib.util.find_spec("datasource.storage.mongo") is None:
        pytest.skip("datasource.storage.mongo does not exist yet")
    import mongomock

    from datasource.storage.mongo import MongoStore

    return MongoStore(
        "mongodb://standin.invalid/",
        environment="test",
        database=f"datasource_test_{uuid.uuid4().hex}",
        client=mongomock.MongoClient(),
    )


@pytest.fixture(
    params=[
        pytest.param(_open_sqlite, id="sqlite"),
        pytest.param(_open_mongomock, id="mongo-standin-mongomock"),
    ]
)
def store(request, tmp_path):
    opened = request.param(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path):
    opened = _open_sqlite(tmp_path)
    yield opened
    opened.close()


def _data_file(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not there: the shared data sits next to the clone")
    return path


def _read(data: bytes, name: str = "f.json") -> list[dict]:
    return list(read_documents(io.BytesIO(data), name))


def _source_documents(path: Path) -> list[dict]:
    """The file's documents decoded independently of the reader: one per line."""
    with path.open("rb") as file:
        return [decode_document(orjson.loads(line)) for line in file]


def _all_documents(store, collection: str) -> list[dict]:
    """Every document of a collection, in id order, read with offset pages."""
    documents: list[dict] = []
    while True:
        page = store.find(collection, Query(limit=1000, offset=len(documents)))
        documents += [stored.document for stored in page.documents]
        if len(documents) >= page.total:
            return documents


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b'{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}], id="lines"),
        pytest.param(
            b'{"a": 1}\n{"a": 2}', [{"a": 1}, {"a": 2}], id="lines-no-final-newline"
        ),
        pytest.param(
            b'\n\n{"a": 1}\n   \n\n{"a": 2}\n\n', [{"a": 1}, {"a": 2}], id="lines-blank"
        ),
        pytest.param(
            b'{"a": 1}\r\n{"a": 2}\r\n', [{"a": 1}, {"a": 2}], id="lines-crlf"
        ),
        pytest.param(b'\xef\xbb\xbf{"a": 1}\n', [{"a": 1}], id="lines-byte-order-mark"),
        pytest.param(
            b'[{"a": 1}, {"a": 2}]', [{"a": 1}, {"a": 2}], id="array-one-line"
        ),
        pytest.param(
            b'  [\n  {"a": 1},\n  {"a": 2}\n]\n', [{"a": 1}, {"a": 2}], id="array-lines"
        ),
        pytest.param(b"[]", [], id="array-empty"),
        pytest.param(b" [ ] \n", [], id="array-empty-spaced"),
        pytest.param(b"", [], id="empty-file"),
        pytest.param(b"\n \n", [], id="blank-file"),
        pytest.param(
            b'{\n  "a": 1\n}\n{\n  "a": 2\n}\n', [{"a": 1}, {"a": 2}], id="pretty"
        ),
        pytest.param(
            b'{"_id": {"$oid": "53C2AE8528D75D572C06AD9D"}}\n',
            [{"id": OID}],
            id="extended",
        ),
        pytest.param(
            b'[{"_id": {"$numberLong": "5"}}]', [{"id": 5}], id="array-extended"
        ),
        pytest.param(
            b'{"n": 9223372036854775807}\n', [{"n": 2**63 - 1}], id="int64-max-exact"
        ),
        pytest.param(
            b'{"n": -9223372036854775808}\n', [{"n": -(2**63)}], id="int64-min-exact"
        ),
        pytest.param(
            b'{"isbn": "12345678901234567890"}\n',
            [{"isbn": "12345678901234567890"}],
            id="long-digit-string",
        ),
        pytest.param(
            b'{"a": "\\ud83d\\ude00"}\n', [{"a": "\U0001f600"}], id="surrogate-pair"
        ),
        pytest.param('{"a": "caf\u00e9"}\n'.encode(), [{"a": "caf\u00e9"}], id="utf-8"),
    ],
)
def test_read_documents_format_gives_documents(data, expected):
    assert _read(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            b'{"a": 1}\n{"a": 1x}\n',
            "f.json, line 2, column 8: invalid JSON (unexpected character, "
            "expected ',' or '}').",
            id="lines-bad-json",
        ),
        pytest.param(
            b'{"a": 1}\n\n\n[1]\n',
            "f.json, line 4: a document must be a JSON object, not an array.",
            id="lines-not-object",
        ),
        pytest.param(
            b'{"a": 1}\n{"_id": 1, "id": 2}\n',
            "f.json, line 2: the document has both _id and id; keep only one of "
            "them (_id becomes id on import).",
            id="lines-both-ids",
        ),
        pytest.param(
            b'{"a": 1}\n{"a": {"$oid": "x"}}\n',
            "f.json, line 2: field a: $oid needs a string of 24 hexadecimal "
            "digits, not 'x'.",
            id="lines-bad-wrapper",
        ),
        pytest.param(
            b'{"a": 1}\n{"n": 9223372036854775808}\n',
            "f.json, line 2: the integer 9223372036854775808 does not fit in 64 "
            "bits, so no store can keep it exactly; write it as a string.",
            id="lines-integer-beyond-64-bits",
        ),
        pytest.param(
            b'{"a": 1}\n{"a": "\\ud800"}\n',
            "f.json, line 2, column 8: invalid JSON (no low surrogate in string).",
            id="lines-lone-surrogate",
        ),
        pytest.param(
            b'{"a": NaN}\n',
            "f.json, line 1: NaN is not a JSON number; use a number or null instead.",
            id="first-line-nan",
        ),
        pytest.param(
            b'[{"a": 1},\n {"a": 1x}]',
            "f.json, line 2, column 9: invalid JSON (Expecting ',' delimiter).",
            id="array-bad-json",
        ),
        pytest.param(
            b'[{"a": 1},]',
            "f.json, line 1, column 11: invalid JSON (Expecting value).",
            id="array-trailing-comma",
        ),
        pytest.param(
            b'[{"a": 1}\n',
            "f.json, line 2, column 1: the array has no closing ].",
            id="array-unclosed",
        ),
        pytest.param(
            b'[{"a": 1} {"a": 2}]',
            "f.json, line 1, column 11: expected , or ] after a document.",
            id="array-missing-comma",
        ),
        pytest.param(
            b'[{"a": 1}]\n{"a": 2}',
            "f.json, line 2, column 1: unexpected text after the closing ].",
            id="array-trailing-text",
        ),
        pytest.param(
            b'[{"a": 1},\n  "x"]',
            "f.json, line 2: a document must be a JSON object, not a string.",
            id="array-not-object",
        ),
        pytest.param(
            b'[\n{"a": [1e400]}]',
            "f.json, line 2: the number 1e400 is too large for a double.",
            id="array-infinite-number",
        ),
        pytest.param(
            b'[{"a": "\\udc00"}]',
            "f.json, line 1: a string holds a lone surrogate escape "
            "(\\ud800 to \\udfff), which is not text; fix the escape.",
            id="array-lone-surrogate",
        ),
        pytest.param(
            b'[{"a": "\xff"}]',
            "f.json, line 1, column 1: the file is not UTF-8 (invalid start byte).",
            id="array-not-utf-8",
        ),
        pytest.param(
            b'{\n  "a": 1\n}\n{\n  "a": 1x\n}\n',
            "f.json, line 5, column 9: invalid JSON (Expecting ',' delimiter).",
            id="pretty-bad-json",
        ),
    ],
)
def test_read_documents_malformed_raises_with_location(data, message):
    with pytest.raises(InvalidDocument) as caught:
        _read(data)

    assert caught.value.detail == message


def test_read_documents_error_extra_names_file_line_and_column():
    with pytest.raises(InvalidDocument) as caught:
        _read(b'{"a": 1}\n{"a": 1x}\n', "export.json")

    assert caught.value.extra == {"file": "export.json", "line": 2, "column": 8}


def test_read_documents_array_in_small_chunks_matches_lines(monkeypatch):
    books = _source_documents(_data_file("books.json"))
    pretty = orjson.dumps(books, option=orjson.OPT_INDENT_2)
    monkeypatch.setattr(transfer, "_CHUNK_SIZE", 4093)

    assert _read(pretty) == books


def test_read_documents_error_after_many_chunks_names_line_and_column(monkeypatch):
    lines = [b'{"n": %d, "text": "%s"}' % (n, b"x" * 50) for n in range(300)]
    lines[299] = b'{"n": 299, "text": oops}'
    data = b"[\n" + b",\n".join(lines) + b"\n]\n"
    monkeypatch.setattr(transfer, "_CHUNK_SIZE", 64)

    with pytest.raises(InvalidDocument) as caught:
        _read(data)

    assert caught.value.detail == (
        "f.json, line 301, column 20: invalid JSON (Expecting value)."
    )


@pytest.mark.parametrize("name", ["books.json", "restaurant.json"])
def test_read_documents_lines_progress_adds_up_to_file_size_in_steps(name):
    path = _data_file(name)
    reported: list[int] = []

    with path.open("rb") as file:
        list(read_documents(file, name, reported.append))

    assert sum(reported) == path.stat().st_size
    assert len(reported) == -(-path.stat().st_size // (1 << 16))


def test_read_documents_array_progress_adds_up_to_file_size(monkeypatch):
    data = _data_file("books.json").read_bytes()
    array = b"[" + b",".join(data.splitlines()) + b"]"
    monkeypatch.setattr(transfer, "_CHUNK_SIZE", 1000)
    reported: list[int] = []

    list(read_documents(io.BytesIO(array), "books.json", reported.append))

    assert sum(reported) == len(array)
    assert len(reported) > 1


def test_import_file_books_imports_431_documents(store):
    count = import_file(store, "books", _data_file("books.json"))

    first = store.find_one("books", "1").document
    assert count == 431
    assert store.count("books") == 431
    assert first["id"] == 1
    assert first["title"] == "Unlocking Android"
    assert first["publishedDate"] == "2009-04-01T07:00:00.000Z"


def test_import_file_books_object_ids_are_reachable_by_hex(store):
    path = _data_file("books.json")
    import_file(store, "books", path)

    expected = [doc for doc in _source_documents(path) if isinstance(doc["id"], str)]
    assert len(expected) == 32
    for document in expected:
        assert store.find_one("books", document["id"]).document == document


def test_import_file_restaurants_keep_field_with_spaces(store):
    path = _data_file("restaurant.json")

    count = import_file(store, "restaurants", path)

    first = _source_documents(path)[0]
    stored = store.find_one("restaurants", first["id"]).document
    assert count == 2548
    assert stored["address line 2"] == "Cardiff"
    assert stored == first


def test_import_file_bad_line_300_imports_nothing(store, tmp_path):
    lines = _data_file("books.json").read_bytes().splitlines(keepends=True)
    lines[299] = lines[299].replace(b'"title" : "', b'"title" : ', 1)
    path = tmp_path / "books.json"
    path.write_bytes(b"".join(lines))

    with pytest.raises(InvalidDocument) as caught:
        import_file(store, "books", path, batch_size=100)

    assert caught.value.extra["line"] == 300
    assert caught.value.detail.startswith(f"{path}, line 300, column ")
    assert store.count("books") == 0


def test_import_stream_duplicate_id_names_its_line_and_imports_nothing(store):
    data = b'{"_id": 1}\n{"_id": 2}\n\n{"_id": 3}\n{"_id": 2}\n{"_id": 4}\n'

    with pytest.raises(DuplicateDocument) as caught:
        import_stream(store, "things", io.BytesIO(data), "things.json", batch_size=2)

    assert caught.value.detail.startswith("things.json, line 5: ")
    assert caught.value.extra == {"file": "things.json", "line": 5, "column": None}
    assert store.count("things") == 0


def test_import_stream_id_taken_in_collection_imports_nothing(store):
    store.insert_one("things", {"id": 2})
    data = b'{"_id": 1}\n{"_id": 2}\n'

    with pytest.raises(DuplicateDocument) as caught:
        import_stream(store, "things", io.BytesIO(data), "things.json")

    assert caught.value.extra["line"] == 2
    assert store.count("things") == 1


@pytest.mark.parametrize("name", ["books.json", "restaurant.json"])
def test_export_collection_reimported_gives_identical_documents(store, name):
    path = _data_file(name)
    import_file(store, "original", path)
    out = io.BytesIO()

    exported = export_collection(store, "original", out)
    out.seek(0)
    reimported = import_stream(store, "copy", out, "export")

    original = _all_documents(store, "original")
    assert exported == reimported == len(_source_documents(path))
    assert _all_documents(store, "copy") == original
    assert sorted(original, key=_id_order) == sorted(
        _source_documents(path), key=_id_order
    )


@pytest.mark.parametrize("name", ["books.json", "restaurant.json"])
def test_export_collection_array_reimported_gives_identical_documents(
    sqlite_store, name
):
    import_file(sqlite_store, "original", _data_file(name))
    out = io.BytesIO()

    export_collection(sqlite_store, "original", out, "array")
    out.seek(0)
    import_stream(sqlite_store, "copy", out, "export")

    original = _all_documents(sqlite_store, "original")
    assert _all_documents(sqlite_store, "copy") == original


def _id_order(document: dict) -> tuple[int, int | str]:
    identifier = document["id"]
    return (0, identifier) if isinstance(identifier, int) else (1, identifier)


def test_export_collection_pages_through_mixed_ids_in_id_order(store):
    documents = [{"id": n} for n in range(1200)]
    documents += [{"id": f"k{n:04d}"} for n in range(1300)]
    store.import_documents("mixed", reversed(documents))
    out = io.BytesIO()

    count = export_collection(store, "mixed", out)

    assert count == 2500
    assert [orjson.loads(line) for line in out.getvalue().splitlines()] == documents


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        pytest.param("lines", b'{"id":1,"a":"x"}\n{"id":2,"a":"y"}\n', id="lines"),
        pytest.param(
            "array", b'[\n{"id":1,"a":"x"},\n{"id":2,"a":"y"}\n]\n', id="array"
        ),
    ],
)
def test_export_collection_format_writes_exact_bytes(store, output_format, expected):
    store.insert_many("letters", [{"id": 2, "a": "y"}, {"id": 1, "a": "x"}])
    out = io.BytesIO()

    export_collection(store, "letters", out, output_format)

    assert out.getvalue() == expected


@pytest.mark.parametrize(
    ("output_format", "expected"),
    [
        pytest.param("lines", b"", id="lines"),
        pytest.param("array", b"[]\n", id="array"),
    ],
)
def test_export_collection_missing_collection_writes_nothing(
    store, output_format, expected
):
    out = io.BytesIO()

    count = export_collection(store, "never", out, output_format)

    assert (count, out.getvalue()) == (0, expected)


def test_export_file_replaces_target_when_done(sqlite_store, tmp_path):
    sqlite_store.insert_one("letters", {"id": 1})
    target = tmp_path / "letters.jsonl"
    target.write_bytes(b"old")

    count = export_file(sqlite_store, "letters", target)

    assert count == 1
    assert target.read_bytes() == b'{"id":1}\n'
    assert not [path for path in tmp_path.iterdir() if path.suffix == ".part"]


def test_export_file_failure_keeps_old_file_and_leaves_no_part(
    sqlite_store, tmp_path, monkeypatch
):
    target = tmp_path / "out" / "letters.jsonl"
    target.parent.mkdir()
    target.write_bytes(b"old")

    def fail_midway(store, collection, out, output_format):
        out.write(b'{"id":1}\n')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transfer, "export_collection", fail_midway)

    with pytest.raises(OSError, match="No space left on device"):
        export_file(sqlite_store, "letters", target)

    assert target.read_bytes() == b"old"
    assert [path.name for path in target.parent.iterdir()] == ["letters.jsonl"]


def test_import_file_missing_file_raises_os_error(sqlite_store, tmp_path):
    with pytest.raises(FileNotFoundError):
        import_file(sqlite_store, "books", tmp_path / "missing.json")

    assert sqlite_store.find("books", Query()).total == 0
