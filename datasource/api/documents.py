"""What each request on one document does, between parsing and responding.

The views call these helpers; they hold the conditional-request logic and
what a PATCH does to the document it finds. The store applies a patch as one
change, read and write together, so that concurrent patches all land.
"""

from __future__ import annotations

from typing import Any

from datasource.api.http import check_if_match, has_if_match, is_create_only
from datasource.api.names import (
    check_path_id,
    find_id_problem,
    id_text,
    is_addressable,
    typed_id,
)
from datasource.api.patching import Patch
from datasource.errors import (
    DocumentNotFound,
    DuplicateDocument,
    ErrorDetail,
    InvalidDocument,
    InvalidRequest,
    VersionMismatch,
)
from datasource.storage import (
    Document,
    ReplaceResult,
    Store,
    StoredDocument,
)

__all__ = [
    "check_new_documents",
    "delete_document",
    "patch_document",
    "read_document",
    "replace_document",
]


def read_document(store: Store, collection: str, document_id: str) -> StoredDocument:
    """:raises DocumentNotFound: when the collection has no such document."""
    document = store.find_one(collection, document_id)
    if document is None:
        raise _not_found(collection, document_id)
    return document


def check_new_documents(documents: list[Any]) -> None:
    """Check every element of a POSTed array before any is written.

    An empty array is refused: it would create nothing, and sending one is
    far more often a client's mistake than an intent.

    :raises InvalidRequest: for an empty array.
    :raises InvalidDocument: naming each failing element by its JSON Pointer.
    """
    if not documents:
        raise InvalidRequest(
            "The array is empty, so there is nothing to create; send at least "
            "one document."
        )
    problems = [_element_problem(index, item) for index, item in enumerate(documents)]
    errors = [problem for problem in problems if problem is not None]
    if errors:
        raise InvalidDocument(
            f"{len(errors)} of the {len(documents)} documents cannot be created, "
            "so none was created; see errors.",
            errors=errors,
        )


def _element_problem(index: int, item: Any) -> ErrorDetail | None:
    if not isinstance(item, dict):
        return ErrorDetail(f"/{index}", "Each element must be a JSON object.")
    message = find_id_problem(item["id"]) if "id" in item else None
    if message is None:
        return None
    return ErrorDetail(f"/{index}/id", message)


def replace_document(
    store: Store, collection: str, document_id: str, body: Document
) -> ReplaceResult:
    """PUT: replace the document, or create it; honour If-Match / If-None-Match.

    :raises InvalidDocument: when the body's id differs from the URL's.
    :raises VersionMismatch: when a condition is false.
    """
    document = _with_path_id(body, document_id)
    if is_create_only():
        stored = _insert_only(store, collection, document_id, document)
        return ReplaceResult(stored, True)
    if has_if_match():
        return _replace_if_match(store, collection, document_id, document)

    # An id the URL cannot carry back (one with '/') may be replaced, as the
    # import can create it, but never created through the API.
    try:
        return store.replace_one(
            collection, document_id, document, upsert=is_addressable(document_id)
        )
    except DocumentNotFound:
        check_path_id(document_id)
        raise


def _with_path_id(body: Document, document_id: str) -> Document:
    """The body with the id of the URL, refusing a body id that differs."""
    if "id" not in body:
        return {"id": typed_id(document_id), **body}
    body_id = body["id"]
    is_same = isinstance(body_id, int | str) and not isinstance(body_id, bool)
    if not is_same or id_text(body_id) != document_id:
        raise InvalidDocument(
            f"The body's id {body['id']!r} differs from the id {document_id!r} in "
            "the URL; send the same id or leave it out of the body.",
            errors=[ErrorDetail("/id", "Must equal the id in the URL.")],
        )
    return body


def _insert_only(
    store: Store, collection: str, document_id: str, document: Document
) -> StoredDocument:
    check_path_id(document_id)
    try:
        return store.insert_one(collection, document)
    except DuplicateDocument:
        raise VersionMismatch(
            f"If-None-Match: * allows only creating, and the document "
            f"{document['id']!r} already exists."
        ) from None


def _replace_if_match(
    store: Store, collection: str, document_id: str, document: Document
) -> ReplaceResult:
    current = store.find_one(collection, document_id)
    check_if_match(current)
    if current is None:
        raise _not_found(collection, document_id)
    try:
        return store.replace_one(
            collection,
            id_text(current.id),
            {**document, "id": current.id},
            expected_version=current.version,
            upsert=False,
        )
    except DocumentNotFound:
        raise _deleted_meanwhile(collection, document_id) from None


def patch_document(
    store: Store, collection: str, document_id: str, patch: Patch
) -> StoredDocument:
    """PATCH: the patch applied to the current document, as one change.

    The store reads, applies and writes with nothing written in between, so
    concurrent patches all land; If-Match is checked against what it reads.

    :raises VersionMismatch: when If-Match does not list the current version,
        or lists any version of a missing document.
    """

    def patched(current: StoredDocument) -> Document:
        check_if_match(current)
        return _check_patched(current, patch(current.document))

    try:
        return store.update_one(collection, document_id, patched)
    except DocumentNotFound:
        check_if_match(None)
        raise


def _check_patched(current: StoredDocument, updated: Any) -> Document:
    """The patched value, when it is still a document with the same id."""
    if not isinstance(updated, dict):
        raise InvalidRequest(
            "The patch would turn the document into something other than a JSON "
            "object; patch its fields instead of the whole document."
        )
    new_id = updated.get("id")
    if type(new_id) is not type(current.id) or new_id != current.id:
        raise InvalidDocument(
            f"The patch would change or remove the id {current.id!r}; ids cannot "
            "change. Create a new document with PUT or POST instead.",
            errors=[ErrorDetail("/id", "Must stay unchanged.")],
        )
    return updated


def delete_document(store: Store, collection: str, document_id: str) -> None:
    """DELETE: remove the document, with the version checked under If-Match."""
    if not has_if_match():
        store.delete_one(collection, document_id)
        return

    current = store.find_one(collection, document_id)
    check_if_match(current)
    if current is None:
        raise _not_found(collection, document_id)
    try:
        store.delete_one(
            collection, id_text(current.id), expected_version=current.version
        )
    except DocumentNotFound:
        raise _deleted_meanwhile(collection, document_id) from None


def _not_found(collection: str, document_id: str) -> DocumentNotFound:
    return DocumentNotFound(
        f"There is no document with id {document_id!r} in the collection "
        f"{collection!r}."
    )


def _deleted_meanwhile(collection: str, document_id: str) -> VersionMismatch:
    return VersionMismatch(
        f"The document {document_id!r} in {collection!r} was deleted while this "
        "request was being handled."
    )
