"""Names in URLs and ids in bodies, checked against the contract's rules.

Environment names need no check here: only configured environments exist, and
the configuration refuses invalid names. Collection names and document ids
come from clients and are checked before any store sees them.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import BaseConverter

from datasource.errors import ErrorDetail, InvalidDocument, InvalidRequest
from datasource.jsonio import INT64_MAX, INT64_MIN
from datasource.storage import DocumentId

__all__ = [
    "COLLECTION_NAME",
    "EnvironmentConverter",
    "check_collection_name",
    "check_new_id",
    "check_path_id",
    "find_id_problem",
    "id_text",
    "is_addressable",
    "typed_id",
]

COLLECTION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_UNADDRESSABLE_IDS = frozenset({"", ".", ".."})
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


class EnvironmentConverter(BaseConverter):
    """A first path segment that can name an environment.

    It never starts with ``-``, so paths under ``/-/`` (the server's own)
    never reach an environment.
    """

    regex = r"[^/\-][^/]*"


def check_collection_name(name: str) -> None:
    """:raises InvalidRequest: when ``name`` breaks the collection-name rule."""
    if COLLECTION_NAME.fullmatch(name) is None:
        raise InvalidRequest(
            f"The collection name {name!r} is invalid: use a letter, digit or "
            "underscore, then up to 63 of letters, digits, '_', '.' and '-'."
        )


def id_text(document_id: DocumentId) -> str:
    """The text of an id as it appears in a URL segment."""
    return str(document_id)


def typed_id(segment: str) -> DocumentId:
    """The id a document created at this URL segment gets.

    A segment spelling an integer canonically (``str(int(s)) == s``, within 64
    bits) gives that integer, so ``PUT /books/7`` stores ``"id": 7``; any other
    segment stays a string.
    """
    try:
        number = int(segment)
    except ValueError:
        return segment
    if str(number) == segment and INT64_MIN <= number <= INT64_MAX:
        return number
    return segment


def check_new_id(value: Any) -> None:
    """Check the id a request body gives a new document.

    :raises InvalidDocument: saying what is wrong with it.
    """
    message = find_id_problem(value)
    if message is not None:
        raise InvalidDocument(
            f"The body's id is not usable: {message}",
            errors=[ErrorDetail("/id", message)],
        )


def check_path_id(document_id: str) -> None:
    """Check the id in a URL that is about to name a new document.

    :raises InvalidDocument: saying why the id cannot be used.
    """
    message = find_id_problem(document_id)
    if message is not None:
        raise InvalidDocument(
            f"The URL cannot create a document with this id: {message}"
        )


def is_addressable(document_id: str) -> bool:
    """True when a URL segment can carry this id back to the server."""
    return find_id_problem(document_id) is None


def find_id_problem(value: Any) -> str | None:
    """What makes ``value`` unusable as the id of a new document, or None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return (
            f"an id must be a string or an integer, not {type(value).__name__} "
            f"{value!r}."
        )
    if isinstance(value, str) and _CONTROL_CHARACTER.search(value):
        return (
            f"the id {value!r} contains a control character, which URLs cannot "
            "carry; choose an id of printable characters."
        )
    if isinstance(value, str) and value in _UNADDRESSABLE_IDS:
        return f"the id {value!r} cannot be addressed in a URL; choose another."
    if isinstance(value, str) and "/" in value:
        return (
            f"the id {value!r} contains '/', which cannot be addressed in a URL "
            "segment; choose an id without '/'."
        )
    return None
