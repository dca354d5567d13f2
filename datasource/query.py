"""The store-neutral query model: a filter tree, sort keys, a page, a projection.

The HTTP layer parses a query string into a ``Query`` once (see
``datasource.queryparse``); each store translates it into its own language.
Every store must give the same answer, with these semantics (MongoDB's):

- A ``Path`` walks nested objects by field name. The value it reaches is
  *missing* when a step meets a non-object or an absent field.
- ``eq`` matches when the value equals the operand, or when the value is an
  array and one of its elements equals it. Equality never crosses types:
  ``1 == 1.0`` but ``1 != "1"`` and ``1 != true``. Objects and arrays are equal
  when deeply equal. ``eq None`` also matches a missing value.
- ``ne`` and ``nin`` are the negations of ``eq`` and ``in`` (so they match
  documents that lack the field).
- ``gt gte lt lte`` take a number or a string and compare only values of the
  same kind (numbers with numbers, strings with strings by code point), on the
  value itself or on any element of an array value.
- ``in`` matches when ``eq`` matches any operand.
- ``exists`` True matches a present value (null included), False a missing one.
- ``contains`` and ``startswith`` match strings (or string elements of an
  array) containing, or starting with, the operand, ignoring case
  (``str.lower`` on both sides).
- ``regex`` matches strings (or string elements) where ``re.search`` finds
  the pattern; the operand is a ``Regex``.
- ``Search`` matches documents with a string anywhere in them (nested objects
  and arrays included) that contains the text, ignoring case.
- Sorting orders by type first, as MongoDB does: missing and null, then
  numbers, then strings, then objects, then arrays, then booleans (false
  before true); within numbers and strings by value. Ties, and values of
  the object and array kinds, fall back to the id, ascending, always: the
  id is the last sort key so paging is stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Operator = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "nin",
    "exists",
    "contains",
    "startswith",
    "regex",
]

OPERATORS: tuple[Operator, ...] = get_args(Operator)

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

Path = tuple[str, ...]


@dataclass(frozen=True)
class Regex:
    """A regular expression operand: Python ``re`` syntax, ``i`` flag optional."""

    pattern: str
    ignore_case: bool = False


@dataclass(frozen=True)
class Comparison:
    """One test of the value at ``path``.

    ``value`` is a JSON value for eq/ne/gt/gte/lt/lte, a tuple of JSON values for
    in/nin, a bool for exists, a str for contains/startswith, a ``Regex`` for
    regex.
    """

    path: Path
    op: Operator
    value: Any


@dataclass(frozen=True)
class And:
    clauses: tuple[Filter, ...]


@dataclass(frozen=True)
class Or:
    clauses: tuple[Filter, ...]


@dataclass(frozen=True)
class Not:
    clause: Filter


@dataclass(frozen=True)
class Search:
    """Full-document text search: any string anywhere contains ``text``."""

    text: str


Filter = Comparison | And | Or | Not | Search


@dataclass(frozen=True)
class SortKey:
    path: Path
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """Everything a list request asks of a store."""

    filter: Filter | None = None
    sort: tuple[SortKey, ...] = ()
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    fields: tuple[Path, ...] | None = None


def filter_paths(node: Filter | None) -> set[Path]:
    """Every field path a filter tests, for index bookkeeping."""
    if node is None or isinstance(node, Search):
        return set()
    if isinstance(node, Comparison):
        return {node.path}
    if isinstance(node, Not):
        return filter_paths(node.clause)
    paths: set[Path] = set()
    for clause in node.clauses:
        paths |= filter_paths(clause)
    return paths


def project(document: dict[str, Any], fields: tuple[Path, ...]) -> dict[str, Any]:
    """Keep only ``id`` and the given paths of a document, in their nested shape."""
    result: dict[str, Any] = {}
    if "id" in document:
        result["id"] = document["id"]
    for path in fields:
        _copy_path(document, result, path)
    return result


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: Path) -> None:
    head, rest = path[0], path[1:]
    if head not in source:
        return
    if not rest:
        target[head] = source[head]
        return
    inner = source[head]
    if isinstance(inner, dict):
        branch = target.setdefault(head, {})
        if isinstance(branch, dict):
            _copy_path(inner, branch, rest)
