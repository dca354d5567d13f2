"""How every store names a document: collection names, ids and versions.

The SQLite and MongoDB stores accept the same collection names and ids, give
the same versions and word the same errors about them, so those rules live
here once. Nothing here touches a database.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from datasource.errors import (
    DocumentNotFound,
    InvalidDocument,
    InvalidRequest,
    VersionMismatch,
)
from datasource.jsonio import INT64_MAX, INT64_MIN
from datasource.storage.base import Document, DocumentId

__all__ = [
    "COLLECTION_NAME",
    "check_collection_name",
    "check_id",
    "new_version",
    "not_found_error",
    "replacement_id",
    "version_mismatch_error",
]

COLLECTION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def check_collection_name(name: str) -> None:
    """:raises InvalidRequest: when ``name`` breaks the collection-name rule."""
    if not isinstance(name, str) or not COLLECTION_NAME.fullmatch(name):
        raise InvalidRequest(
            f"The collection name {name!r} is invalid: use a letter, digit or "
            "underscore, then up to 63 letters, digits, '_', '.' or '-'."
        )


def check_id(document_id: Any) -> DocumentId:
    """Accept an int within 64 bits or a non-empty str without '/'."""
    if isinstance(document_id, int) and not isinstance(document_id, bool):
        if INT64_MIN <= document_id <= INT64_MAX:
            return document_id
        raise InvalidDocument(
            f"The id {document_id} is outside the signed 64-bit range; "
            "use a smaller integer or a string."
        )
    if isinstance(document_id, str):
        if document_id and "/" not in document_id:
            return document_id
        raise InvalidDocument(
            f"The id {document_id!r} is not usable: a string id must be "
            "non-empty and must not contain '/'."
        )
    raise InvalidDocument(
        f"The id {document_id!r} has the wrong type: use an integer or a string."
    )


def replacement_id(document_id: str, document: Document) -> DocumentId:
    """The id a replacement carries; it must spell the id of the URL."""
    if not isinstance(document, dict):
        raise InvalidDocument("A document must be a JSON object.")
    new_id = check_id(document.get("id", document_id))
    if str(new_id) != document_id:
        raise InvalidDocument(
            f"The document's id {new_id!r} differs from the id {document_id!r} "
            "it replaces; send the same id or leave it out."
        )
    return new_id


def new_version() -> str:
    """A fresh opaque version token."""
    return secrets.token_hex(8)


def not_found_error(collection: str, document_id: str) -> DocumentNotFound:
    """The error for an id that names no document of the collection."""
    return DocumentNotFound(
        f"There is no document with id {document_id!r} in collection {collection!r}."
    )


def version_mismatch_error(collection: str, document_id: str) -> VersionMismatch:
    """The error for a write whose expected version is no longer current."""
    return VersionMismatch(
        f"The document {document_id!r} of collection {collection!r} has "
        "changed since the version you sent; read it again and retry."
    )
