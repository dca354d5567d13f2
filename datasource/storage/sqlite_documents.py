"""Documents as the SQLite store writes them: encoding, rows, version checks
and the duplicate-id error.

Nothing here touches a database; the store calls these before and after its
statements so that every message and every check is written once. The rules
every store shares (ids, versions, collection names) are in ``ids``.
"""

from __future__ import annotations

import orjson
from bson import ObjectId

from datasource.errors import DuplicateDocument, ErrorDetail, InvalidDocument
from datasource.storage.base import Document, DocumentId, StoredDocument
from datasource.storage.ids import check_id, new_version, version_mismatch_error

__all__ = [
    "Row",
    "check_version",
    "duplicate_error",
    "early_stored_document",
    "encode",
    "is_same_id",
    "prepare",
    "prepared_row",
    "stored_document",
]

Row = tuple[DocumentId, bytes, str]


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


def stored_document(document_id: DocumentId, document: Document) -> StoredDocument:
    """The document as it will be stored, carrying exactly this id (and type)."""
    current = document.get("id")
    if type(current) is not type(document_id) or current != document_id:
        document = {**document, "id": document_id}
    return StoredDocument(document_id, new_version(), encode(document))


def early_stored_document(
    document_id: DocumentId, document: Document
) -> StoredDocument | None:
    """A replacement encoded before the write lock is taken.

    None when it cannot be encoded: the write encodes it again after its
    checks, so that a missing document or a stale version is reported ahead
    of an unstorable body.
    """
    try:
        return stored_document(document_id, document)
    except InvalidDocument:
        return None


def is_same_id(first: DocumentId, second: DocumentId) -> bool:
    """Equal and of one JSON type: the stored 1 and the URL's "1" are not."""
    return type(first) is type(second) and first == second


def check_version(
    collection: str, document_id: str, current: str, expected: str | None
) -> None:
    if expected is not None and expected not in ("*", current):
        raise version_mismatch_error(collection, document_id)


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
