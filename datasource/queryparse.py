"""Parse a list request's query string into a store-neutral ``Query``.

The Listing section of the HTTP contract defines the parameters: the reserved
names ``where``, ``q``, ``sort``, ``limit``, ``offset`` and ``fields``, and
every other name as a field filter (``field=value`` or ``field[op]=value``).
All of them combine with AND. A query-string value matches a stored value
equal to it as a string, or equal to the number, ``true``, ``false`` or
``null`` it spells; ``where`` carries a typed MongoDB-style filter instead.

Every problem raises ``InvalidQuery`` whose single ``ErrorDetail`` names the
parameter, so the HTTP layer can answer 400 without knowing the grammar.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from datasource.errors import ErrorDetail, InvalidQuery
from datasource.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OPERATORS,
    And,
    Comparison,
    Filter,
    Not,
    Operator,
    Or,
    Path,
    Query,
    Regex,
    Search,
    SortKey,
)

__all__ = [
    "FIELD_OPERATORS",
    "MAX_OFFSET",
    "MAX_SORT_KEYS",
    "MAX_WHERE_DEPTH",
    "RESERVED_PARAMETERS",
    "WHERE_OPERATORS",
    "parse_field_filter",
    "parse_filter",
    "parse_query",
]

RESERVED_PARAMETERS = frozenset({"where", "q", "sort", "limit", "offset", "fields"})

# Every operator but regex, which only a where filter can express.
FIELD_OPERATORS: tuple[Operator, ...] = tuple(
    operator for operator in OPERATORS if operator != "regex"
)

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

# Offsets beyond a signed 64-bit integer cannot be bound by either store.
MAX_OFFSET = 2**63 - 1

# Nesting of the where filter (JSON arrays and objects); deep enough for any
# hand-written filter, shallow enough that no store chokes on an operand.
MAX_WHERE_DEPTH = 32

# MongoDB's own limit on the keys of one sort; SQLite's is far higher.
MAX_SORT_KEYS = 32

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_FILTER_NAME = re.compile(r"(?P<field>[^\[\]]*)(?:\[(?P<op>[^\[\]]*)\])?")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_COUNT = re.compile(r"[0-9]+")
_SPELLED_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_COMPARISONS = frozenset({"gt", "gte", "lt", "lte"})
_FIELD_OPERATOR_NAMES: dict[str, Operator] = {name: name for name in FIELD_OPERATORS}
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


def parse_query(args: Iterable[tuple[str, str]]) -> Query:
    """Build the ``Query`` of a list request from its query-string pairs, in order.

    :param args: name and value pairs, repeated names included, as werkzeug's
        ``request.args.items(multi=True)`` yields them.
    :raises InvalidQuery: naming the first parameter that cannot be understood.
    """
    reserved: dict[str, str] = {}
    filters: list[Filter] = []
    for name, value in args:
        _check_text(name, value)
        if name in RESERVED_PARAMETERS:
            _keep_once(reserved, name, value)
        else:
            filters.append(parse_field_filter(name, value))

    if "where" in reserved:
        filters.append(_parse_where(reserved["where"]))
    if reserved.get("q"):
        filters.append(Search(reserved["q"]))

    return Query(
        filter=_all_of([node for node in filters if node != And(())]),
        sort=_parse_sort(reserved["sort"]) if "sort" in reserved else (),
        limit=_parse_count("limit", reserved.get("limit"), DEFAULT_LIMIT, MAX_LIMIT),
        offset=_parse_count("offset", reserved.get("offset"), 0, MAX_OFFSET),
        fields=_parse_fields(reserved["fields"]) if "fields" in reserved else None,
    )


def parse_field_filter(name: str, value: str) -> Filter:
    """Turn one ``field=value`` or ``field[op]=value`` pair into a filter.

    :raises InvalidQuery: for a malformed name, an unknown operator, an empty
        path segment or a bad ``exists`` value.
    """
    match = _FILTER_NAME.fullmatch(name)
    if match is None:
        raise _invalid(
            name,
            f"The query parameter {name!r} is not a field filter; write field=value "
            "or field[op]=value, for example pageCount[gt]=500.",
        )

    path = _parse_path(match["field"], name, f"the parameter {name!r}")
    operator = _FIELD_OPERATOR_NAMES.get(
        match["op"] if match["op"] is not None else "eq"
    )
    if operator is None:
        raise _invalid(
            name,
            f"The operator {match['op']!r} in the query parameter {name!r} is "
            f"unknown; use one of {', '.join(FIELD_OPERATORS)}.",
        )

    return _QUERY_STRING_BUILDERS[operator](path, operator, value, name)


def parse_filter(value: Any) -> Filter:
    """Translate a decoded MongoDB-style filter object into a filter tree.

    Keys are dotted field paths, ``$and``/``$or``/``$nor`` (non-empty arrays
    of filter objects) or ``$not`` (a filter object). An empty object matches
    every document and gives ``And(())``. Operands keep their JSON types.

    :raises InvalidQuery: with path ``where`` for anything malformed.
    """
    return _parse_filter_object(value, "", 0)


def _keep_once(reserved: dict[str, str], name: str, value: str) -> None:
    """Record a reserved parameter, refusing a second occurrence."""
    if name in reserved:
        raise _invalid(
            name,
            f"The query parameter {name!r} was given more than once "
            f"({reserved[name]!r} and {value!r}); give it once.",
        )
    reserved[name] = value


def _check_text(name: str, value: str) -> None:
    """Refuse lone surrogates, which no store can encode as UTF-8."""
    if _is_unicode(name) and _is_unicode(value):
        return
    shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
    raise _invalid(
        shown,
        f"The query parameter {shown!r} holds a lone surrogate, which is not "
        "text; send the name and value as UTF-8.",
    )


def _is_unicode(text: str) -> bool:
    """True when the text encodes as UTF-8 (it has no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _invalid(parameter: str, detail: str) -> InvalidQuery:
    """An ``InvalidQuery`` whose one detail points at the parameter."""
    return InvalidQuery(detail, errors=[ErrorDetail(path=parameter, message=detail)])


def _all_of(clauses: list[Filter]) -> Filter | None:
    """AND the clauses together, without wrapping a single one."""
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return And(tuple(clauses))


def _parse_path(text: str, parameter: str, where: str) -> Path:
    """Split a dotted field path, refusing empty segments."""
    segments = tuple(text.split("."))
    if "" in segments:
        raise _invalid(
            parameter,
            f"The field path {text!r} in {where} has an empty segment; "
            "write field names joined by single dots, such as author.name.",
        )
    return segments


def _spelled_number(text: str) -> int | float | None:
    """The number ``text`` spells in JSON syntax, or None.

    Integers stay integers unless they exceed 64 bits, where no store can
    hold them exactly; they become the nearest float. Spellings that overflow
    to infinity are not numbers.
    """
    match = _JSON_NUMBER.fullmatch(text)
    if match is None:
        return None
    if match[1] is None and match[2] is None:
        number = int(text)
        return number if _INT64_MIN <= number <= _INT64_MAX else float(number)
    real = float(text)
    return real if math.isfinite(real) else None


def _spellings(text: str) -> list[Any]:
    """The string itself, then the number, boolean or null it spells (if any)."""
    if text in _SPELLED_CONSTANTS:
        return [text, _SPELLED_CONSTANTS[text]]
    number = _spelled_number(text)
    return [text] if number is None else [text, number]


def _build_equality(path: Path, operator: Operator, value: str, name: str) -> Filter:
    """``eq`` matches any spelling of the value; ``ne`` none of them."""
    clauses = [Comparison(path, operator, item) for item in _spellings(value)]
    if len(clauses) == 1:
        return clauses[0]
    return Or(tuple(clauses)) if operator == "eq" else And(tuple(clauses))


def _build_membership(path: Path, operator: Operator, value: str, name: str) -> Filter:
    """``in``/``nin`` take a comma list, each item with all its spellings."""
    items = tuple(item for text in value.split(",") for item in _spellings(text))
    return Comparison(path, operator, items)


def _build_range(path: Path, operator: Operator, value: str, name: str) -> Filter:
    """A value that spells a number compares as that number, else as text."""
    number = _spelled_number(value)
    operand: int | float | str = value if number is None else number
    return Comparison(path, operator, operand)


def _build_exists(path: Path, operator: Operator, value: str, name: str) -> Filter:
    """``exists`` takes exactly ``true`` or ``false``."""
    if value not in ("true", "false"):
        raise _invalid(
            name,
            f"The query parameter {name!r} takes true or false, not {value!r}; "
            f"write {name}=true or {name}=false.",
        )
    return Comparison(path, "exists", value == "true")


def _build_text(path: Path, operator: Operator, value: str, name: str) -> Filter:
    """``contains`` and ``startswith`` take the text as given."""
    return Comparison(path, operator, value)


_QUERY_STRING_BUILDERS: dict[str, Callable[[Path, Operator, str, str], Filter]] = {
    "eq": _build_equality,
    "ne": _build_equality,
    "gt": _build_range,
    "gte": _build_range,
    "lt": _build_range,
    "lte": _build_range,
    "in": _build_membership,
    "nin": _build_membership,
    "exists": _build_exists,
    "contains": _build_text,
    "startswith": _build_text,
}


def _parse_sort(text: str) -> tuple[SortKey, ...]:
    """``a,-b``: ascending by ``a``, then descending by ``b``.

    A leading ``+`` (or the space a bare ``+`` decodes to) means ascending.
    """
    items = text.split(",")
    if len(items) > MAX_SORT_KEYS:
        raise _invalid(
            "sort",
            f"The parameter 'sort' lists {len(items)} fields; sort by at most "
            f"{MAX_SORT_KEYS}.",
        )
    keys = []
    for item in items:
        item = item.strip()
        descending = item.startswith("-")
        name = item[1:] if item[:1] in ("-", "+") else item
        if not name:
            raise _invalid(
                "sort",
                f"The parameter 'sort' has an empty field name in {text!r}; list "
                "field names separated by commas, with - for descending, such as "
                "sort=title,-pageCount.",
            )
        keys.append(
            SortKey(_parse_path(name, "sort", "the parameter 'sort'"), descending)
        )
    return tuple(keys)


def _parse_fields(text: str) -> tuple[Path, ...]:
    """``a,b.c``: the field paths a projection keeps (``id`` always stays)."""
    paths = []
    for item in text.split(","):
        if not item:
            raise _invalid(
                "fields",
                f"The parameter 'fields' has an empty field name in {text!r}; list "
                "field names separated by commas, such as fields=title,author.name.",
            )
        paths.append(_parse_path(item, "fields", "the parameter 'fields'"))
    return tuple(paths)


def _parse_count(name: str, text: str | None, default: int, maximum: int) -> int:
    """A whole number from 0 to ``maximum``; ``default`` when absent."""
    if text is None:
        return default
    if _COUNT.fullmatch(text) is None or int(text) > maximum:
        raise _invalid(
            name,
            f"The parameter {name!r} must be a whole number from 0 to {maximum}, "
            f"not {text!r}; for example {name}=20.",
        )
    return int(text)


def _parse_where(text: str) -> Filter:
    """Decode the ``where`` parameter's JSON and translate the filter."""
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_parse_json_float,
            parse_int=_parse_json_int,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except (ValueError, RecursionError) as exc:
        raise _invalid(
            "where",
            f"The parameter 'where' is not valid JSON ({_reason(exc)}): {_show(text)}; "
            f"send a JSON object such as {_WHERE_EXAMPLE}.",
        ) from None
    _check_depth(value)
    if not _is_unicode(json.dumps(value, ensure_ascii=False)):
        raise _invalid(
            "where",
            "The parameter 'where' holds a lone surrogate escape such as \\ud800, "
            "which is not text; write each character as itself or as a valid pair.",
        )
    return parse_filter(value)


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
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else float(number)


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
            raise _invalid(
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
    return _invalid("where", f"The filter in parameter 'where'{place} {problem}")


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
    return _all_of(clauses) or And(())


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

    path = _parse_path(key, "where", "the parameter 'where'")
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
    return _all_of(clauses) or And(())


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
