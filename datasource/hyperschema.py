"""The root JSON Hyper-Schema (draft 2019-09): every service as a link.

``GET /`` answers with this document so that a client can discover the API
from its entry point. Each link description object (LDO) names one service:
its relation type, a URI template relative to the root, the input the
template takes (``hrefSchema``), the request body (``submissionSchema``, with
``submissionMediaType`` when it is not JSON), the response (``targetSchema``)
and, where the method is not GET, ``targetHints`` with the ``allow`` header
the service answers to. Request headers go in ``headerSchema``, with lower-case
names and array values as the specification recommends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datasource import schemas
from datasource.schemas import Schema

HYPER_SCHEMA_DIALECT = "https://json-schema.org/draft/2019-09/hyper-schema"
MEDIA_TYPE = "application/schema+json"

LIST_QUERY = "{?limit,offset,sort,fields,q,where,filters*}"

_DEFINITIONS = {
    "document": schemas.document,
    "storedDocument": schemas.stored_document,
    "newDocuments": schemas.new_documents,
    "createdDocuments": schemas.created_documents,
    "documentList": schemas.document_list,
    "mergePatch": schemas.merge_patch,
    "jsonPatch": schemas.json_patch,
    "problem": schemas.problem,
    "environmentListing": schemas.environment_listing,
    "health": schemas.health,
}


def build_hyperschema(environments: Sequence[str]) -> Schema:
    """The Hyper-Schema of the API served with the given environment names."""
    definitions = {name: factory() for name, factory in _DEFINITIONS.items()}
    return {
        "$schema": HYPER_SCHEMA_DIALECT,
        "title": "datasource",
        "description": "A REST backend giving CRUD over JSON document "
        "collections in isolated environments. Every link is relative to this "
        "root. Errors are application/problem+json (see $defs/problem).",
        "$defs": definitions,
        "links": [
            *_service_links(),
            *_environment_links(environments),
            *_collection_links(environments),
            *_document_links(environments),
        ],
    }


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _allow(*methods: str) -> dict[str, list[str]]:
    return {"allow": list(methods)}


def _header_schema(*names: str) -> Schema:
    """Conditional request headers, lower-cased, each an array of values."""
    header = {"type": "array", "items": schemas.entity_tags()}
    return {"type": "object", "properties": {name: header for name in names}}


def _href_schema(
    environments: Sequence[str], *, collection: bool = False, item: bool = False
) -> Schema:
    """Input for the path variables of a template, all of them required."""
    properties: dict[str, Any] = {"env": schemas.environment_name(environments)}
    if collection:
        properties["collection"] = schemas.collection_name()
    if item:
        properties["id"] = schemas.document_id()
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }


def _service_links() -> list[Schema]:
    """Links to the server's own resources under ``/-/`` and to this root."""
    return [
        {
            "rel": "self",
            "href": "./",
            "title": "API description",
            "description": "This JSON Hyper-Schema.",
            "targetMediaType": MEDIA_TYPE,
        },
        {
            "rel": "service-desc",
            "href": "-/openapi.json",
            "title": "OpenAPI description",
            "description": "The same API as an OpenAPI 3.1 document.",
            "targetMediaType": "application/json",
            "targetSchema": {"type": "object", "required": ["openapi"]},
        },
        {
            "rel": "service-doc",
            "href": "-/docs",
            "title": "Interactive documentation",
            "description": "An HTML page exploring the OpenAPI description; "
            "it needs no internet access.",
            "targetMediaType": "text/html",
        },
        {
            "rel": "status",
            "href": "-/health",
            "title": "Health",
            "description": "status ok when every store answers; otherwise 503 "
            "with a problem naming the unreachable store.",
            "targetSchema": _ref("health"),
        },
    ]


def _environment_links(environments: Sequence[str]) -> list[Schema]:
    """Reading and resetting one environment."""
    href_schema = _href_schema(environments)
    return [
        {
            "rel": "collection",
            "href": "{env}",
            "hrefSchema": href_schema,
            "templateRequired": ["env"],
            "title": "Environment",
            "description": "The collections of an environment with their "
            "document counts.",
            "targetSchema": _ref("environmentListing"),
        },
        {
            "rel": "collection",
            "href": "{env}",
            "hrefSchema": href_schema,
            "templateRequired": ["env"],
            "title": "Reset environment",
            "description": "Remove every collection of the environment; "
            "answers 204 with no body.",
            "targetHints": _allow("DELETE"),
        },
    ]


def _collection_links(environments: Sequence[str]) -> list[Schema]:
    """Listing, creating and dropping the documents of one collection."""
    href_schema = _href_schema(environments, collection=True)
    list_schema = _list_href_schema(href_schema)
    required = ["env", "collection"]
    return [
        {
            "rel": "collection",
            "href": "{env}/{collection}" + LIST_QUERY,
            "hrefSchema": list_schema,
            "templateRequired": required,
            "title": "List documents",
            "description": "A page of matching documents as a JSON array "
            "(HEAD: headers only). X-Total-Count holds the number of matches and "
            "Link the first, prev, next and last pages. A collection never "
            "written lists as [].",
            "targetSchema": _ref("documentList"),
            "targetHints": _allow("GET", "HEAD"),
        },
        {
            "rel": "collection",
            "href": "{env}/{collection}",
            "hrefSchema": href_schema,
            "templateRequired": required,
            "title": "Create documents",
            "description": "Create one document (an object), or all documents "
            "of an array or none of them. Answers 201 with the stored "
            "document(s) and a Location header; 409 when an id is taken.",
            "submissionSchema": _ref("newDocuments"),
            "targetSchema": _ref("createdDocuments"),
            "targetHints": _allow("POST"),
        },
        {
            "rel": "collection",
            "href": "{env}/{collection}",
            "hrefSchema": href_schema,
            "templateRequired": required,
            "title": "Drop collection",
            "description": "Remove the collection and its documents; answers "
            "204 with no body.",
            "targetHints": _allow("DELETE"),
        },
    ]


def _list_href_schema(path_schema: Schema) -> Schema:
    """The path variables of a collection plus the listing's query parameters."""
    properties = dict(path_schema["properties"])
    properties.update(
        limit=schemas.limit(),
        offset=schemas.offset(),
        sort=schemas.sort(),
        fields=schemas.fields(),
        q=schemas.search_text(),
        where=schemas.where(),
        filters=schemas.field_filters(),
    )
    return {**path_schema, "properties": properties}


def _document_links(environments: Sequence[str]) -> list[Schema]:
    """Reading, replacing, patching and deleting one document."""
    href_schema = _href_schema(environments, collection=True, item=True)
    common = {
        "rel": "item",
        "href": "{env}/{collection}/{id}",
        "hrefSchema": href_schema,
        "templateRequired": ["env", "collection", "id"],
    }
    conditional = _header_schema("if-match")
    return [
        {
            **common,
            "title": "Read document",
            "description": "The document, with its version in ETag (HEAD: "
            "headers only). If-None-Match with that ETag answers 304.",
            "targetSchema": _ref("storedDocument"),
            "targetHints": _allow("GET", "HEAD"),
            "headerSchema": _header_schema("if-none-match"),
        },
        {
            **common,
            "title": "Replace document",
            "description": "Replace the document whole, or create it when "
            "absent (201). A body id must equal the path id. If-Match makes "
            "the write conditional (412 when stale).",
            "submissionSchema": _ref("document"),
            "targetSchema": _ref("storedDocument"),
            "targetHints": _allow("PUT"),
            "headerSchema": conditional,
        },
        *_patch_links(common, conditional),
        {
            **common,
            "title": "Delete document",
            "description": "Delete the document; answers 204 with no body. "
            "If-Match makes the delete conditional.",
            "targetHints": _allow("DELETE"),
            "headerSchema": conditional,
        },
    ]


def _patch_links(common: Schema, conditional: Schema) -> list[Schema]:
    """PATCH in its two formats, one link per media type."""
    accept_patch = [
        "application/merge-patch+json",
        "application/json",
        "application/json-patch+json",
    ]
    hints = {**_allow("PATCH"), "accept-patch": accept_patch}
    return [
        {
            **common,
            "title": "Merge-patch document",
            "description": "Apply a JSON Merge Patch (RFC 7396); "
            "application/json is read the same way. If-Match makes the "
            "write conditional.",
            "submissionMediaType": "application/merge-patch+json",
            "submissionSchema": _ref("mergePatch"),
            "targetSchema": _ref("storedDocument"),
            "targetHints": hints,
            "headerSchema": conditional,
        },
        {
            **common,
            "title": "JSON-patch document",
            "description": "Apply a JSON Patch (RFC 6902), all operations or "
            "none; a failed test operation leaves the document unchanged. "
            "If-Match makes the write conditional.",
            "submissionMediaType": "application/json-patch+json",
            "submissionSchema": _ref("jsonPatch"),
            "targetSchema": _ref("storedDocument"),
            "targetHints": hints,
            "headerSchema": conditional,
        },
    ]
