"""Property tests: on generated documents and queries, every store answers
exactly as the reference evaluator (``reference.py``) does, order included.

Generation stays inside what ``datasource.query`` defines:

- Dotted paths never pass through an array: ``o`` is an object or a scalar,
  never an array, and arrays only sit at the end of a path (``a``, ``o.b``).
- Sort keys only reach scalars (``s`` and ``o.a``): the order of objects and
  arrays among themselves is left to the stores.
- Object operands keep the key order of the generated documents, since
  MongoDB compares objects field by field in order.
- Search texts and string ids use disjoint letters, because whether a search
  also looks at a string id is not fixed by the model.
- Regular expressions come from a small list that Python ``re`` and PCRE
  read the same way.

Runs are derandomized so CI sees the same examples every time.
"""

from __future__ import annotations

import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasource.query import (
    MAX_LIMIT,
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

COLLECTION = "items"

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Letters of generated strings; string ids use only "q" and "z", which never
# appear here.
TEXT_ALPHABET = "aAbéÉ1%_."

integers = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([2**53 + 1, 2**63 - 1, -(2**63)]),
)
floats = st.one_of(
    st.sampled_from([-1.5, 0.5, 1.0, 2.0, 2.5]),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)
numbers = st.one_of(integers, floats)
texts = st.text(alphabet=TEXT_ALPHABET, max_size=3)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
arrays = st.lists(scalars, max_size=3)
objects = st.fixed_dictionaries({}, optional={"a": scalars, "b": scalars})
values = st.one_of(scalars, arrays, objects)

# "o" is an object (whose "a" is a scalar and "b" a scalar or an array) or a
# scalar; never an array, so paths through it stay defined.
nested = st.one_of(
    scalars,
    st.fixed_dictionaries({}, optional={"a": scalars, "b": st.one_of(scalars, arrays)}),
)

documents_bodies = st.fixed_dictionaries(
    {}, optional={"a": values, "s": scalars, "o": nested}
)
document_ids = st.one_of(
    st.integers(-20, 20), st.text(alphabet="qz", min_size=1, max_size=3)
)

PATHS = [("a",), ("s",), ("o",), ("o", "a"), ("o", "b")]
SORTABLE_PATHS = [("s",), ("o", "a")]
PATTERNS = ["^a", "a$", "é", "A|b", "^$", "\\d", "[%_]", "^.{2}$", "b.", "^A"]


@st.composite
def document_sets(draw):
    """Up to eight documents with unique ids of both kinds."""
    ids = draw(st.lists(document_ids, max_size=8, unique=True))
    return [{"id": document_id, **draw(documents_bodies)} for document_id in ids]


def comparisons():
    path = st.sampled_from(PATHS)
    regexes = st.builds(Regex, st.sampled_from(PATTERNS), st.booleans())
    return st.one_of(
        st.builds(Comparison, path, st.sampled_from(["eq", "ne"]), values),
        st.builds(
            Comparison,
            path,
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            st.one_of(numbers, texts),
        ),
        st.builds(
            Comparison,
            path,
            st.sampled_from(["in", "nin"]),
            st.lists(values, max_size=3).map(tuple),
        ),
        st.builds(Comparison, path, st.just("exists"), st.booleans()),
        st.builds(Comparison, path, st.sampled_from(["contains", "startswith"]), texts),
        st.builds(Comparison, path, st.just("regex"), regexes),
    )


def combine(children):
    groups = st.lists(children, min_size=1, max_size=3).map(tuple)
    return st.one_of(
        groups.map(And),
        groups.map(Or),
        st.builds(Not, children),
    )


searches = st.builds(Search, st.text(alphabet=TEXT_ALPHABET, min_size=1, max_size=2))
filters = st.recursive(st.one_of(comparisons(), searches), combine, max_leaves=5)
sort_keys = st.lists(
    st.builds(SortKey, st.sampled_from(SORTABLE_PATHS), st.booleans()), max_size=2
).map(tuple)


def load(store, documents):
    """Start the example from an empty collection holding ``documents``."""
    store.drop_collection(COLLECTION)
    if documents:
        store.insert_many(COLLECTION, [dict(document) for document in documents])


def assert_same_answer(store, documents, query):
    expected_page, expected_total = reference.evaluate(documents, query)

    result = store.find(COLLECTION, query)

    assert [stored.id for stored in result.documents] == [
        document["id"] for document in expected_page
    ]
    assert [stored.document for stored in result.documents] == expected_page
    assert result.total == expected_total


@PROPERTY_SETTINGS
@given(documents=document_sets(), node=filters)
def test_find_generated_filter_matches_reference(store, documents, node):
    load(store, documents)

    assert_same_answer(store, documents, Query(filter=node, limit=MAX_LIMIT))
    assert store.count(COLLECTION, node) == len(
        [document for document in documents if reference.matches(document, node)]
    )


@PROPERTY_SETTINGS
@given(
    documents=document_sets(),
    node=st.one_of(st.none(), comparisons()),
    keys=sort_keys,
    limit=st.integers(0, 5),
    offset=st.integers(0, 6),
)
def test_find_generated_sort_and_page_matches_reference(
    store, documents, node, keys, limit, offset
):
    load(store, documents)

    query = Query(filter=node, sort=keys, limit=limit, offset=offset)
    assert_same_answer(store, documents, query)


@PROPERTY_SETTINGS
@given(
    documents=document_sets(),
    fields=st.lists(st.sampled_from(PATHS), min_size=1, max_size=3).map(tuple),
    keys=sort_keys,
)
def test_find_generated_projection_matches_reference(store, documents, fields, keys):
    load(store, documents)

    assert_same_answer(store, documents, Query(sort=keys, fields=fields))


FILTER_NAMES = ["a", "s", "o", "o.a", "o.b"]
QUERY_STRING_VALUES = [
    "1",
    "-2",
    "2.5",
    "1.0",
    "true",
    "false",
    "null",
    "a",
    "A",
    "é",
    "",
    "1,a",
    "null,2.5",
    "%",
    "_",
]
VALUE_OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]
TEXT_OPERATORS = ["contains", "startswith"]


@st.composite
def field_filters(draw):
    """One ``field[op]=value`` pair as a query string carries it."""
    name = draw(st.sampled_from(FILTER_NAMES))
    operator = draw(st.sampled_from([*VALUE_OPERATORS, *TEXT_OPERATORS, "exists"]))
    if operator == "exists":
        value = draw(st.sampled_from(["true", "false"]))
    else:
        value = draw(st.sampled_from(QUERY_STRING_VALUES))
    return (
        name if operator == "eq" and draw(st.booleans()) else f"{name}[{operator}]",
        value,
    )


@PROPERTY_SETTINGS
@given(
    documents=document_sets(),
    pairs=st.lists(field_filters(), min_size=1, max_size=3),
    sort=st.sampled_from([[], [("sort", "s")], [("sort", "-o.a,s")]]),
)
def test_find_generated_query_string_matches_reference(store, documents, pairs, sort):
    load(store, documents)

    assert_same_answer(store, documents, parse_query([*pairs, *sort]))
