"""Reversible names for MongoDB: the field and collection names it restricts.

MongoDB refuses field names that start with ``$`` or hold a ``.`` or a NUL,
and the MongoDB store keeps its own fields (``_id``, ``_v``, ``_t``) at the top
of each stored document. Any JSON document must still round-trip exactly, so
every such name is escaped on the way in and restored on the way out:

- a name that needs it becomes ``%`` followed by the name with ``%``, ``.``,
  ``$`` and NUL written as ``%25``, ``%2E``, ``%24`` and ``%00``;
- a name that starts with ``%`` is always escaped, so a stored name starting
  with ``%`` is always an escaped one and decoding is unambiguous;
- every other name is stored as given, so ordinary documents look ordinary
  in the database and their indexes use the plain field names.

The rule is the same at every depth, so a query path translates segment by
segment through ``encode_field``. Collection names get the same treatment
for the few that MongoDB refuses (``system.`` prefixes, ``..``, a final dot).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "HIDDEN_FIELDS",
    "decode_collection",
    "decode_document",
    "decode_field",
    "encode_collection",
    "encode_document",
    "encode_field",
    "encode_path",
    "search_terms",
]

ESCAPE = "%"

# Fields the store keeps in each stored document: the id, the version token
# and the lower-cased strings that text search reads.
HIDDEN_FIELDS = frozenset({"_id", "_v", "_t"})

_ESCAPED_CHARACTERS = {"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"}
_SPECIAL_CHARACTER = re.compile(r"[%.$\x00]")
_ESCAPE_SEQUENCE = re.compile(r"%(25|2E|24|00)")


def _needs_escape(name: str) -> bool:
    return (
        not name
        or name[0] in "$%"
        or "." in name
        or "\x00" in name
        or name in HIDDEN_FIELDS
    )


def _escape(name: str) -> str:
    return ESCAPE + _SPECIAL_CHARACTER.sub(lambda m: _ESCAPED_CHARACTERS[m[0]], name)


def _unescape(name: str) -> str:
    return _ESCAPE_SEQUENCE.sub(lambda m: chr(int(m[1], 16)), name[1:])


def encode_field(name: str) -> str:
    """The stored form of a field name: itself unless MongoDB restricts it."""
    return _escape(name) if _needs_escape(name) else name


def decode_field(name: str) -> str:
    """The field name a client sent, from its stored form."""
    return _unescape(name) if name.startswith(ESCAPE) else name


def encode_path(path: tuple[str, ...]) -> str:
    """A field path as a dotted MongoDB path over the stored names."""
    return ".".join(encode_field(name) for name in path)


def encode_document(value: Any) -> Any:
    """A JSON value with every object key in its stored form, at any depth."""
    if isinstance(value, dict):
        return {encode_field(key): encode_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [encode_document(item) for item in value]
    return value


def decode_document(value: Any) -> Any:
    """The inverse of ``encode_document``."""
    if isinstance(value, dict):
        return {decode_field(key): decode_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_document(item) for item in value]
    return value


def search_terms(value: Any) -> list[str]:
    """Every distinct string anywhere in a JSON value, lower-cased, keys excluded.

    The store keeps them in ``_t`` so that a text search is one regular
    expression over one array field, whatever the shape of the document.
    """
    terms: dict[str, None] = {}
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            terms[item.lower()] = None
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return list(terms)


def _is_refused_collection(name: str) -> bool:
    return (
        name.startswith(("system.", ESCAPE, "."))
        or name.endswith(".")
        or ".." in name
        or "$" in name
        or "\x00" in name
        or not name
    )


def encode_collection(name: str) -> str:
    """The MongoDB collection name of a collection: itself unless refused."""
    return _escape(name) if _is_refused_collection(name) else name


def decode_collection(name: str) -> str:
    """The collection name a client uses, from its MongoDB name."""
    return decode_field(name)
