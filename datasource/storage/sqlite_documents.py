"""Documents as the SQLite store writes them: ids, encoding, versions, and the
domain errors that name a collection and an id.

Nothing here touches a database; the store calls these before and after its
statements so that every message and every check is written once.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson
from bson import ObjectId

from datasource.errors import (
    DocumentNotFound,
    DuplicateDocument,
    ErrorDetail,
    InvalidDocument,
    InvalidRequest,
    VersionMismatch,
)
from datasource.storage.base import Document, DocumentId, StoredDocument

__all__ = [
    "Row",
    "COLLECTION_NAME",
    "check_collection_name",
    "check_id",
    "check_version",
    "duplicate_error",
    "encode",
    "new_version",
    "not_found_error",
    "prepare",
    "prepared_row",
    "replacement_id",
    "stored_document",
]

COLLECTION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

Row = tuple[DocumentId, bytes, str]


def check_collection_name(name: str) -> None:
    if not isinstance(name, str) or not COLLECTION_NAME.fullmatch(name):
        raise InvalidRequest(
            f"The collection name {name!r} is invalid: use a letter, digit or "
            "underscore, then up to 63 letters, digits, '_', '.' or '-'."
        )


def new_version() -> str:
    return secrets.token_hex(8)


def check_id(document_id: Any) -> DocumentId:
    """Accept an int within 64 bits or a non-empty str without '/'."""
    if isinstance(document_id, int) and not isinstance(document_id, bool):
        if _INT64_MIN <= document_id <= _INT64_MAX:
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


def encode(document: Document) -> bytes:
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError as exc:
        raise InvalidDocument(
            f"The document cannot be stored as JSON ({exc}); use string keys "
            "and integers within 64 bits."
        ) from None


def prepare(document: Document) -> tuple[DocumentId, bytes]:
    """Check a new document's id (or generate one) and encode the document."""
    if not isinstance(document, dict):
        raise InvalidDocument("A document must be a JSON object.")
    if "id" in document:
        return check_id(document["id"]), encode(document)
    document_id = str(ObjectId())
    return document_id, encode({"id": document_id, **document})


def prepared_row(index: int, document: Document) -> Row:
    """A row to insert for the element at ``index``; errors name the index."""
    try:
        document_id, body = prepare(document)
    except InvalidDocument as exc:
        raise InvalidDocument(
            f"Document {index}: {exc.detail}",
            errors=[ErrorDetail(f"/{index}/id", exc.detail)],
        ) from None
    return document_id, body, new_version()


def _id_text(document_id: DocumentId) -> str:
    return str(document_id)


def replacement_id(document_id: str, document: Document) -> DocumentId:
    """The id a replacement carries; it must spell the id of the URL."""
    if not isinstance(document, dict):
        raise InvalidDocument("A document must be a JSON object.")
    new_id = check_id(document.get("id", document_id))
    if _id_text(new_id) != document_id:
        raise InvalidDocument(
            f"The document's id {new_id!r} differs from the id {document_id!r} "
            "it replaces; send the same id or leave it out."
        )
    return new_id


def stored_document(document_id: DocumentId, document: Document) -> StoredDocument:
    """The document as it will be stored, carrying exactly this id (and type)."""
    current = document.get("id")
    if type(current) is not type(document_id) or current != document_id:
        document = {**document, "id": document_id}
    return StoredDocument(document_id, new_version(), encode(document))


def check_version(
    collection: str, document_id: str, current: str, expected: str | None
) -> None:
    if expected is not None and expected not in ("*", current):
        raise VersionMismatch(
            f"The document {document_id!r} of collection {collection!r} has "
            "changed since the version you sent; read it again and retry."
        )


def duplicate_error(
    collection: str, document_id: DocumentId, index: int | None = None
) -> DuplicateDocument:
    """The error for an id that is taken; ``index`` names a bulk element."""
    text = str(document_id)
    spelled = isinstance(document_id, str) and text.lstrip("-").isdecimal()
    shown = orjson.dumps(document_id).decode()
    same = f' (the ids {text} and "{text}" are the same)' if spelled else ""
    message = (
        f"A document with id {shown} already exists in collection "
        f"{collection!r}{same}; choose another id or replace that document."
    )
    if index is None:
        return DuplicateDocument(message)
    message = (
        f"A document with id {shown} is already in collection {collection!r} "
        f"or earlier in the same batch{same}; choose another id or replace that "
        "document."
    )
    return DuplicateDocument(
        f"Document {index}: {message}",
        errors=[ErrorDetail(f"/{index}/id", message)],
        extra={"index": index, "id": document_id},
    )


def not_found_error(collection: str, document_id: str) -> DocumentNotFound:
    return DocumentNotFound(
        f"There is no document with id {document_id!r} in collection {collection!r}."
    )
