"""The OpenAPI 3.1 description of the API, served at ``/-/openapi.json``.

It describes every endpoint of the HTTP contract: path and query parameters,
request bodies per media type, the headers the server sends and reads, and
each problem response where it can occur. The JSON Schemas come from
``datasource.schemas``, shared with the root Hyper-Schema, so the two
descriptions cannot drift apart. The document is built from the configured
environment names and body limit, so it describes the server as it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datasource import schemas
from datasource.schemas import Schema

OPENAPI_VERSION = "3.1.0"

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
MERGE_PATCH_JSON = "application/merge-patch+json"
JSON_PATCH_JSON = "application/json-patch+json"

NOT_APPLICABLE = (
    "Statuses of the contract this server does not produce: 401 and 403 (it "
    "has no API keys), 422 (collections have no JSON Schema) and 429 (it has "
    "no rate limit)."
)

_TAGS = [
    {"name": "meta", "description": "The server itself: descriptions, health."},
    {"name": "environments", "description": "Isolated data sets."},
    {"name": "collections", "description": "Listing, creating, dropping."},
    {"name": "documents", "description": "One document by its id."},
]

# Problem responses: component name, status, what causes them.
_PROBLEMS = (
    ("BadRequest", 400, "The request is malformed: {cause}."),
    ("NotFound", 404, "{cause}."),
    ("Conflict", 409, "{cause}."),
    ("PreconditionFailed", 412, "{cause}."),
    ("ContentTooLarge", 413, "The body is larger than {max_body_bytes} bytes."),
    ("UnsupportedMediaType", 415, "The body is not JSON by its Content-Type."),
    ("NotImplemented", 501, "The store of this environment cannot do this."),
    ("ServiceUnavailable", 503, "The store of this environment is unreachable."),
)

_CAUSES = {
    "BadRequest": "malformed JSON, a body of the wrong shape, a bad query "
    "parameter or a bad header",
    "NotFound": "Unknown environment, or no such document",
    "Conflict": "A document with this id exists, the patch does not fit the "
    "document, or other writes kept overtaking it",
    "PreconditionFailed": "If-Match lists no current ETag of the document, or "
    "If-None-Match is * and the document exists",
}


def build_openapi(environments: Sequence[str], *, max_body_bytes: int) -> Schema:
    """The OpenAPI document of the API served with these settings.

    :param environments: configured environment names, listed as an enum.
    :param max_body_bytes: the body limit, stated where 413 can occur.
    """
    return {
        "openapi": OPENAPI_VERSION,
        "info": _info(max_body_bytes),
        "tags": _TAGS,
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "parameters": _parameters(environments),
            "headers": _headers(),
            "requestBodies": _request_bodies(),
            "responses": _responses(max_body_bytes),
        },
    }


def _info(max_body_bytes: int) -> dict[str, Any]:
    return {
        "title": "datasource",
        "version": "1",
        "summary": "CRUD over JSON document collections, per environment.",
        "description": "A self-hostable REST backend. Every error is "
        "application/problem+json (RFC 9457) with type, title, status and "
        "detail, plus errors [{path, message}] where several things are wrong. "
        f"Request bodies are limited to {max_body_bytes} bytes. Every path "
        "answers OPTIONS (CORS preflight included) and HEAD where it answers "
        "GET; other methods get 405 with an Allow header. Every response "
        "carries X-Request-Id, taken from the request's when it sends a "
        "usable one. " + NOT_APPLICABLE,
        "license": {"name": "MIT", "identifier": "MIT"},
    }


def _ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schemas() -> dict[str, Schema]:
    return {
        "Document": schemas.document(),
        "StoredDocument": schemas.stored_document(),
        "NewDocuments": schemas.new_documents(),
        "CreatedDocuments": schemas.created_documents(),
        "DocumentList": schemas.document_list(),
        "MergePatch": schemas.merge_patch(),
        "JsonPatch": schemas.json_patch(),
        "Problem": schemas.problem(),
        "EnvironmentListing": schemas.environment_listing(),
        "Health": schemas.health(),
        "WhereFilter": schemas.where_filter(),
    }


def _parameters(environments: Sequence[str]) -> dict[str, Schema]:
    """Path, query and header parameters, each declared once."""
    return {
        "Env": _path_parameter("env", schemas.environment_name(environments)),
        "Collection": _path_parameter("collection", schemas.collection_name()),
        "DocumentId": _path_parameter("id", schemas.document_id_segment()),
        "Limit": _query_parameter("limit", schemas.limit()),
        "Offset": _query_parameter("offset", schemas.offset()),
        "Sort": _query_parameter("sort", schemas.sort()),
        "Fields": _query_parameter("fields", schemas.fields()),
        "Q": _query_parameter("q", schemas.search_text()),
        "Where": {
            "name": "where",
            "in": "query",
            "description": schemas.where()["description"],
            "content": {JSON: {"schema": _ref("schemas", "WhereFilter")}},
        },
        "FieldFilters": {
            **_query_parameter("filters", schemas.field_filters()),
            "style": "form",
            "explode": True,
        },
        "IfMatch": _header_parameter(
            "If-Match",
            "Write only if the document's ETag is one of these (or * for any "
            "existing document); 412 otherwise.",
        ),
        "IfNoneMatch": _header_parameter(
            "If-None-Match",
            "Answer 304 without a body when the document's ETag is one of these.",
        ),
        "IfNoneMatchCreate": _header_parameter(
            "If-None-Match",
            "* creates the document only when it is absent; 412 when it exists.",
        ),
    }


def _path_parameter(name: str, schema: Schema) -> Schema:
    description = schema.pop("description")
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query_parameter(name: str, schema: Schema) -> Schema:
    description = schema.pop("description")
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _header_parameter(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "header",
        "description": description,
        "schema": schemas.entity_tags(),
    }


def _headers() -> dict[str, Schema]:
    """Response headers the server sends."""
    one_created = "; absent when an array was created."
    return {
        "ETag": _header("The document's version; changes on every write."),
        "CreatedETag": _header("The created document's version" + one_created, False),
        "Location": _header("URL of the created document."),
        "CreatedLocation": _header("URL of the created document" + one_created, False),
        "Link": _header("first, prev, next and last pages (RFC 8288)."),
        "XTotalCount": _header(
            "Number of documents matching the filter, all pages.",
            schema={"type": "integer", "minimum": 0},
        ),
        "XRequestId": _header(
            "Identifies the request in the server's logs; taken from the "
            "request's X-Request-Id when it sends a usable one."
        ),
    }


def _header(
    description: str, is_required: bool = True, schema: Schema | None = None
) -> Schema:
    return {
        "description": description,
        "required": is_required,
        "schema": schema or {"type": "string"},
    }


_HEADER_NAMES = {
    "ETag": "ETag",
    "CreatedETag": "ETag",
    "Location": "Location",
    "CreatedLocation": "Location",
    "Link": "Link",
    "XTotalCount": "X-Total-Count",
    "XRequestId": "X-Request-Id",
}


def _request_bodies() -> dict[str, Schema]:
    merge_patch = {"schema": _ref("schemas", "MergePatch")}
    return {
        "NewDocuments": {
            "required": True,
            "description": "One document, or an array of documents created "
            "all together or not at all.",
            "content": {JSON: {"schema": _ref("schemas", "NewDocuments")}},
        },
        "Document": {
            "required": True,
            "description": "The whole new document; an id must equal the path's.",
            "content": {JSON: {"schema": _ref("schemas", "Document")}},
        },
        "Patch": {
            "required": True,
            "description": "A JSON Merge Patch (RFC 7396; also as "
            "application/json) or a JSON Patch (RFC 6902).",
            "content": {
                MERGE_PATCH_JSON: merge_patch,
                JSON: merge_patch,
                JSON_PATCH_JSON: {"schema": _ref("schemas", "JsonPatch")},
            },
        },
    }


def _responses(max_body_bytes: int) -> dict[str, Schema]:
    """One problem response per status the server can produce."""
    responses = {"URITooLong": _uri_too_long()}
    for name, status, template in _PROBLEMS:
        description = template.format(
            cause=_CAUSES.get(name, ""), max_body_bytes=max_body_bytes
        )
        responses[name] = {
            "description": f"{status}: {description}",
            "headers": {"X-Request-Id": _ref("headers", "XRequestId")},
            "content": {PROBLEM_JSON: {"schema": _ref("schemas", "Problem")}},
        }
    return responses


def _uri_too_long() -> Schema:
    """414, the one error gunicorn answers itself, before the application."""
    return {
        "description": "414: the request line is longer than gunicorn's "
        "limit_request_line. gunicorn answers before the application runs, "
        "with a short HTML page instead of a problem and no X-Request-Id.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }


def _response(
    description: str,
    schema: Schema | None = None,
    media_type: str = JSON,
    headers: Sequence[str] = (),
) -> Schema:
    """A success response: a body of ``schema`` (if any) and the named headers."""
    response: Schema = {
        "description": description,
        "headers": {
            _HEADER_NAMES[component]: _ref("headers", component)
            for component in (*headers, "XRequestId")
        },
    }
    if schema is not None:
        response["content"] = {media_type: {"schema": schema}}
    return response


def _problems(*names: str) -> dict[str, Schema]:
    """The problem responses of an operation, keyed by status code."""
    statuses = {name: status for name, status, _ in _PROBLEMS}
    return {str(statuses[name]): _ref("responses", name) for name in names}


def _operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Schema],
    **extra: Any,
) -> Schema:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        **extra,
        "responses": responses,
    }


def _paths() -> dict[str, Schema]:
    return {
        **_server_paths(),
        "/{env}": _environment_path(),
        "/{env}/{collection}": _collection_path(),
        "/{env}/{collection}/{id}": _document_path(),
    }


def _server_paths() -> dict[str, Schema]:
    """The root and the server's own resources under ``/-/``: GET only."""
    table: list[tuple[str, str, str, str, Schema, str]] = [
        ("/", "getHyperSchema", "The JSON Hyper-Schema of the API",
         "Every service as a link (draft 2019-09 Hyper-Schema).",
         {"type": "object", "required": ["$schema", "links"]},
         "application/schema+json"),
        ("/-/openapi.json", "getOpenApi", "This OpenAPI document", "OpenAPI 3.1.",
         {"type": "object", "required": ["openapi"]}, JSON),
        ("/-/docs", "getDocs", "Interactive documentation",
         "An HTML page exploring this description, served without internet.",
         {"type": "string"}, "text/html"),
        ("/-/health", "getHealth", "Whether every store answers",
         "Every store answers.", _ref("schemas", "Health"), JSON),
    ]  # fmt: skip
    paths = {
        path: {
            "get": _operation(
                operation_id,
                summary,
                "meta",
                {"200": _response(description, schema, media_type)},
            )
        }
        for path, operation_id, summary, description, schema, media_type in table
    }
    paths["/-/health"]["get"]["responses"].update(_problems("ServiceUnavailable"))
    return paths


def _environment_path() -> Schema:
    return {
        "parameters": [_ref("parameters", "Env")],
        "get": _operation(
            "getEnvironment",
            "The collections of an environment",
            "environments",
            {
                "200": _response(
                    "The environment and its collections with their counts.",
                    _ref("schemas", "EnvironmentListing"),
                ),
                **_problems("NotFound", "NotImplemented", "ServiceUnavailable"),
            },
        ),
        "delete": _operation(
            "resetEnvironment",
            "Remove every collection of an environment",
            "environments",
            {
                "204": _response("The environment is empty."),
                **_problems("NotFound", "NotImplemented", "ServiceUnavailable"),
            },
        ),
    }


def _collection_path() -> Schema:
    return {
        "parameters": [_ref("parameters", "Env"), _ref("parameters", "Collection")],
        "get": _list_documents("listDocuments", "List documents"),
        "head": _list_documents("headDocuments", "Headers of a listing"),
        "post": _create_documents(),
        "delete": _operation(
            "dropCollection",
            "Drop a collection and its documents",
            "collections",
            {
                "204": _response("The collection is gone (or never existed)."),
                **_problems(
                    "BadRequest", "NotFound", "NotImplemented", "ServiceUnavailable"
                ),
            },
        ),
    }


def _list_documents(operation_id: str, summary: str) -> Schema:
    query = ["Limit", "Offset", "Sort", "Fields", "Q", "Where", "FieldFilters"]
    is_head = operation_id.startswith("head")
    return _operation(
        operation_id,
        summary,
        "collections",
        {
            "200": _response(
                "One page of matching documents; [] for a collection never "
                "written." + (" No body for HEAD." if is_head else ""),
                None if is_head else _ref("schemas", "DocumentList"),
                headers=("XTotalCount", "Link"),
            ),
            **_problems(
                "BadRequest", "NotFound", "NotImplemented", "ServiceUnavailable"
            ),
            "414": _ref("responses", "URITooLong"),
        },
        description="All filters combine with AND. A query-string value "
        "matches a stored value equal to it as a string, or equal to the "
        "number, true, false or null it spells.",
        parameters=[_ref("parameters", name) for name in query],
    )


def _create_documents() -> Schema:
    return _operation(
        "createDocuments",
        "Create one document, or several all or none",
        "collections",
        {
            "201": _response(
                "The stored document (or array of them), with its id.",
                _ref("schemas", "CreatedDocuments"),
                headers=("CreatedLocation", "CreatedETag"),
            ),
            **_problems(
                "BadRequest",
                "NotFound",
                "Conflict",
                "ContentTooLarge",
                "UnsupportedMediaType",
                "NotImplemented",
                "ServiceUnavailable",
            ),
        },
        requestBody=_ref("requestBodies", "NewDocuments"),
    )


def _document_links() -> dict[str, Schema]:
    """OpenAPI links from a document created by PUT to the operations on it.

    POST has none: its body may be an array, where no one id can be named.
    """
    parameters = {
        "env": "$request.path.env",
        "collection": "$request.path.collection",
        "id": "$request.path.id",
    }
    operations = {
        "GetDocument": "getDocument",
        "ReplaceDocument": "replaceDocument",
        "PatchDocument": "patchDocument",
        "DeleteDocument": "deleteDocument",
    }
    return {
        name: {"operationId": operation_id, "parameters": parameters}
        for name, operation_id in operations.items()
    }


def _document_path() -> Schema:
    return {
        "parameters": [
            _ref("parameters", "Env"),
            _ref("parameters", "Collection"),
            _ref("parameters", "DocumentId"),
        ],
        "get": _read_document("getDocument", "Read a document"),
        "head": _read_document("headDocument", "Headers of a document"),
        "put": _replace_document(),
        "patch": _patch_document(),
        "delete": _delete_document(),
    }


def _read_document(operation_id: str, summary: str) -> Schema:
    is_head = operation_id.startswith("head")
    return _operation(
        operation_id,
        summary,
        "documents",
        {
            "200": _response(
                "The document." + (" No body for HEAD." if is_head else ""),
                None if is_head else _ref("schemas", "StoredDocument"),
                headers=("ETag",),
            ),
            "304": _response("If-None-Match matched: unchanged.", headers=("ETag",)),
            **_problems(
                "BadRequest", "NotFound", "NotImplemented", "ServiceUnavailable"
            ),
        },
        parameters=[_ref("parameters", "IfNoneMatch")],
    )


def _write_problems(*extra: str) -> dict[str, Schema]:
    """The problems of a write to one document, plus ``extra`` ones."""
    return _problems(
        "BadRequest",
        "NotFound",
        *extra,
        "PreconditionFailed",
        "ContentTooLarge",
        "UnsupportedMediaType",
        "NotImplemented",
        "ServiceUnavailable",
    )


def _replace_document() -> Schema:
    stored = _ref("schemas", "StoredDocument")
    return _operation(
        "replaceDocument",
        "Replace a document, or create it when absent",
        "documents",
        {
            "200": _response("The replaced document.", stored, headers=("ETag",)),
            "201": {
                **_response(
                    "The created document.", stored, headers=("ETag", "Location")
                ),
                "links": _document_links(),
            },
            **_write_problems(),
        },
        parameters=[
            _ref("parameters", "IfMatch"),
            _ref("parameters", "IfNoneMatchCreate"),
        ],
        requestBody=_ref("requestBodies", "Document"),
    )


def _patch_document() -> Schema:
    return _operation(
        "patchDocument",
        "Change part of a document",
        "documents",
        {
            "200": _response(
                "The patched document.",
                _ref("schemas", "StoredDocument"),
                headers=("ETag",),
            ),
            **_write_problems("Conflict"),
        },
        description="application/merge-patch+json and application/json are "
        "JSON Merge Patch (RFC 7396); application/json-patch+json is JSON "
        "Patch (RFC 6902), applied all or none. A patch may not change id.",
        parameters=[_ref("parameters", "IfMatch")],
        requestBody=_ref("requestBodies", "Patch"),
    )


def _delete_document() -> Schema:
    return _operation(
        "deleteDocument",
        "Delete a document",
        "documents",
        {
            "204": _response("The document is gone."),
            **_problems(
                "BadRequest",
                "NotFound",
                "PreconditionFailed",
                "NotImplemented",
                "ServiceUnavailable",
            ),
        },
        parameters=[_ref("parameters", "IfMatch")],
    )
