"""Query conformance: every store answers every query as ``datasource.query``
defines it.

Each case names a small fixture of documents, a query (query-string pairs
parsed by ``parse_query``, or a ``Query`` built directly) and the ids the
store must return, in order, worked out by hand from the semantics in the
query module's docstring. The same table also checks the reference evaluator
that the property tests rely on. The last part runs the done-when checks of
the query-language issue on the real MongoDB exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
import reference

from datasource.extjson import decode_document
from datasource.query import (
    And,
    Comparison,
    Not,
    Or,
    Query,
    Regex,
    Search,
    SortKey,
)
from datasource.queryparse import parse_query

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

FIXTURES: dict[str, list[dict]] = {
    # One field holding every JSON type, plus a missing one.
    "mixed": [
        {"id": 1, "n": 1},
        {"id": 2, "n": 2.5},
        {"id": 3, "n": "1"},
        {"id": 4, "n": "abc"},
        {"id": 5, "n": True},
        {"id": 6, "n": None},
        {"id": 7},
        {"id": 8, "n": [1, "x"]},
        {"id": 9, "n": {"k": 1}},
        {"id": 10, "n": -3},
        {"id": 11, "n": False},
        {"id": 12, "n": []},
    ],
    # Scalars only, for sorting (sorting on objects and arrays is left out).
    "sortable": [
        {"id": 1, "v": 10},
        {"id": 2, "v": "b"},
        {"id": 3, "v": None},
        {"id": 4},
        {"id": 5, "v": True},
        {"id": 6, "v": 2.5},
        {"id": 7, "v": "B"},
        {"id": 8, "v": False},
        {"id": 9, "v": -1},
        {"id": 10, "v": "a"},
        {"id": 11, "v": 10.0},
        {"id": 12, "v": "é"},
        {"id": 13, "v": "10"},
    ],
    "people": [
        {"id": "a", "last": "Smith", "first": "Ann", "age": 30},
        {"id": "b", "last": "Jones", "first": "Bob", "age": 25},
        {"id": "c", "last": "Smith", "first": "Cat", "age": 25},
        {"id": "d", "last": "Smith", "age": 40},
        {"id": "e", "last": "Jones", "first": "Al", "age": None},
    ],
    "nested": [
        {"id": 1, "author": {"name": "Ann", "age": 30}, "tags": ["a", "b"]},
        {"id": 2, "author": {"name": "Bob"}, "tags": ["b", "c"]},
        {"id": 3, "author": "Ann", "tags": "a"},
        {"id": 4, "author": {"name": None}, "tags": []},
        {"id": 5, "tags": [["a"], "d"]},
        {"id": 6, "author": {"name": {"first": "Ann"}}, "tags": [1, 2, 3]},
    ],
    "search": [
        {"id": 1, "title": "Unlocking Android"},
        {"id": 2, "tags": ["java", "ANDROID"]},
        {"id": 3, "author": {"name": "Andy"}},
        {"id": 4, "n": 5, "android": True},
        {"id": 5, "title": "ÉCOLE"},
        {"id": 6, "notes": [{"text": "see android docs"}]},
    ],
    "words": [
        {"id": 1, "w": "apple"},
        {"id": 2, "w": "Apricot"},
        {"id": 3, "w": ["banana", "avocado"]},
        {"id": 4, "w": 5},
        {"id": 5},
        {"id": 6, "w": "a.b"},
        {"id": 7, "w": "100%"},
        {"id": 8, "w": "snake_case"},
    ],
    "books": [
        {"id": 1, "status": "MEAP", "pages": 50},
        {"id": 2, "status": "PUBLISH", "pages": 500},
        {"id": 3, "status": "MEAP", "pages": 600},
        {"id": 4, "status": "PUBLISH", "pages": 80},
        {"id": 5, "pages": "many"},
        {"id": 6, "status": "PUBLISH"},
    ],
    "numbers": [
        {"id": 1, "x": 1},
        {"id": 2, "x": 1.0},
        {"id": 3, "x": "1.0"},
        {"id": 4, "x": True},
        {"id": 5, "x": 9007199254740993},
        {"id": 6, "x": 9007199254740992},
        {"id": 7, "x": -9223372036854775808},
        {"id": 8, "x": 9223372036854775807},
    ],
    # Ids of both kinds: numbers sort before strings.
    "ids": [
        {"id": "b", "k": 1},
        {"id": 10, "k": 1},
        {"id": "a", "k": 1},
        {"id": 2, "k": 1},
        {"id": "5f0c2a9e1d3b4c5a6e7f8091", "k": 1},
        {"id": -1, "k": 1},
    ],
    "edges": [
        {"id": 1, "o": {"a": 1.0, "b": [2]}},
        {"id": 2, "o": {"a": 1}},
        {"id": 3, "o": 9.2e18},
        {"id": 4, "o": 2**63 - 1},
        {"id": 5, "o": -9.2e18},
        {"id": 6, "o": -(2**63)},
    ],
    "names": [
        {"id": 1, "address line 2": "Cardiff", "a": {"b c": 1}},
        {"id": 2, "address line 2": "London", "a": {"b c": 2}},
    ],
}


def _case_id(fixture: str, query: object) -> str:
    if isinstance(query, list):
        return f"{fixture}?{urlencode(query)}"
    return fixture


def case(fixture, query, ids, total=None, name=None):
    """One row: fixture, query, expected ids in order, expected total."""
    return pytest.param(
        fixture,
        query,
        ids,
        len(ids) if total is None else total,
        id=name or _case_id(fixture, query),
    )


def where(text):
    return [("where", text)]


QUERY_STRING_CASES = [
    # Equality on a value of any type, through the query-string rule.
    case("mixed", [("n", "1")], [1, 3, 8]),
    case("mixed", [("n", "2.5")], [2]),
    case("mixed", [("n", "true")], [5]),
    case("mixed", [("n", "false")], [11]),
    case("mixed", [("n", "null")], [6, 7]),
    case("mixed", [("n", "abc")], [4]),
    case("mixed", [("n", "ABC")], []),
    case("mixed", [("n", "x")], [8]),
    case("mixed", [("n", "-3")], [10]),
    case("mixed", [("n[eq]", "1")], [1, 3, 8]),
    case("mixed", [("n[ne]", "1")], [2, 4, 5, 6, 7, 9, 10, 11, 12]),
    case("mixed", [("n[ne]", "null")], [1, 2, 3, 4, 5, 8, 9, 10, 11, 12]),
    case("mixed", [("n[ne]", "true")], [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]),
    # Comparisons never cross types.
    case("mixed", [("n[gt]", "1")], [2]),
    case("mixed", [("n[gte]", "1")], [1, 2, 8]),
    case("mixed", [("n[lt]", "1")], [10]),
    case("mixed", [("n[lte]", "1")], [1, 8, 10]),
    case("mixed", [("n[gt]", "a")], [4, 8]),
    case("mixed", [("n[lt]", "a")], [3]),
    case("mixed", [("n[gte]", "true")], [8]),
    case("mixed", [("n[in]", "1,abc")], [1, 3, 4, 8]),
    case("mixed", [("n[nin]", "1,abc")], [2, 5, 6, 7, 9, 10, 11, 12]),
    case("mixed", [("n[in]", "null")], [6, 7]),
    case("mixed", [("n[in]", "false,2.5")], [2, 11]),
    case("mixed", [("n[exists]", "true")], [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]),
    case("mixed", [("n[exists]", "false")], [7]),
    case("mixed", [("n[contains]", "B")], [4]),
    case("mixed", [("n[startswith]", "X")], [8]),
    case("mixed", [("n[contains]", "1")], [3]),
    case("mixed", [("n.k", "1")], [9]),
    case("mixed", [("n.k[exists]", "false")], [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]),
    case("mixed", [("n[gt]", "0"), ("n[lt]", "2")], [1, 8]),
    case("mixed", [("n", "1"), ("n", "x")], [8]),
    # Dotted paths reach into objects; arrays match on any element.
    case("nested", [("author.name", "Ann")], [1]),
    case("nested", [("author", "Ann")], [3]),
    case("nested", [("author.name", "null")], [3, 4, 5]),
    case("nested", [("author.name[exists]", "true")], [1, 2, 4, 6]),
    case("nested", [("author.age[gte]", "30")], [1]),
    case("nested", [("tags", "a")], [1, 3]),
    case("nested", [("tags", "b")], [1, 2]),
    case("nested", [("tags[ne]", "a")], [2, 4, 5, 6]),
    case("nested", [("tags[in]", "c,d")], [2, 5]),
    case("nested", [("tags[nin]", "a,b")], [4, 5, 6]),
    case("nested", [("tags[gt]", "2")], [6]),
    case("nested", [("tags[gte]", "b")], [1, 2, 5]),
    case("nested", [("tags[startswith]", "A")], [1, 3]),
    case("nested", [("tags", "2")], [6]),
    case("names", [("address line 2", "London")], [2]),
    case("names", [("a.b c[gt]", "1")], [2]),
    # Search across every string, nested ones included, ignoring case.
    case("search", [("q", "android")], [1, 2, 6]),
    case("search", [("q", "AND")], [1, 2, 3, 6]),
    case("search", [("q", "5")], []),
    case("search", [("q", "école")], [5]),
    case("search", [("q", "android"), ("title[exists]", "true")], [1]),
    case("search", [("title[contains]", "école")], [5]),
    case("search", [("title[startswith]", "unlock")], [1]),
    case("search", [("title[contains]", "")], [1, 5]),
    # Regular expressions, and where filters with their JSON types.
    case("words", where('{"w": {"$regex": "^a"}}'), [1, 3, 6]),
    case("words", where('{"w": {"$regex": "^a", "$options": "i"}}'), [1, 2, 3, 6]),
    case("words", where('{"w": {"$not": {"$regex": "^a"}}}'), [2, 4, 5, 7, 8]),
    case("words", where('{"w": {"$regex": "(an){2}"}}'), [3]),
    case("words", where('{"w": {"$regex": "\\\\d"}}'), [7]),
    case("words", where('{"w": {"$regex": "a\\\\.b"}}'), [6]),
    case("words", [("w[contains]", ".")], [6]),
    case("words", [("w[startswith]", "a.")], [6]),
    case("words", [("w[contains]", "%")], [7]),
    case("words", [("w[contains]", "_")], [8]),
    case("words", [("w[contains]", "E_C")], [8]),
    case("words", [("w[startswith]", "_")], []),
    case("words", [("w[startswith]", "100%")], [7]),
    case("words", [("w[startswith]", "%")], []),
    case("words", where('{"w": {"$regex": "^.{4}$"}}'), [7]),
    case("nested", where('{"tags": ["a", "b"]}'), [1]),
    case("nested", where('{"tags": ["b", "a"]}'), []),
    case("nested", where('{"tags": ["a"]}'), [5]),
    case("nested", where('{"tags": []}'), [4]),
    case("nested", where('{"author": {"name": "Bob"}}'), [2]),
    case("nested", where('{"author": {"name": "Ann"}}'), []),
    case("nested", where('{"author.name": {"first": "Ann"}}'), [6]),
    case("nested", where('{"tags": {"$in": [["a"], "c"]}}'), [2, 5]),
    case("nested", where('{"tags": {"$nin": ["a", "b"]}}'), [4, 5, 6]),
    case(
        "books",
        where('{"$or": [{"status": "MEAP"}, {"pages": {"$lt": 100}}]}'),
        [1, 3, 4],
    ),
    case(
        "books",
        where('{"$and": [{"status": "PUBLISH"}, {"pages": {"$gte": 100}}]}'),
        [2],
    ),
    case(
        "books",
        where('{"$nor": [{"status": "MEAP"}, {"pages": {"$lt": 100}}]}'),
        [2, 5, 6],
    ),
    case("books", where('{"$not": {"status": "MEAP"}}'), [2, 4, 5, 6]),
    case("books", where('{"pages": {"$not": {"$gt": 100}}}'), [1, 4, 5, 6]),
    case("books", where('{"pages": {"$gt": 60, "$lt": 550}}'), [2, 4]),
    case("books", where('{"pages": {"$ne": 50}}'), [2, 3, 4, 5, 6]),
    case("books", where('{"status": {"$exists": false}}'), [5]),
    case("books", where('{"status": {"$eq": null}}'), [5]),
    case("books", where('{"pages": {"$gt": "a"}}'), [5]),
    case("books", where('{"pages": "500"}'), []),
    case("books", where("{}"), [1, 2, 3, 4, 5, 6]),
    case("books", where('{"$or": [{}]}'), [1, 2, 3, 4, 5, 6]),
    case("books", where('{"$or": [{"status": "MEAP"}], "pages": {"$gt": 100}}'), [3]),
    case("books", [("pages", "500")], [2]),
    case(
        "books",
        [("status", "PUBLISH"), ("pages[lt]", "600"), ("sort", "-pages")],
        [2, 4],
    ),
    case("books", [("status", "MEAP"), ("where", '{"pages": {"$lt": 100}}')], [1]),
    # Numbers: 1 equals 1.0 but never "1.0" or true; 64-bit integers exact.
    case("numbers", [("x", "1")], [1, 2]),
    case("numbers", [("x", "1.0")], [1, 2, 3]),
    case("numbers", [("x", "true")], [4]),
    case("numbers", where('{"x": 1}'), [1, 2]),
    case("numbers", where('{"x": true}'), [4]),
    case("numbers", where('{"x": 9007199254740993}'), [5]),
    case("numbers", [("x[gt]", "9007199254740992")], [5, 8]),
    case("numbers", [("x", "9223372036854775807")], [8]),
    case("numbers", [("x[lt]", "-9223372036854775807")], [7]),
    # Sorting: missing and null, numbers, strings, booleans; ties by id.
    case("sortable", [("sort", "v")], [3, 4, 9, 6, 1, 11, 13, 7, 10, 2, 12, 8, 5]),
    case("sortable", [("sort", "-v")], [5, 8, 12, 2, 10, 7, 13, 1, 11, 6, 9, 3, 4]),
    case("sortable", [("sort", "v"), ("limit", "3"), ("offset", "2")], [9, 6, 1], 13),
    case("sortable", [("sort", "-v"), ("offset", "11")], [3, 4], 13),
    case("sortable", [("limit", "0")], [], 13),
    case("sortable", [("offset", "20")], [], 13),
    case("sortable", [("offset", "12"), ("limit", "5")], [13], 13),
    case("sortable", [("v[gte]", "a"), ("sort", "-v"), ("limit", "2")], [12, 2], 3),
    # Objects, then arrays, then booleans; objects and arrays tie among
    # themselves and fall back to the id.
    case("mixed", [("sort", "n")], [6, 7, 10, 1, 2, 3, 4, 9, 8, 12, 11, 5]),
    case("mixed", [("sort", "-n")], [5, 11, 8, 12, 9, 4, 3, 2, 1, 10, 6, 7]),
    case("people", [("sort", "last,-age")], ["b", "e", "d", "a", "c"]),
    case("people", [("sort", "-last,first")], ["d", "a", "c", "e", "b"]),
    case("people", [("sort", "age")], ["e", "b", "c", "a", "d"]),
    case("people", [("sort", "-age")], ["d", "a", "b", "c", "e"]),
    case("people", [("sort", "first"), ("last", "Smith")], ["d", "a", "c"]),
    case("ids", [], [-1, 2, 10, "5f0c2a9e1d3b4c5a6e7f8091", "a", "b"]),
    case(
        "ids",
        [("sort", "k"), ("limit", "2"), ("offset", "3")],
        ["5f0c2a9e1d3b4c5a6e7f8091", "a"],
        6,
    ),
    case("ids", [("sort", "-k")], [-1, 2, 10, "5f0c2a9e1d3b4c5a6e7f8091", "a", "b"]),
    case("ids", [("id", "10")], [10]),
    case("ids", [("id[in]", "a,2")], [2, "a"]),
    case("names", [("sort", "-address line 2")], [2, 1]),
    case("names", [("sort", "-a.b c")], [2, 1]),
]

N = ("n",)
PAGES = ("pages",)

QUERY_OBJECT_CASES = [
    case("mixed", Query(filter=Comparison(N, "eq", 1)), [1, 8], name="eq-typed-int"),
    case("mixed", Query(filter=Comparison(N, "eq", "1")), [3], name="eq-typed-text"),
    case("mixed", Query(filter=Comparison(N, "eq", None)), [6, 7], name="eq-null"),
    case("mixed", Query(filter=Comparison(N, "eq", [1, "x"])), [8], name="eq-array"),
    case("mixed", Query(filter=Comparison(N, "eq", [])), [12], name="eq-empty-array"),
    case("mixed", Query(filter=Comparison(N, "eq", {"k": 1})), [9], name="eq-object"),
    case("mixed", Query(filter=Comparison(N, "eq", False)), [11], name="eq-false"),
    case(
        "mixed",
        Query(filter=Comparison(N, "ne", True)),
        [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12],
        name="ne-true",
    ),
    case("mixed", Query(filter=Comparison(N, "in", ())), [], name="in-empty"),
    case(
        "mixed",
        Query(filter=Comparison(N, "nin", ())),
        list(range(1, 13)),
        name="nin-empty",
    ),
    case(
        "mixed",
        Query(filter=Comparison(N, "in", (None, True))),
        [5, 6, 7],
        name="in-null-true",
    ),
    case("mixed", Query(filter=Comparison(N, "gte", 2.5)), [2], name="gte-float"),
    case(
        "mixed",
        Query(filter=Comparison(N, "gt", -3.5)),
        [1, 2, 8, 10],
        name="gt-negative-float",
    ),
    case(
        "mixed",
        Query(filter=Comparison(N, "exists", True)),
        [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12],
        name="exists",
    ),
    case(
        "mixed",
        Query(filter=Comparison(N, "contains", "")),
        [3, 4, 8],
        name="contains-empty",
    ),
    case(
        "mixed",
        Query(filter=Comparison(N, "regex", Regex("^A", ignore_case=True))),
        [4],
        name="regex-i",
    ),
    case(
        "mixed",
        Query(filter=Not(Comparison(N, "exists", True))),
        [7],
        name="not-exists",
    ),
    case(
        "mixed",
        Query(filter=Or((Comparison(N, "eq", 2.5), Comparison(N, "eq", "abc")))),
        [2, 4],
        name="or",
    ),
    case(
        "mixed",
        Query(filter=And((Comparison(N, "gte", -5), Comparison(N, "lt", 2)))),
        [1, 8, 10],
        name="and",
    ),
    case(
        "mixed",
        Query(
            filter=Not(Or((Comparison(N, "exists", False), Comparison(N, "eq", None))))
        ),
        [1, 2, 3, 4, 5, 8, 9, 10, 11, 12],
        name="not-or",
    ),
    case("mixed", Query(filter=Search("ab")), [4], name="search"),
    case("mixed", Query(filter=Search("X")), [8], name="search-array"),
    case(
        "books",
        Query(filter=Comparison(PAGES, "lt", 100), sort=(SortKey(PAGES, True),)),
        [4, 1],
        name="sort-desc",
    ),
    case(
        "books",
        Query(
            filter=Comparison(("status",), "eq", "PUBLISH"),
            sort=(SortKey(PAGES),),
            limit=1,
            offset=1,
        ),
        [4],
        3,
        name="page",
    ),
    case(
        "people",
        Query(sort=(SortKey(("last",), True), SortKey(("age",))), limit=4),
        ["c", "a", "d", "e"],
        5,
        name="two-keys",
    ),
    case(
        "nested",
        Query(filter=Comparison(("author", "name"), "in", ("Bob", "Ann"))),
        [1, 2],
        name="in-dotted",
    ),
    case(
        "nested",
        Query(filter=Comparison(("tags",), "lt", 2)),
        [6],
        name="lt-array-element",
    ),
    case(
        "edges",
        Query(filter=Comparison(("o",), "eq", {"a": 1, "b": [2.0]})),
        [1],
        name="object-equality-across-number-kinds",
    ),
    case(
        "edges",
        Query(filter=Comparison(("o", "a"), "in", (1.0,))),
        [1, 2],
        name="in-float-matches-int",
    ),
    case(
        "edges",
        Query(filter=Comparison(("o",), "gt", 9.2e18)),
        [4],
        name="int64-max-above-float",
    ),
    case(
        "edges",
        Query(filter=Comparison(("o",), "lt", -9.2e18)),
        [6],
        name="int64-min-below-float",
    ),
    case(
        "edges",
        Query(sort=(SortKey(("o",)),), filter=Comparison(("o",), "gte", -(2**63))),
        [6, 5, 3, 4],
        name="sort-int64-among-floats",
    ),
]


def load(store, fixture):
    store.insert_many(fixture, [dict(document) for document in FIXTURES[fixture]])


def build(query):
    return query if isinstance(query, Query) else parse_query(query)


ALL_CASES = QUERY_STRING_CASES + QUERY_OBJECT_CASES


@pytest.mark.parametrize(("fixture", "query", "ids", "total"), ALL_CASES)
def test_reference_evaluate_matches_hand_written_answer(fixture, query, ids, total):
    assert reference.evaluate_ids(FIXTURES[fixture], build(query)) == (ids, total)


@pytest.mark.parametrize(("fixture", "query", "ids", "total"), ALL_CASES)
def test_find_query_returns_expected_ids_in_order(store, fixture, query, ids, total):
    load(store, fixture)
    query = build(query)

    result = store.find(fixture, query)

    assert [stored.id for stored in result.documents] == ids
    assert result.total == total
    assert store.count(fixture, query.filter) == total


@pytest.mark.parametrize(("fixture", "query", "ids", "total"), ALL_CASES)
def test_find_query_returns_whole_documents(store, fixture, query, ids, total):
    load(store, fixture)
    by_id = {document["id"]: document for document in FIXTURES[fixture]}

    result = store.find(fixture, build(query))

    assert [stored.document for stored in result.documents] == [by_id[i] for i in ids]


PROJECTION_CASES = [
    pytest.param(
        "nested",
        "author.name",
        [
            {"id": 1, "author": {"name": "Ann"}},
            {"id": 2, "author": {"name": "Bob"}},
            {"id": 3},
            {"id": 4, "author": {"name": None}},
            {"id": 5},
            {"id": 6, "author": {"name": {"first": "Ann"}}},
        ],
        id="dotted-path",
    ),
    pytest.param(
        "people",
        "first,missing",
        [
            {"id": "a", "first": "Ann"},
            {"id": "b", "first": "Bob"},
            {"id": "c", "first": "Cat"},
            {"id": "d"},
            {"id": "e", "first": "Al"},
        ],
        id="missing-field",
    ),
    pytest.param(
        "sortable",
        "v.x",
        [{"id": number} for number in range(1, 14)],
        id="through-scalars",
    ),
    pytest.param(
        "names",
        "address line 2,a",
        [
            {"id": 1, "address line 2": "Cardiff", "a": {"b c": 1}},
            {"id": 2, "address line 2": "London", "a": {"b c": 2}},
        ],
        id="names-with-spaces",
    ),
    pytest.param(
        "nested",
        "id",
        [{"id": number} for number in range(1, 7)],
        id="id-only",
    ),
]


@pytest.mark.parametrize(("fixture", "fields", "expected"), PROJECTION_CASES)
def test_find_fields_returns_projected_documents(store, fixture, fields, expected):
    load(store, fixture)
    query = parse_query([("fields", fields)])

    documents = [stored.document for stored in store.find(fixture, query).documents]

    assert documents == expected
    assert reference.evaluate(FIXTURES[fixture], query)[0] == expected


# The done-when checks of the query-language issue, on the real exports.


def read_export(name):
    """The documents of a mongoexport file, decoded as the importer does."""
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not there: the shared data sits next to the clone")
    with path.open(encoding="utf-8") as lines:
        return [decode_document(json.loads(line)) for line in lines]


def id_order(document_id):
    """Ids sort numbers first, then strings (the model's type ranks)."""
    return (isinstance(document_id, str), document_id)


def find_all(store, collection, pairs):
    """Every matching document, page by page, and the reported totals."""
    documents, totals, offset = [], set(), 0
    while True:
        page = [*pairs, ("limit", "1000"), ("offset", str(offset))]
        result = store.find(collection, parse_query(page))
        documents += [stored.document for stored in result.documents]
        totals.add(result.total)
        offset += 1000
        if offset >= result.total:
            return documents, totals


@pytest.fixture(scope="module")
def books():
    return read_export("books.json")


@pytest.fixture(scope="module")
def restaurants():
    return read_export("restaurant.json")


@pytest.fixture
def books_store(store, books):
    assert store.import_documents("books", iter(books)) == 431
    return store


def test_books_author_filter_returns_the_twelve_books(books_store, books):
    expected = sorted(
        (book["id"] for book in books if "Vikram Goyal" in book.get("authors", [])),
        key=id_order,
    )

    result = books_store.find("books", parse_query([("authors", "Vikram Goyal")]))

    assert len(expected) == 12
    assert [stored.id for stored in result.documents] == expected
    assert result.total == 12


def test_books_longest_first_returns_five_longest(books_store, books):
    longer = [book for book in books if book["pageCount"] > 500]
    longer.sort(key=lambda book: (-book["pageCount"], id_order(book["id"])))
    pairs = [("pageCount[gt]", "500"), ("sort", "-pageCount"), ("limit", "5")]

    result = books_store.find("books", parse_query(pairs))

    assert [stored.id for stored in result.documents] == [
        book["id"] for book in longer[:5]
    ]
    assert result.total == len(longer)


def test_books_where_or_matches_python_evaluation(books_store, books):
    expected = sorted(
        (
            book["id"]
            for book in books
            if book.get("status") == "MEAP"
            or (
                isinstance(book.get("pageCount"), int | float)
                and not isinstance(book.get("pageCount"), bool)
                and book["pageCount"] < 100
            )
        ),
        key=id_order,
    )
    text = '{"$or":[{"status":"MEAP"},{"pageCount":{"$lt":100}}]}'

    documents, totals = find_all(books_store, "books", [("where", text)])

    assert [document["id"] for document in documents] == expected
    assert totals == {len(expected)}


def test_books_fields_title_returns_only_id_and_title(books_store, books):
    expected = [
        {"id": book["id"], "title": book["title"]}
        for book in sorted(books, key=lambda book: id_order(book["id"]))
    ]

    documents, totals = find_all(books_store, "books", [("fields", "title")])

    assert documents == expected
    assert totals == {431}


@pytest.fixture
def restaurants_store(store, restaurants):
    assert store.import_documents("restaurants", iter(restaurants)) == 2548
    return store


def test_restaurants_rating_gte_returns_numeric_ratings_only(
    restaurants_store, restaurants
):
    expected = sorted(
        restaurant["id"]
        for restaurant in restaurants
        if reference.is_number(restaurant["rating"]) and restaurant["rating"] >= 5
    )

    documents, totals = find_all(
        restaurants_store, "restaurants", [("rating[gte]", "5")]
    )

    assert [document["id"] for document in documents] == expected
    assert all(reference.is_number(document["rating"]) for document in documents)
    assert totals == {len(expected)}


def test_restaurants_sort_rating_puts_numbers_before_strings(
    restaurants_store, restaurants
):
    def rating_order(restaurant):
        rating = restaurant["rating"]
        return (isinstance(rating, str), rating, restaurant["id"])

    expected = [
        restaurant["id"] for restaurant in sorted(restaurants, key=rating_order)
    ]

    documents, totals = find_all(restaurants_store, "restaurants", [("sort", "rating")])

    assert [document["id"] for document in documents] == expected
    assert isinstance(documents[0]["rating"], int | float)
    assert documents[-1]["rating"] == "Not yet rated"
    assert totals == {2548}
