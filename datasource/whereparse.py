"""Parse the ``where`` parameter: a MongoDB-style JSON filter, into a filter tree.

The Listing section of the HTTP contract defines the filter. Keys are dotted
field paths or the logical operators ``$and``, ``$or``, ``$nor`` and ``$not``;
a field's condition is a value it must equal or an operator object. Unlike a
query-string value, every operand keeps its JSON type. The JSON is decoded
strictly: no NaN or Infinity, no key twice in one object, no lone surrogate,
and no nesting deeper than ``MAX_WHERE_DEPTH``.

The pieces both parsers share live here too (``queryparse`` builds on this
module): the error naming a parameter, dotted paths, and AND of clauses.
Every problem raises ``InvalidQuery`` whose single ``ErrorDetail`` names the
parameter.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from datasource.errors import ErrorDetail, InvalidQuery
from datasource.query import (
    And,
    Comparison,
    Filter,
    Not,
    Operator,
    Or,
    Path,
    Regex,
)

__all__ = [
    "MAX_WHERE_DEPTH",
    "WHERE_OPERATORS",
    "all_of",
    "int64_or_float",
    "invalid_parameter",
    "is_unicode",
    "parse_filter",
    "parse_path",
    "parse_where",
]

WHERE_OPERATORS: tuple[str, ...] = (
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$exists",
    "$regex",
    "$options",
    "$not",
)

# Nesting of the where filter (JSON arrays and objects); deep enough for any
# hand-written filter, shallow enough that no store chokes on an operand.
MAX_WHERE_DEPTH = 32

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_COMPARISONS = frozenset({"gt", "gte", "lt", "lte"})
_TYPED_OPERATORS: dict[str, Operator] = {
    "$eq": "eq",
    "$ne": "ne",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
    "$in": "in",
    "$nin": "nin",
    "$exists": "exists",
}
_WHERE_EXAMPLE = '{"status": "MEAP"}'


def parse_where(text: str) -> Filter:
    """Decode the ``where`` parameter's JSON and translate the filter.

    :raises InvalidQuery: for text that is not JSON, JSON nested deeper than
        ``MAX_WHERE_DEPTH`` or holding a lone surrogate, or a malformed filter.
    """
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_json_float,
            parse_int=_parse_json_int,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except (ValueError, RecursionError) as exc:
        raise invalid_parameter(
            "where",
            f"The parameter 'where' is not valid JSON ({_reason(exc)}): {_show(text)}; "
            f"send a JSON object such as {_WHERE_EXAMPLE}.",
        ) from None
    _check_depth(value)
    if not is_unicode(json.dumps(value, ensure_ascii=False)):
        raise invalid_parameter(
            "where",
            "The parameter 'where' holds a lone surrogate escape such as \\ud800, "
            "which is not text; write each character as itself or as a valid pair.",
        )
    return parse_filter(value)


def parse_filter(value: Any) -> Filter:
    """Translate a decoded MongoDB-style filter object into a filter tree.

    Keys are dotted field paths, ``$and``/``$or``/``$nor`` (non-empty arrays
    of filter objects) or ``$not`` (a filter object). An empty object matches
    every document and gives ``And(())``. Operands keep their JSON types.

    :raises InvalidQuery: with path ``where`` for anything malformed.
    """
    return _parse_filter_object(value, "", 0)


def invalid_parameter(parameter: str, detail: str) -> InvalidQuery:
    """An ``InvalidQuery`` whose one detail points at the parameter."""
    return InvalidQuery(detail, errors=[ErrorDetail(path=parameter, message=detail)])


def all_of(clauses: list[Filter]) -> Filter | None:
    """AND the clauses together, without wrapping a single one."""
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return And(tuple(clauses))


def parse_path(text: str, parameter: str, where: str) -> Path:
    """Split a dotted field path, refusing empty segments."""
    segments = tuple(text.split("."))
    if "" in segments:
        raise invalid_parameter(
            parameter,
            f"The field path {text!r} in {where} has an empty segment; "
            "write field names joined by single dots, such as author.name.",
        )
    return segments


def is_unicode(text: str) -> bool:
    """True when the text encodes as UTF-8 (it has no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def int64_or_float(number: int) -> int | float:
    """The integer, or the nearest float when it exceeds 64 bits (no store
    can hold it exactly)."""
    return number if _INT64_MIN <= number <= _INT64_MAX else float(number)


def _reason(exc: BaseException) -> str:
    """A short reason for a JSON decoding failure."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large")
    return value


def _parse_json_int(text: str) -> int | float:
    return int64_or_float(int(text))


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object, refusing a key given twice (which one would win?)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _check_depth(value: Any) -> None:
    """Refuse a filter nested deeper than ``MAX_WHERE_DEPTH`` (iteratively)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_WHERE_DEPTH:
            raise invalid_parameter(
                "where",
                "The parameter 'where' nests arrays and objects more than "
                f"{MAX_WHERE_DEPTH} levels deep; flatten the filter.",
            )
        if isinstance(node, dict):
            pending.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node)


def _where_error(location: str, problem: str) -> InvalidQuery:
    """An error in the ``where`` filter at a JSON Pointer location."""
    place = f" at {location}" if location else ""
    return invalid_parameter(
        "where", f"The filter in parameter 'where'{place} {problem}"
    )


def _show(value: Any) -> str:
    """A value as JSON for a message, cut short when long."""
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(shown, ensure_ascii=False)
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def _pointer(location: str, key: str | int) -> str:
    """Extend a JSON Pointer (RFC 6901) by one reference token."""
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{location}/{token}"


def _parse_filter_object(value: Any, location: str, depth: int) -> Filter:
    """A filter object: each key a field path or a logical operator, ANDed."""
    if not isinstance(value, dict):
        raise _where_error(
            location,
            f"must be a JSON object, not {_show(value)}; "
            f"write one such as {_WHERE_EXAMPLE}.",
        )
    if depth > MAX_WHERE_DEPTH:
        raise _where_error(location, "is nested too deeply; flatten it.")

    clauses = [
        _parse_filter_entry(key, operand, _pointer(location, key), depth)
        for key, operand in value.items()
    ]
    return all_of(clauses) or And(())


def _parse_filter_entry(key: str, operand: Any, location: str, depth: int) -> Filter:
    """One key of a filter object and its operand."""
    if key in ("$and", "$or", "$nor"):
        clauses = tuple(_parse_filter_list(operand, location, depth))
        if key == "$and":
            return And(clauses)
        return Or(clauses) if key == "$or" else Not(Or(clauses))
    if key == "$not":
        return Not(_parse_filter_object(operand, location, depth + 1))
    if key.startswith("$"):
        raise _where_error(
            location,
            f"uses the unknown operator {key!r}; at the top of a filter use $and, "
            "$or, $nor, $not or a field name.",
        )

    path = parse_path(key, "where", "the parameter 'where'")
    return _parse_condition(path, operand, location, depth)


def _parse_filter_list(operand: Any, location: str, depth: int) -> list[Filter]:
    """The operand of ``$and``/``$or``/``$nor``: a non-empty array of filters."""
    if not isinstance(operand, list) or not operand:
        raise _where_error(
            location,
            "must be a non-empty array of filter objects, such as "
            '[{"status": "MEAP"}, {"pageCount": {"$lt": 100}}].',
        )
    return [
        _parse_filter_object(item, _pointer(location, index), depth + 1)
        for index, item in enumerate(operand)
    ]


def _is_operator_object(value: Any) -> bool:
    """True for a non-empty object whose keys all start with ``$``."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(key.startswith("$") for key in value)
    )


def _parse_condition(path: Path, operand: Any, location: str, depth: int) -> Filter:
    """A field's condition: an operator object, or a value it must equal."""
    if _is_operator_object(operand):
        return _parse_operators(path, operand, location, depth)
    if isinstance(operand, dict) and any(key.startswith("$") for key in operand):
        raise _where_error(
            location,
            "mixes operators with field names; use only operators such as "
            '{"$gte": 1, "$lt": 5} or only a value to compare with.',
        )
    return Comparison(path, "eq", operand)


def _parse_operators(
    path: Path, operators: dict[str, Any], location: str, depth: int
) -> Filter:
    """An operator object: every operator must hold (``$options`` goes with
    ``$regex``)."""
    if "$options" in operators and "$regex" not in operators:
        raise _where_error(
            location,
            'has $options without $regex; write {"$regex": "^a", "$options": "i"}.',
        )

    clauses = [
        _parse_operator(path, name, operand, operators, location, depth)
        for name, operand in operators.items()
        if name != "$options"
    ]
    return all_of(clauses) or And(())


def _parse_operator(
    path: Path,
    name: str,
    operand: Any,
    operators: dict[str, Any],
    location: str,
    depth: int,
) -> Filter:
    """One operator of an operator object and its operand."""
    here = _pointer(location, name)
    if name == "$not":
        return Not(_parse_negated(path, operand, here, depth + 1))
    if name == "$regex":
        return Comparison(path, "regex", _parse_regex(operand, operators, here))

    operator = _TYPED_OPERATORS.get(name)
    if operator is None:
        raise _where_error(
            here,
            f"uses the unknown operator {name!r}; use one of "
            f"{', '.join(WHERE_OPERATORS)}.",
        )
    return Comparison(path, operator, _check_operand(operator, operand, here))


def _parse_negated(path: Path, operand: Any, location: str, depth: int) -> Filter:
    """The operand of a field-level ``$not``: an operator object."""
    if not _is_operator_object(operand):
        raise _where_error(
            location,
            f"must be an operator object, not {_show(operand)}; write "
            'for example {"$not": {"$gt": 5}} or {"$not": {"$regex": "^a"}}.',
        )
    return _parse_operators(path, operand, location, depth)


def _check_operand(operator: Operator, operand: Any, location: str) -> Any:
    """Check an operand's JSON type for its operator; arrays become tuples for
    ``in``/``nin``."""
    if operator in _COMPARISONS:
        is_valid = isinstance(operand, int | float | str) and not isinstance(
            operand, bool
        )
        expected = "a number or a string"
    elif operator in ("in", "nin"):
        is_valid = isinstance(operand, list)
        expected = "an array of values"
    elif operator == "exists":
        is_valid = isinstance(operand, bool)
        expected = "true or false"
    else:
        return operand

    if not is_valid:
        raise _where_error(
            location, f"needs {expected}, not {_show(operand)}; change the value."
        )
    return tuple(operand) if isinstance(operand, list) else operand


def _parse_regex(pattern: Any, operators: dict[str, Any], location: str) -> Regex:
    """A ``$regex`` pattern (Python ``re`` syntax) with optional ``$options: "i"``."""
    options = operators.get("$options", "")
    if not isinstance(options, str) or set(options) - {"i"}:
        raise _where_error(
            _pointer(location.rpartition("/")[0], "$options"),
            f'supports only the option "i", not {_show(options)}; '
            'write "$options": "i" or leave it out.',
        )
    if not isinstance(pattern, str):
        raise _where_error(
            location,
            f"needs a pattern string, not {_show(pattern)}; change the value.",
        )

    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise _where_error(
            location,
            f"has a pattern {pattern!r} that does not compile ({exc}); "
            "fix the regular expression.",
        ) from None
    return Regex(pattern, ignore_case="i" in options)
