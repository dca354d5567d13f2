"""Translate a ``Query`` into parameterised SQLite SQL over JSON documents.

Each document is one row whose ``body`` column holds its JSON text. A field is
read with ``json_type`` and ``json_extract`` at a JSON path; two expressions
per path carry the semantics of ``datasource.query``:

- the *rank*: 0 missing or null, 1 number, 2 string, 3 object, 4 array,
  5 boolean (MongoDB's type order, used for sorting and type-strict tests);
- the *value*: the field's SQL value for scalars (booleans as 0 and 1),
  NULL for objects and arrays, which sort by id only.

Filters compare rank and value together, so ``1`` never equals ``"1"`` or
``true``; arrays are searched element by element with ``json_each``. The same
two expressions, with the path written as a literal, are the columns of the
expression index a store creates for a field (see ``index_columns``): SQLite
uses an index only for expressions spelt exactly as indexed, so indexed paths
are inlined as validated literals while every other path and every operand
is a bound parameter.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson
import regex

from datasource.errors import InvalidQuery
from datasource.jsonio import INT64_MAX, INT64_MIN
from datasource.query import (
    And,
    Comparison,
    Filter,
    Not,
    Or,
    Path,
    Query,
    Regex,
    Search,
    SortKey,
)

__all__ = [
    "ELEMENT_RANK",
    "FieldIndex",
    "Translation",
    "canonical_json",
    "index_columns",
    "json_path",
    "rank_of",
    "register_functions",
    "regex_time_limit",
    "translate_filter",
    "translate_query",
]

# Characters SQLite's JSON path parser cannot express inside a quoted label:
# it compares labels with the raw (still escaped) key text, and the encoder
# escapes exactly these.
_UNSAFE_SEGMENT = re.compile(r'["\\\x00-\x1f]')

# The search prefilter: a lowered needle of printable ASCII without the
# characters JSON escapes appears in the lowered JSON text of a document
# whenever it appears in one of the document's lowered strings: str.lower maps
# characters one by one (but for the final sigma, which is not ASCII) and the
# escapes touch only characters the needle lacks. Testing the whole text first
# spares json_tree for most rows.
_PLAIN_NEEDLE = re.compile(r"[ !#-\[\]-~]*")


# Time the regular expressions of one list or count statement may take in all.
REGEX_SECONDS = 2.0
_regex_budget = threading.local()

_RANGE_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

# The type rank of each kind of operand.
_RANK = {"null": 0, "number": 1, "string": 2, "object": 3, "array": 4, "boolean": 5}

# The rank of an array element from json_each's type column.
ELEMENT_RANK = (
    "CASE type WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 "
    "WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'true' THEN 5 "
    "WHEN 'false' THEN 5 ELSE 0 END"
)

# A test of one array element, given the SQL of its rank and of its value.
ElementTest = Callable[[str, str], str]


@dataclass(frozen=True)
class FieldIndex:
    """The indexes a store keeps for one field path.

    ``name`` is the expression index over (rank, value, id); the elements of
    array values live in the table ``elements``, in the rows whose ``x`` is
    ``number``, with columns ``rank``, ``value`` and ``doc`` (a rowid).
    """

    name: str
    number: int
    elements: str


_NO_INDEXES: Mapping[Path, FieldIndex] = MappingProxyType({})


def json_path(path: Path) -> str:
    """The SQLite JSON path of a field path: ``$."a"."b"``.

    :raises InvalidQuery: for an empty path, an empty field name, or a name
        with a double quote, a backslash or a control character.
    """
    if not path:
        raise InvalidQuery("A field path needs at least one field name.")
    for segment in path:
        if not segment or _UNSAFE_SEGMENT.search(segment):
            raise InvalidQuery(
                f"The field name {segment!r} cannot be queried: use a name that "
                "is not empty and has no double quote, backslash or control "
                "character."
            )
    return "$" + "".join(f'."{segment}"' for segment in path)


def _literal(text: str) -> str:
    """A SQL string literal (only ever used for validated JSON paths)."""
    return "'" + text.replace("'", "''") + "'"


def _rank_sql(path_sql: str) -> str:
    return (
        f"CASE json_type(body, {path_sql}) WHEN 'integer' THEN 1 "
        "WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'object' THEN 3 "
        "WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5 ELSE 0 END"
    )


def _value_sql(path_sql: str) -> str:
    return (
        f"CASE json_type(body, {path_sql}) WHEN 'object' THEN NULL "
        f"WHEN 'array' THEN NULL ELSE json_extract(body, {path_sql}) END"
    )


def rank_of(path: Path) -> str:
    """The rank expression of an indexed path, spelt as its index spells it."""
    return _rank_sql(_literal(json_path(path)))


def index_columns(path: Path) -> str:
    """The column list of the expression index on one field: rank, value, id."""
    path_sql = _literal(json_path(path))
    return f"{_rank_sql(path_sql)}, {_value_sql(path_sql)}, id"


@dataclass(frozen=True)
class Translation:
    """A WHERE clause, an ORDER BY clause and their named parameters."""

    where: str
    order_by: str
    params: dict[str, Any]


def translate_query(
    query: Query,
    indexed: Mapping[Path, FieldIndex] = _NO_INDEXES,
    has_arrays: Callable[[Path], bool] | None = None,
) -> Translation:
    """Translate the filter and sort of a query (the page is bound by the caller).

    ``has_arrays`` tells whether any document holds an array at an indexed
    path; when none does, filters skip the element test and stay one index
    range (which also lets the index order the result).

    :raises InvalidQuery: for a path or operand the store cannot express.
    """
    builder = _Builder(indexed, has_arrays)
    where = builder.filter(query.filter)
    order_by = builder.order_by(query.sort)
    return Translation(where, order_by, builder.params)


def translate_filter(
    node: Filter | None,
    indexed: Mapping[Path, FieldIndex] = _NO_INDEXES,
    has_arrays: Callable[[Path], bool] | None = None,
) -> Translation:
    """Translate a filter alone (for counting); ``order_by`` is the id."""
    builder = _Builder(indexed, has_arrays)
    return Translation(builder.filter(node), "id", builder.params)


class _Builder:
    """Builds SQL text while collecting the values it binds."""

    def __init__(
        self,
        indexed: Mapping[Path, FieldIndex],
        has_arrays: Callable[[Path], bool] | None,
    ) -> None:
        self.params: dict[str, Any] = {}
        self._indexed = indexed
        self._has_arrays = has_arrays
        self._array_paths: dict[Path, bool] = {}
        self._pinned: set[Path] = set()

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def path(self, path: Path) -> str:
        """The path as a literal when an index may serve it, else a parameter."""
        text = json_path(path)
        if path in self._indexed:
            return _literal(text)
        return self.bind(text)

    def filter(self, node: Filter | None, is_required: bool = True) -> str:
        """SQL for a filter; ``is_required`` when every match must pass it."""
        if node is None:
            return "1"
        if isinstance(node, Comparison):
            if is_required:
                self._pin_rank(node)
            return self.comparison(node)
        if isinstance(node, Search):
            return self.search(node.text)
        if isinstance(node, Not):
            return f"NOT ({self.filter(node.clause, False)})"
        if isinstance(node, And):
            return self._join(node.clauses, " AND ", "1", is_required)
        if isinstance(node, Or):
            is_single = is_required and len(node.clauses) == 1
            return self._join(node.clauses, " OR ", "0", is_single)
        raise InvalidQuery(f"The filter {node!r} is not a known kind of filter.")

    def _join(
        self, clauses: tuple[Filter, ...], glue: str, empty: str, is_required: bool
    ) -> str:
        if not clauses:
            return empty
        parts = [self.filter(clause, is_required) for clause in clauses]
        return "(" + glue.join(parts) + ")"

    def _pin_rank(self, node: Comparison) -> None:
        """Note a path whose type rank every match shares.

        SQLite cannot see that an ORDER BY term is constant when the WHERE
        clause fixes it through an expression index, so ``order_by`` leaves
        such a rank out; the index can then order the matches itself.
        """
        if node.op in ("eq", *_RANGE_OPERATORS):
            operands: Sequence[Any] = (node.value,)
        elif node.op == "in" and isinstance(node.value, list | tuple):
            operands = node.value
        else:
            return
        kinds = {_kind(operand) for operand in operands}
        if len(kinds) == 1 and kinds <= {"number", "string", "boolean"}:
            if not self._may_hold_arrays(node.path):
                self._pinned.add(node.path)

    def comparison(self, node: Comparison) -> str:
        op = node.op
        if op in ("eq", "ne"):
            sql = self.equality(node.path, (node.value,))
            return sql if op == "eq" else f"NOT ({sql})"
        if op in ("in", "nin"):
            sql = self.equality(node.path, _operand_list(node))
            return sql if op == "in" else f"NOT ({sql})"
        if op in _RANGE_OPERATORS:
            return self.range(node.path, _RANGE_OPERATORS[op], node.value)
        if op == "exists":
            return self.exists(node.path, node.value)
        if op in ("contains", "startswith", "regex"):
            return self.text_match(node)
        raise InvalidQuery(f"The operator {op!r} is not supported.")

    def equality(self, path: Path, operands: Sequence[Any]) -> str:
        """Match the value, or any element of an array value, equal to an operand."""
        path_sql = self.path(path)
        rank, value = _rank_sql(path_sql), _value_sql(path_sql)
        direct: list[str] = []
        element: list[ElementTest] = []
        for kind, values in _group_operands(operands).items():
            names = ", ".join(self.bind(item) for item in values)
            direct.append(
                _equality_test(kind, names, rank, _tested(kind, value, path_sql))
            )
            element.append(functools.partial(_element_equality, kind, names))
        if not direct:
            return "0"

        return self._or_elements(path, " OR ".join(direct), path_sql, *element)

    def _may_hold_arrays(self, path: Path) -> bool:
        """False only when an index shows no document has an array there."""
        if self._has_arrays is None or path not in self._indexed:
            return True
        if path not in self._array_paths:
            self._array_paths[path] = self._has_arrays(path)
        return self._array_paths[path]

    def _or_elements(
        self, path: Path, direct: str, path_sql: str, *tests: ElementTest
    ) -> str:
        """The direct test, or-ed with tests of an array's elements.

        On an indexed field the elements come from its element table, one
        index lookup per test; elsewhere json_each walks each array.
        """
        if not self._may_hold_arrays(path):
            return f"({direct})"
        index = self._indexed.get(path)
        if index is not None:
            elements = [
                f"rowid IN (SELECT doc FROM {index.elements} "
                f"WHERE x = {index.number} AND {test('rank', 'value')})"
                for test in tests
            ]
        else:
            any_test = " OR ".join(test(ELEMENT_RANK, "value") for test in tests)
            elements = [
                f"({_rank_sql(path_sql)} = 4 AND EXISTS (SELECT 1 FROM "
                f"json_each(body, {path_sql}) WHERE {any_test}))"
            ]
        return f"({direct} OR {' OR '.join(elements)})"

    def range(self, path: Path, symbol: str, operand: Any) -> str:
        """Compare numbers with numbers or strings with strings, elements too."""
        kind = _kind(operand)
        if kind not in ("number", "string"):
            return "0"  # only numbers and strings are ordered; nothing matches
        name = self.bind(_bindable(operand))
        path_sql = self.path(path)
        rank, value = _rank_sql(path_sql), _value_sql(path_sql)
        direct = f"({rank} = {_RANK[kind]} AND {value} {symbol} {name})"

        def element(element_rank: str, element_value: str) -> str:
            return (
                f"({element_rank} = {_RANK[kind]} AND {element_value} {symbol} {name})"
            )

        return self._or_elements(path, direct, path_sql, element)

    def exists(self, path: Path, operand: Any) -> str:
        if not isinstance(operand, bool):
            raise InvalidQuery(f"The exists operand {operand!r} must be true or false.")
        path_sql = self.path(path)
        if operand:
            return f"json_type(body, {path_sql}) IS NOT NULL"
        return f"({_rank_sql(path_sql)} = 0 AND json_type(body, {path_sql}) IS NULL)"

    def text_match(self, node: Comparison) -> str:
        """contains, startswith and regex: on strings and string elements."""
        function, operand = _text_function(node)
        name = self.bind(operand)
        path_sql = self.path(node.path)
        rank, value = _rank_sql(path_sql), _value_sql(path_sql)
        direct = f"({rank} = 2 AND {function}({name}, {value}))"

        def element(element_rank: str, element_value: str) -> str:
            return f"({element_rank} = 2 AND {function}({name}, {element_value}))"

        return self._or_elements(node.path, direct, path_sql, element)

    def search(self, text: Any) -> str:
        """Any string anywhere in the document contains the text, ignoring case."""
        if not isinstance(text, str):
            raise InvalidQuery(f"The search text {text!r} must be a string.")
        needle = text.lower()
        name = self.bind(needle)
        tree = (
            "EXISTS (SELECT 1 FROM json_tree(body) WHERE type = 'text' "
            f"AND ds_contains({name}, value))"
        )
        if _PLAIN_NEEDLE.fullmatch(needle):
            return f"(ds_contains({name}, body) AND {tree})"
        return tree

    def order_by(self, sort: tuple[SortKey, ...]) -> str:
        """Type rank, then value, per key; the id ascending breaks every tie."""
        terms: list[str] = []
        for key in sort:
            path_sql = self.path(key.path)
            direction = " DESC" if key.descending else ""
            if key.path not in self._pinned:
                terms.append(_rank_sql(path_sql) + direction)
            terms.append(_value_sql(path_sql) + direction)
        terms.append("id")
        return ", ".join(terms)


def _operand_list(node: Comparison) -> Sequence[Any]:
    if not isinstance(node.value, list | tuple):
        raise InvalidQuery(
            f"The {node.op} operand {node.value!r} must be a list of values."
        )
    return tuple(node.value)


def _kind(value: Any) -> str:
    """The JSON kind of an operand, named as the rank table names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    raise InvalidQuery(f"The operand {value!r} is not a JSON value.")


def _group_operands(operands: Sequence[Any]) -> dict[str, list[Any]]:
    """Operands by kind, converted to what SQLite compares them with."""
    groups: dict[str, list[Any]] = {}
    for operand in operands:
        kind = _kind(operand)
        if kind in ("object", "array"):
            converted: Any = canonical_json(operand)
        else:
            converted = _bindable(operand)
        groups.setdefault(kind, []).append(converted)
    return groups


def _bindable(value: Any) -> Any:
    """Booleans as SQLite stores them; integers beyond 64 bits as floats."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return float(value)
    return value


def _tested(kind: str, value_sql: str, path_sql: str) -> str:
    """What an operand of this kind is compared with at the top level."""
    if kind in ("object", "array"):
        return f"ds_canonical(json_extract(body, {path_sql}))"
    return value_sql


def _equality_test(kind: str, names: str, rank: str, tested: str) -> str:
    """The value has the operand's rank and equals one of the operands."""
    if kind == "null":
        return f"{rank} = 0"
    return f"({rank} = {_RANK[kind]} AND {tested} IN ({names}))"


def _element_equality(
    kind: str, names: str, element_rank: str, element_value: str
) -> str:
    if kind == "null":
        return f"{element_rank} = 0"
    if kind in ("object", "array"):
        element_value = f"ds_canonical({element_value})"
    return f"({element_rank} = {_RANK[kind]} AND {element_value} IN ({names}))"


def _text_function(node: Comparison) -> tuple[str, str]:
    """The SQL function and operand of contains, startswith or regex."""
    if node.op == "regex":
        if not isinstance(node.value, Regex):
            raise InvalidQuery(f"The regex operand {node.value!r} must be a pattern.")
        pattern = ("(?i)" if node.value.ignore_case else "") + node.value.pattern
        _compiled(pattern)
        return "regexp", pattern
    if not isinstance(node.value, str):
        raise InvalidQuery(f"The {node.op} operand {node.value!r} must be a string.")
    function = "ds_contains" if node.op == "contains" else "ds_startswith"
    return function, node.value.lower()


def _normalized(value: Any) -> Any:
    """A JSON value with integral floats as integers, so 1.0 equals 1."""
    if isinstance(value, dict):
        return {key: _normalized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalized(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        if INT64_MIN <= value <= INT64_MAX:
            return int(value)
    return value


def canonical_json(value: Any) -> str:
    """One text per deeply equal JSON value: sorted keys, integral floats as ints."""
    return orjson.dumps(_normalized(value), option=orjson.OPT_SORT_KEYS).decode()


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern[str]:
    try:
        re.compile(pattern)
        return regex.compile(pattern, flags=regex.VERSION0)
    except (re.error, regex.error, OverflowError) as exc:
        raise InvalidQuery(
            f"The regular expression {pattern!r} does not compile ({exc}); "
            "fix it using Python re syntax."
        ) from None


@contextmanager
def regex_time_limit(seconds: float = REGEX_SECONDS) -> Iterator[None]:
    """Bound the time regular expressions may take within one statement.

    A pattern that backtracks catastrophically would otherwise hold a worker
    for as long as it pleases.

    :raises InvalidQuery: when the patterns of the statement ran out of time.
    """
    _regex_budget.deadline = time.monotonic() + seconds
    _regex_budget.is_exhausted = False
    try:
        yield
    except sqlite3.OperationalError:
        if _regex_budget.is_exhausted:
            raise InvalidQuery(
                f"The regular expression took more than {seconds:g} s over this "
                "collection; simplify it (avoid nested repetition such as (a+)+) "
                "or narrow the query with other filters."
            ) from None
        raise
    finally:
        _regex_budget.deadline = None


def _regexp(pattern: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    deadline: float | None = getattr(_regex_budget, "deadline", None)
    remaining = None if deadline is None else deadline - time.monotonic()
    try:
        if remaining is not None and remaining <= 0:
            raise TimeoutError("regular expression time limit reached")
        return _compiled(pattern).search(value, timeout=remaining) is not None
    except TimeoutError:
        _regex_budget.is_exhausted = True
        raise
    except InvalidQuery:
        return False


def _contains(needle: str, value: Any) -> bool:
    return isinstance(value, str) and needle in value.lower()


def _startswith(prefix: str, value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(prefix)


def _canonical_text(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return canonical_json(orjson.loads(text))
    except (orjson.JSONDecodeError, TypeError):
        return None


def register_functions(connection: Any) -> None:
    """Register the deterministic functions the translated SQL calls."""
    functions = {
        "regexp": _regexp,
        "ds_contains": _contains,
        "ds_startswith": _startswith,
    }
    for name, function in functions.items():
        connection.create_function(name, 2, function, deterministic=True)
    connection.create_function("ds_canonical", 1, _canonical_text, deterministic=True)
