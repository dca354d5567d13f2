"""Translate a ``Query`` into MongoDB filters, sorts and pipelines.

The semantics are those of ``datasource.query``; MongoDB's own are close but
not equal, and the differences are closed here, on the server side:

- A path walks objects only. MongoDB also steps into arrays (``a.b`` reaches
  the ``b`` of every element of an array ``a``), so every dotted path carries
  a guard that each prefix is an object and not an array.
- Equality never crosses types. MongoDB agrees, but stand-ins written in
  Python equate ``true`` with ``1``; numbers and booleans are therefore
  matched with an explicit ``$type``, on the value or one array element.
- ``contains`` and ``startswith`` compare ``str.lower`` forms. Regex case
  folding differs from it at the edges, so the pattern spells, for each
  character of the lowered operand, the class of every character that lowers
  to it.
- ``Search`` reads ``_t``, the lower-cased strings of the document that the
  store writes with it, through one escaped regular expression.
- Sorting by type rank: MongoDB's native order agrees for missing, null,
  numbers, strings and booleans, but sorts an array by its smallest or
  largest element and compares objects field by field. When a sorted field
  holds an array or an object in any matching document, the page comes from
  an aggregation pipeline that computes each key's rank and value instead.
- Object equality ignores key order; MongoDB compares objects in stored key
  order, so an object operand also matches every reordering of its keys (up
  to ``MAX_KEY_ORDERS`` of them).
- An array operand is asked for with both ``$in`` and ``$eq``: on MongoDB
  either one matches the whole array and its elements, on mongomock each
  only one of the two.

One difference stays on mongomock alone: inside an array or object operand it
still equates ``true`` with ``1`` and ``false`` with ``0``.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from datasource.errors import InvalidQuery
from datasource.query import (
    And,
    Comparison,
    Filter,
    Not,
    Or,
    Path,
    Regex,
    Search,
    SortKey,
)
from datasource.storage.mongo_names import encode_document, encode_field, encode_path

__all__ = [
    "LAST_CASED",
    "MAX_KEY_ORDERS",
    "caseless_pattern",
    "native_sort",
    "projection",
    "sort_pipeline",
    "to_filter",
    "unusual_sort_values",
]

# The key orders an object operand is matched in, at most; beyond it only the
# given order and the sorted order are tried (and MongoDB's order-sensitive
# comparison of objects shows through).
MAX_KEY_ORDERS = 120

# A filter no document satisfies.
_NOTHING: dict[str, Any] = {"_id": {"$in": []}}

# The last code point whose lower-case form differs from itself (U+1E921,
# ADLAM CAPITAL LETTER SHA); a test checks it against the running Python.
LAST_CASED = 0x1E921

# Characters whose lower-case form has more than one character, by that form
# (only U+0130; a test checks it).
_MULTI_LOWER = {"\u0069\u0307": "\u0130"}

Document = dict[str, Any]


def to_filter(node: Filter | None) -> Document:
    """The MongoDB filter of a query filter; ``{}`` matches every document.

    :raises InvalidQuery: for a node or operand the model does not define.
    """
    if node is None:
        return {}
    if isinstance(node, Comparison):
        return _comparison(node)
    if isinstance(node, And):
        return _all_of([to_filter(clause) for clause in node.clauses])
    if isinstance(node, Or):
        return _any_of([to_filter(clause) for clause in node.clauses])
    if isinstance(node, Not):
        return _none_of(to_filter(node.clause))
    if isinstance(node, Search):
        if not isinstance(node.text, str):
            raise InvalidQuery(f"The search text {node.text!r} must be a string.")
        return {"_t": {"$regex": _literal_pattern(node.text.lower())}}
    raise InvalidQuery(f"The filter {node!r} is not a known kind of filter.")


def _all_of(clauses: list[Document]) -> Document:
    clauses = [clause for clause in clauses if clause]
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _any_of(clauses: list[Document]) -> Document:
    if not clauses:
        return dict(_NOTHING)
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _none_of(clause: Document) -> Document:
    return {"$nor": [clause]}


# Comparisons


def _comparison(node: Comparison) -> Document:
    if node.op == "ne":
        return _none_of(_equals(node.path, (node.value,)))
    if node.op == "nin":
        return _none_of(_equals(node.path, _operands(node)))
    if node.op == "eq":
        return _equals(node.path, (node.value,))
    if node.op == "in":
        return _equals(node.path, _operands(node))
    if node.op in ("gt", "gte", "lt", "lte"):
        return _ordered(node)
    if node.op == "exists":
        present = _on_field(node.path, lambda field: {field: {"$exists": True}})
        return present if node.value is True else _none_of(present)
    if node.op in ("contains", "startswith", "regex"):
        return _on_field(node.path, lambda field: {field: _text_condition(node)})
    raise InvalidQuery(f"The operator {node.op!r} is not supported.")


def _operands(node: Comparison) -> Sequence[Any]:
    if not isinstance(node.value, list | tuple):
        raise InvalidQuery(
            f"The {node.op} operand {node.value!r} must be a list of values."
        )
    return tuple(node.value)


def _on_field(path: Path, condition: Callable[[str], Document]) -> Document:
    """A condition on the stored field at ``path``, reached through objects only."""
    guards = [
        {encode_path(path[:length]): _plain_object()} for length in range(1, len(path))
    ]
    return _all_of([*guards, condition(encode_path(path))])


def _plain_object() -> Document:
    return {"$type": "object", "$not": {"$type": "array"}}


def _equals(path: Path, operands: Sequence[Any]) -> Document:
    """The value, or one element of an array value, equals one of the operands."""
    groups = _group_by_kind(operands)
    clauses = []
    if "null" in groups:
        # Null also stands for a missing value: nothing present but non-null.
        clauses.append(_none_of(_on_field(path, lambda f: {f: {"$ne": None}})))
    for kind in ("number", "boolean"):
        if kind in groups:
            typed = _typed_equality(groups[kind], kind)
            clauses.append(_on_field(path, typed))
    if "other" in groups:
        values = [
            variant for operand in groups["other"] for variant in _key_orders(operand)
        ]
        clauses.append(_on_field(path, lambda f: _equals_any(f, values)))
    return _any_of(clauses)


def _equals_any(field: str, values: list[Any]) -> Document:
    """``$in`` over the values; an array operand also by ``$eq``.

    MongoDB's ``$in`` and ``$eq`` each match an array operand against the
    whole array and against its elements; mongomock's ``$in`` only does the
    elements and its ``$eq`` only the whole, so both are asked.
    """
    whole = [{field: {"$eq": value}} for value in values if isinstance(value, list)]
    return _any_of([{field: {"$in": values}}, *whole])


def _group_by_kind(operands: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for operand in operands:
        if operand is None:
            kind = "null"
        elif isinstance(operand, bool):
            kind = "boolean"
        elif isinstance(operand, int | float):
            kind = "number"
        elif isinstance(operand, str | list | tuple | dict):
            kind = "other"
        else:
            raise InvalidQuery(f"The operand {operand!r} is not a JSON value.")
        groups.setdefault(kind, []).append(operand)
    return groups


def _typed_equality(values: list[Any], kind: str) -> Callable[[str], Document]:
    """Equality restricted to one BSON type, on the value or on one element."""
    alias = "number" if kind == "number" else "bool"
    test = {"$in": values, "$type": alias, "$not": {"$type": "array"}}
    return lambda field: {"$or": [{field: test}, {field: {"$elemMatch": dict(test)}}]}


def _key_orders(operand: Any) -> list[Any]:
    """An operand in its stored form, in every key order MongoDB may compare."""
    if isinstance(operand, tuple):
        operand = list(operand)
    variants = _bounded(_reordered(operand))
    if len(variants) > MAX_KEY_ORDERS:
        variants = [operand, _sorted_keys(operand)]
    return [encode_document(variant) for variant in variants]


def _reordered(value: Any) -> Iterator[Any]:
    """Every arrangement of the keys of every object within a value."""
    if isinstance(value, dict):
        keys = list(value)
        choices = [_bounded(_reordered(value[key])) for key in keys]
        for order in itertools.permutations(range(len(keys))):
            for items in itertools.product(*(choices[index] for index in order)):
                yield {
                    keys[index]: item for index, item in zip(order, items, strict=True)
                }
    elif isinstance(value, list):
        for items in itertools.product(*(_bounded(_reordered(item)) for item in value)):
            yield list(items)
    else:
        yield value


def _bounded(variants: Iterator[Any]) -> list[Any]:
    return list(itertools.islice(variants, MAX_KEY_ORDERS + 1))


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _ordered(node: Comparison) -> Document:
    """gt/gte/lt/lte: MongoDB compares only within a type, as the model does."""
    operand = node.value
    if isinstance(operand, bool) or not isinstance(operand, int | float | str):
        return dict(_NOTHING)
    return _on_field(node.path, lambda field: {field: {f"${node.op}": operand}})


def _text_condition(node: Comparison) -> Document:
    if node.op == "regex":
        if not isinstance(node.value, Regex):
            raise InvalidQuery(f"The regex operand {node.value!r} must be a pattern.")
        _check_pattern(node.value.pattern)
        options = {"$options": "i"} if node.value.ignore_case else {}
        return {"$regex": node.value.pattern, **options}
    if not isinstance(node.value, str):
        raise InvalidQuery(f"The {node.op} operand {node.value!r} must be a string.")
    return {"$regex": caseless_pattern(node.value, anchored=node.op == "startswith")}


@functools.lru_cache(maxsize=256)
def _check_pattern(pattern: str) -> None:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise InvalidQuery(
            f"The regular expression {pattern!r} does not compile ({exc}); "
            "fix it using Python re syntax."
        ) from None


# Patterns


def _escape(character: str) -> str:
    """A character as a regex atom both Python ``re`` and PCRE read literally."""
    if character.isascii() and not character.isalnum():
        return f"\\x{ord(character):02x}"
    return character


def _literal_pattern(text: str) -> str:
    return "".join(_escape(character) for character in text)


@functools.cache
def _lowering_sources() -> dict[str, str]:
    """For each one-character lower-case form, the characters lowering to it."""
    sources: dict[str, str] = {}
    for code in range(LAST_CASED + 1):
        character = chr(code)
        lowered = character.lower()
        if lowered != character and len(lowered) == 1:
            sources[lowered] = sources.get(lowered, "") + character
    return sources


def _character_class(lowered: str, extra: str = "") -> str:
    members = lowered + _lowering_sources().get(lowered, "") + extra
    if len(members) == 1:
        return _escape(members)
    return "[" + "".join(_escape(member) for member in members) + "]"


def caseless_pattern(text: str, *, anchored: bool) -> str:
    """A regex matching strings whose ``str.lower`` contains (or starts with)
    ``text.lower()``.

    A character whose lower-case form is longer (U+0130) matches where its
    whole form appears, and at either end of the operand also where only part
    of its form does, as a substring of the lowered string would.
    """
    lowered = text.lower()
    atoms: list[str] = ["^"] if anchored else []
    index = 0
    while index < len(lowered):
        step, atom = _atom(lowered, index, anchored)
        atoms.append(atom)
        index += step
    return "".join(atoms)


def _atom(lowered: str, index: int, anchored: bool) -> tuple[int, str]:
    """The regex atom for the lowered text at ``index`` and how far it reaches."""
    for form, source in _MULTI_LOWER.items():
        if lowered.startswith(form, index):
            parts = "".join(_character_class(character) for character in form)
            return len(form), f"(?:{_escape(source)}|{parts})"
    extra = ""
    for form, source in _MULTI_LOWER.items():
        is_first, is_last = index == 0, index == len(lowered) - 1
        if is_last and lowered[index] == form[0]:
            extra += source
        elif is_first and not anchored and lowered[index] == form[-1]:
            extra += source
    return 1, _character_class(lowered[index], extra)


# Sorting and projection


def native_sort(keys: Sequence[SortKey]) -> list[tuple[str, int]]:
    """MongoDB's sort specification, the id last: exact for scalar values."""
    spec: dict[str, int] = {}
    for key in keys:
        spec.setdefault(encode_path(key.path), -1 if key.descending else 1)
    spec.setdefault("id", 1)
    return list(spec.items())


def unusual_sort_values(keys: Sequence[SortKey]) -> Document | None:
    """A filter for documents the native sort would misplace, or None.

    Those hold an object or an array at a sorted path, or an array on the
    way to it (which MongoDB would step into).
    """
    clauses: list[Document] = []
    for key in keys:
        field = encode_path(key.path)
        clauses += [{field: {"$type": "object"}}, {field: {"$type": "array"}}]
        clauses += [
            {encode_path(key.path[:length]): {"$type": "array"}}
            for length in range(1, len(key.path))
        ]
    return {"$or": clauses} if clauses else None


def sort_pipeline(
    match: Document,
    keys: Sequence[SortKey],
    page: tuple[int, int],
    shown: Document,
) -> list[Document]:
    """An aggregation returning one page sorted by each key's rank and value.

    :param page: the offset and the (positive) limit.
    :param shown: the projection of the returned documents.
    """
    computed: Document = {}
    order: Document = {}
    for position, key in enumerate(keys):
        direction = -1 if key.descending else 1
        # No stored name is "%r0": only names that need escaping are escaped,
        # and "r0" needs none.
        rank, value = f"%r{position}", f"%v{position}"
        computed[rank], computed[value] = _sort_rank(key.path), _sort_value(key.path)
        order[rank] = order[value] = direction
    order["id"] = 1

    offset, limit = page
    stages: list[Document] = [{"$match": match}, {"$addFields": computed}]
    stages += [{"$sort": order}, {"$skip": offset}, {"$limit": limit}]
    if any(flag == 0 for flag in shown.values()):
        shown = {**shown, **{name: 0 for name in computed}}
    return [*stages, {"$project": shown}]


def _field_value(path: Path) -> Any:
    """The value at a path as the model reads it, null when missing."""
    value = {"$ifNull": ["$" + encode_path(path), None]}
    guards = [
        _is_object({"$ifNull": ["$" + encode_path(path[:length]), None]})
        for length in range(1, len(path))
    ]
    if not guards:
        return value
    return {"$cond": [{"$and": guards}, value, None]}


def _is_object(value: Any) -> Document:
    # In BSON order objects sort after strings and before arrays.
    return {"$and": [{"$gte": [value, {"$literal": {}}]}, _below(value, [])]}


def _below(value: Any, bound: Any) -> Document:
    return {"$lt": [value, {"$literal": bound}]}


def _sort_rank(path: Path) -> Document:
    """0 missing or null, 1 number, 2 string, 3 object, 4 array, 5 boolean."""
    value = _field_value(path)
    branches = [
        ({"$lte": [value, None]}, 0),
        (_below(value, ""), 1),
        (_below(value, {}), 2),
        (_below(value, []), 3),
        ({"$isArray": value}, 4),
    ]
    return {
        "$switch": {
            "branches": [{"case": case, "then": rank} for case, rank in branches],
            "default": 5,
        }
    }


def _sort_value(path: Path) -> Document:
    """The value itself for scalars; null for objects and arrays, which tie."""
    value = _field_value(path)
    # Objects and arrays lie between the empty object and false in BSON order.
    is_composite = {"$and": [{"$gte": [value, {"$literal": {}}]}, _below(value, False)]}
    return {"$cond": [is_composite, None, value]}


def projection(fields: Sequence[Path] | None) -> Document:
    """What to read of each document: its top-level fields that a projection
    keeps (the caller cuts deeper paths), or all but the search terms."""
    if fields is None:
        return {"_t": 0}
    names = {encode_field(path[0]) for path in fields} | {"id", "_v"}
    return {name: 1 for name in sorted(names)}
