"""A plain-Python evaluator of the query semantics in ``datasource.query``.

Written from the module docstring alone, without looking at any store, so
that the conformance and property suites compare every store with an
independent reading of the same rules. It favours clarity over speed: it
walks every document of a small list.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

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

MISSING = object()

# Sort ranks by type, MongoDB's order: missing and null, numbers, strings,
# objects, arrays, booleans.
_RANK_NULL, _RANK_NUMBER, _RANK_STRING = 0, 1, 2
_RANK_OBJECT, _RANK_ARRAY, _RANK_BOOLEAN = 3, 4, 5


def is_number(value: Any) -> bool:
    """True for JSON numbers (booleans are not numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def resolve(document: dict[str, Any], path: Path) -> Any:
    """The value a path reaches, or ``MISSING`` when a step meets a non-object
    or an absent field."""
    value: Any = document
    for name in path:
        if not isinstance(value, dict) or name not in value:
            return MISSING
        value = value[name]
    return value


def json_equal(left: Any, right: Any) -> bool:
    """Equality that never crosses types: 1 == 1.0, 1 != "1", 1 != true."""
    if is_number(left) and is_number(right):
        return bool(left == right)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(
            json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            json_equal(left[key], right[key]) for key in left
        )
    if left is None or right is None:
        return left is None and right is None
    return type(left) is type(right) and left == right


def _candidates(value: Any) -> list[Any]:
    """The value itself and, for an array, each of its elements."""
    if isinstance(value, list):
        return [value, *value]
    return [value]


def _equals(value: Any, operand: Any) -> bool:
    if value is MISSING:
        return operand is None
    return any(json_equal(item, operand) for item in _candidates(value))


def _same_kind(item: Any, operand: Any) -> bool:
    if is_number(operand):
        return is_number(item)
    return isinstance(item, str) and isinstance(operand, str)


def _ordered(value: Any, operand: Any, test: Callable[[Any, Any], Any]) -> bool:
    if value is MISSING:
        return False
    return any(
        _same_kind(item, operand) and test(item, operand) for item in _candidates(value)
    )


def _strings(value: Any) -> list[str]:
    """The string value, or the string elements of an array value."""
    if value is MISSING:
        return []
    return [item for item in _candidates(value) if isinstance(item, str)]


def _regex_matches(value: Any, regex: Regex) -> bool:
    flags = re.IGNORECASE if regex.ignore_case else 0
    pattern = re.compile(regex.pattern, flags)
    return any(pattern.search(text) for text in _strings(value))


def _contains(value: Any, operand: str) -> bool:
    return any(operand.lower() in text.lower() for text in _strings(value))


def _starts_with(value: Any, operand: str) -> bool:
    return any(text.lower().startswith(operand.lower()) for text in _strings(value))


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _equals,
    "ne": lambda value, operand: not _equals(value, operand),
    "gt": lambda value, operand: _ordered(value, operand, operator.gt),
    "gte": lambda value, operand: _ordered(value, operand, operator.ge),
    "lt": lambda value, operand: _ordered(value, operand, operator.lt),
    "lte": lambda value, operand: _ordered(value, operand, operator.le),
    "in": lambda value, operand: any(_equals(value, item) for item in operand),
    "nin": lambda value, operand: not any(_equals(value, item) for item in operand),
    "exists": lambda value, operand: (value is not MISSING) == operand,
    "contains": _contains,
    "startswith": _starts_with,
    "regex": _regex_matches,
}


def _comparison_matches(document: dict[str, Any], node: Comparison) -> bool:
    return _TESTS[node.op](resolve(document, node.path), node.value)


def _all_strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON value (object keys excluded)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _all_strings(item)]
    return []


def matches(document: dict[str, Any], node: Filter | None) -> bool:
    """Whether a document satisfies a filter (None matches everything)."""
    if node is None:
        return True
    if isinstance(node, Comparison):
        return _comparison_matches(document, node)
    if isinstance(node, And):
        return all(matches(document, clause) for clause in node.clauses)
    if isinstance(node, Or):
        return any(matches(document, clause) for clause in node.clauses)
    if isinstance(node, Not):
        return not matches(document, node.clause)
    if isinstance(node, Search):
        needle = node.text.lower()
        return any(needle in text.lower() for text in _all_strings(document))
    raise TypeError(f"Unknown filter node {node!r}.")


def sort_rank(value: Any) -> tuple[int, Any]:
    """Where a value sorts: its type rank, then what orders it within the rank."""
    if value is MISSING or value is None:
        return (_RANK_NULL, 0)
    if isinstance(value, bool):
        return (_RANK_BOOLEAN, int(value))
    if is_number(value):
        return (_RANK_NUMBER, value)
    if isinstance(value, str):
        return (_RANK_STRING, value)
    if isinstance(value, dict):
        return (_RANK_OBJECT, 0)
    return (_RANK_ARRAY, 0)


def _compare(left: Any, right: Any) -> int:
    a, b = sort_rank(left), sort_rank(right)
    return (a > b) - (a < b)


def _document_order(keys: Sequence[SortKey]) -> Any:
    def compare(left: dict[str, Any], right: dict[str, Any]) -> int:
        for key in keys:
            outcome = _compare(resolve(left, key.path), resolve(right, key.path))
            if outcome:
                return -outcome if key.descending else outcome
        return _compare(left["id"], right["id"])

    return functools.cmp_to_key(compare)


def sort_documents(
    documents: Sequence[dict[str, Any]], keys: Sequence[SortKey]
) -> list[dict[str, Any]]:
    """Documents in the order the sort keys give, ties broken by id ascending."""
    return sorted(documents, key=_document_order(keys))


def _copy_path(source: dict[str, Any], target: dict[str, Any], path: Path) -> None:
    name = path[0]
    if name not in source:
        return
    if len(path) == 1:
        target[name] = source[name]
    elif isinstance(source[name], dict):
        inner = target.setdefault(name, {})
        _copy_path(source[name], inner, path[1:])


def project_document(
    document: dict[str, Any], fields: Sequence[Path]
) -> dict[str, Any]:
    """Only ``id`` and the given paths, nested as in the document."""
    result: dict[str, Any] = {"id": document["id"]}
    for path in fields:
        _copy_path(document, result, path)
    return result


def evaluate(
    documents: Sequence[dict[str, Any]], query: Query
) -> tuple[list[dict[str, Any]], int]:
    """The page of documents a store must return for the query, and the total."""
    selected = [document for document in documents if matches(document, query.filter)]
    ordered = sort_documents(selected, query.sort)
    page = ordered[query.offset : query.offset + query.limit]
    if query.fields is not None:
        page = [project_document(document, query.fields) for document in page]
    return page, len(selected)


def evaluate_ids(
    documents: Sequence[dict[str, Any]], query: Query
) -> tuple[list[Any], int]:
    """The ids of the page, in order, and the total."""
    page, total = evaluate(documents, query)
    return [document["id"] for document in page], total
