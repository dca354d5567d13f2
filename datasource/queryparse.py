"""Parse a list request's query string into a store-neutral ``Query``.

The Listing section of the HTTP contract defines the parameters: the reserved
names ``where``, ``q``, ``sort``, ``limit``, ``offset`` and ``fields``, and
every other name as a field filter (``field=value`` or ``field[op]=value``).
All of them combine with AND. A query-string value matches a stored value
equal to it as a string, or equal to the number, ``true``, ``false`` or
``null`` it spells; ``where`` carries a typed MongoDB-style filter instead,
which ``whereparse`` translates.

Every problem raises ``InvalidQuery`` whose single ``ErrorDetail`` names the
parameter, so the HTTP layer can answer 400 without knowing the grammar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from datasource.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    OPERATORS,
    And,
    Comparison,
    Filter,
    Operator,
    Or,
    Path,
    Query,
    Search,
    SortKey,
)
from datasource.whereparse import (
    all_of,
    int64_or_float,
    invalid_parameter,
    is_unicode,
    parse_path,
    parse_where,
)

__all__ = [
    "FIELD_OPERATORS",
    "MAX_OFFSET",
    "MAX_SORT_KEYS",
    "RESERVED_PARAMETERS",
    "parse_field_filter",
    "parse_query",
]

RESERVED_PARAMETERS = frozenset({"where", "q", "sort", "limit", "offset", "fields"})

# Every operator but regex, which only a where filter can express.
FIELD_OPERATORS: tuple[Operator, ...] = tuple(
    operator for operator in OPERATORS if operator != "regex"
)

# Offsets beyond a signed 64-bit integer cannot be bound by either store.
MAX_OFFSET = 2**63 - 1

# MongoDB's own limit on the keys of one sort; SQLite's is far higher.
MAX_SORT_KEYS = 32

_FILTER_NAME = re.compile(r"(?P<field>[^\[\]]*)(?:\[(?P<op>[^\[\]]*)\])?")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_COUNT = re.compile(r"[0-9]+")
_SPELLED_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_FIELD_OPERATOR_NAMES: dict[str, Operator] = {name: name for name in FIELD_OPERATORS}


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
        filters.append(parse_where(reserved["where"]))
    if reserved.get("q"):
        filters.append(Search(reserved["q"]))

    return Query(
        filter=all_of([node for node in filters if node != And(())]),
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
        raise invalid_parameter(
            name,
            f"The query parameter {name!r} is not a field filter; write field=value "
            "or field[op]=value, for example pageCount[gt]=500.",
        )

    path = parse_path(match["field"], name, f"the parameter {name!r}")
    operator = _FIELD_OPERATOR_NAMES.get(
        match["op"] if match["op"] is not None else "eq"
    )
    if operator is None:
        raise invalid_parameter(
            name,
            f"The operator {match['op']!r} in the query parameter {name!r} is "
            f"unknown; use one of {', '.join(FIELD_OPERATORS)}.",
        )

    return _QUERY_STRING_BUILDERS[operator](path, operator, value, name)


def _keep_once(reserved: dict[str, str], name: str, value: str) -> None:
    """Record a reserved parameter, refusing a second occurrence."""
    if name in reserved:
        raise invalid_parameter(
            name,
            f"The query parameter {name!r} was given more than once "
            f"({reserved[name]!r} and {value!r}); give it once.",
        )
    reserved[name] = value


def _check_text(name: str, value: str) -> None:
    """Refuse lone surrogates, which no store can encode as UTF-8."""
    if is_unicode(name) and is_unicode(value):
        return
    shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
    raise invalid_parameter(
        shown,
        f"The query parameter {shown!r} holds a lone surrogate, which is not "
        "text; send the name and value as UTF-8.",
    )


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
        return int64_or_float(int(text))
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
        raise invalid_parameter(
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
        raise invalid_parameter(
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
            raise invalid_parameter(
                "sort",
                f"The parameter 'sort' has an empty field name in {text!r}; list "
                "field names separated by commas, with - for descending, such as "
                "sort=title,-pageCount.",
            )
        keys.append(
            SortKey(parse_path(name, "sort", "the parameter 'sort'"), descending)
        )
    return tuple(keys)


def _parse_fields(text: str) -> tuple[Path, ...]:
    """``a,b.c``: the field paths a projection keeps (``id`` always stays)."""
    paths = []
    for item in text.split(","):
        if not item:
            raise invalid_parameter(
                "fields",
                f"The parameter 'fields' has an empty field name in {text!r}; list "
                "field names separated by commas, such as fields=title,author.name.",
            )
        paths.append(parse_path(item, "fields", "the parameter 'fields'"))
    return tuple(paths)


def _parse_count(name: str, text: str | None, default: int, maximum: int) -> int:
    """A whole number from 0 to ``maximum``; ``default`` when absent."""
    if text is None:
        return default
    if _COUNT.fullmatch(text) is None or int(text) > maximum:
        raise invalid_parameter(
            name,
            f"The parameter {name!r} must be a whole number from 0 to {maximum}, "
            f"not {text!r}; for example {name}=20.",
        )
    return int(text)
