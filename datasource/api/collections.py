"""The one blueprint serving every collection and every document.

No code is specific to a collection: the environment and collection names
come from the path, and everything a request asks is done by the helpers in
``documents``, ``listing`` and ``http``; the views only put them in order.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from datasource.api import documents
from datasource.api.context import get_store
from datasource.api.http import (
    document_headers,
    is_not_modified,
    json_response,
    not_modified_response,
    read_json_body,
)
from datasource.api.listing import list_response
from datasource.api.names import check_collection_name, check_new_id
from datasource.api.patching import PATCH_MEDIA_TYPES, build_patch
from datasource.api.urls import collection_url, document_url
from datasource.errors import InvalidRequest
from datasource.queryparse import parse_query
from datasource.storage import Document, Store, StoredDocument

__all__ = ["COLLECTION_RULE", "DOCUMENT_RULE", "blueprint"]

blueprint = Blueprint("collections", __name__)

COLLECTION_RULE = "/<environment:environment>/<collection>"
# The id takes the rest of the path, so that an id sent as a%2Fb (which the
# server decodes to a/b before routing) reaches the views and gets a clear
# answer instead of an unexplained 404.
DOCUMENT_RULE = COLLECTION_RULE + "/<path:document_id>"


@blueprint.get(COLLECTION_RULE)
def get_collection(environment: str, collection: str) -> Response:
    """A page of the documents matching the query string, as a JSON array."""
    store = _collection_store(environment, collection)
    query = parse_query(request.args.items(multi=True))
    url = collection_url(environment, collection)
    return list_response(store.find(collection, query), query, url)


@blueprint.post(COLLECTION_RULE)
def post_collection(environment: str, collection: str) -> Response:
    """Create one document (an object) or all of an array, or none of it."""
    store = _collection_store(environment, collection)
    body = read_json_body()

    if isinstance(body, list):
        documents.check_new_documents(body)
        created = store.insert_many(collection, body)
        return json_response(_join(created), status=201)

    document = _require_object(body, "an object or an array of objects")
    if "id" in document:
        check_new_id(document["id"])
    stored = store.insert_one(collection, document)
    location = document_url(environment, collection, stored.id)
    return _document_response(stored, 201, location)


@blueprint.delete(COLLECTION_RULE)
def delete_collection(environment: str, collection: str) -> Response:
    """Remove the collection and its documents; 204 whether or not it existed."""
    store = _collection_store(environment, collection)
    store.drop_collection(collection)
    return Response(status=204)


@blueprint.get(DOCUMENT_RULE)
def get_document(environment: str, collection: str, document_id: str) -> Response:
    """The document with its ETag, or 304 when If-None-Match lists it."""
    store = _collection_store(environment, collection)
    stored = documents.read_document(store, collection, document_id)
    if is_not_modified(stored):
        return not_modified_response(stored)
    return _document_response(stored)


@blueprint.put(DOCUMENT_RULE)
def put_document(environment: str, collection: str, document_id: str) -> Response:
    """Replace the document whole (200), or create it when absent (201)."""
    store = _collection_store(environment, collection)
    body = _require_object(read_json_body(), "an object")

    result = documents.replace_document(store, collection, document_id, body)
    if not result.created:
        return _document_response(result.document)
    location = document_url(environment, collection, result.document.id)
    return _document_response(result.document, 201, location)


@blueprint.patch(DOCUMENT_RULE)
def patch_document(environment: str, collection: str, document_id: str) -> Response:
    """Apply a merge patch or a JSON Patch, chosen by the Content-Type."""
    store = _collection_store(environment, collection)
    patch = build_patch(request.mimetype, read_json_body(PATCH_MEDIA_TYPES))
    stored = documents.patch_document(store, collection, document_id, patch)
    return _document_response(stored)


@blueprint.delete(DOCUMENT_RULE)
def delete_document(environment: str, collection: str, document_id: str) -> Response:
    """Delete the document (204), honouring If-Match."""
    store = _collection_store(environment, collection)
    documents.delete_document(store, collection, document_id)
    return Response(status=204)


def _collection_store(environment: str, collection: str) -> Store:
    """The environment's store, once both names are known to be valid."""
    store = get_store(environment)
    check_collection_name(collection)
    return store


def _require_object(body: object, expected: str) -> Document:
    if not isinstance(body, dict):
        raise InvalidRequest(
            f"{request.method} {request.path} takes {expected}; the body is "
            f"{_json_kind(body)}."
        )
    return body


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _join(documents: list[StoredDocument]) -> bytes:
    """A JSON array of stored documents, from their encoded bodies."""
    return b"[" + b",".join(document.body for document in documents) + b"]"


def _document_response(
    stored: StoredDocument, status: int = 200, location: str | None = None
) -> Response:
    headers = document_headers(stored)
    if location is not None:
        headers["Location"] = location
    return json_response(stored.body, status=status, headers=headers)
