"""JSON Schemas of the API's inputs and outputs, shared by both descriptions.

The root Hyper-Schema (draft 2019-09) and the OpenAPI 3.1 document (JSON
Schema 2020-12) describe the same bodies and parameters. Every schema here
uses only keywords that mean the same in both drafts, and none refers to
another, so each description can file them under its own ``$defs`` or
``components``. Each function returns a fresh dict the caller may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datasource.query import DEFAULT_LIMIT, MAX_LIMIT
from datasource.queryparse import FIELD_OPERATORS, MAX_OFFSET, RESERVED_PARAMETERS
from datasource.whereparse import WHERE_OPERATORS

Schema = dict[str, Any]

ENVIRONMENT_PATTERN = "^[a-z][a-z0-9_-]{0,63}$"
COLLECTION_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
DOCUMENT_ID_PATTERN = "^[^/]+$"
JSON_POINTER_PATTERN = "^(/([^~/]|~[01])*)*$"
# One or more entity tags (RFC 9110, section 8.8.3), comma-separated, or *.
_ENTITY_TAG = r'(W/)?"[\x21\x23-\x7e]*"'
ENTITY_TAGS_PATTERN = rf"^(\*|{_ENTITY_TAG}( *, *{_ENTITY_TAG})*)$"
# Ids a URL path segment cannot carry: clients normalise these dot segments.
UNADDRESSABLE_IDS = (".", "..")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

LOGICAL_OPERATORS = ("$and", "$or", "$nor", "$not")


def environment_name(environments: Sequence[str] = ()) -> Schema:
    """An environment name; with ``environments``, only the configured ones."""
    schema: Schema = {
        "type": "string",
        "pattern": ENVIRONMENT_PATTERN,
        "description": "Name of an environment (an isolated data set).",
    }
    if environments:
        schema["enum"] = list(environments)
    return schema


def collection_name() -> Schema:
    """A collection name, as the contract fixes it."""
    return {
        "type": "string",
        "pattern": COLLECTION_PATTERN,
        "description": "Name of a collection; it is created on first write.",
    }


def document_id_segment() -> Schema:
    """A document id as it appears in a URL path: the id's text, never a slash."""
    return {
        "type": "string",
        "minLength": 1,
        "pattern": DOCUMENT_ID_PATTERN,
        "not": {"enum": list(UNADDRESSABLE_IDS)},
        "description": "The id of a document: finds the document whose id is "
        "this string or the integer it spells.",
    }


def document_id() -> Schema:
    """The ``id`` field of a document body: a string or an integer."""
    return {
        "type": ["string", "integer"],
        "pattern": DOCUMENT_ID_PATTERN,
        "minLength": 1,
        "not": {"enum": list(UNADDRESSABLE_IDS)},
        "minimum": INT64_MIN,
        "maximum": INT64_MAX,
        "description": "A string (no slash, not . or ..) or a 64-bit integer; "
        "generated as 24 hex digits when a created document has none.",
    }


def document() -> Schema:
    """A document as a client sends it: any JSON object, ``id`` optional."""
    return {
        "type": "object",
        "properties": {"id": document_id()},
        "additionalProperties": True,
        "description": "A JSON document: any object. Fields keep their JSON "
        "types exactly.",
    }


def stored_document() -> Schema:
    """A document as the server returns it: always with its ``id``."""
    schema = document()
    schema["required"] = ["id"]
    schema["description"] = "A stored document, with its id."
    return schema


def new_documents() -> Schema:
    """The body of a create request: one document, or an array created as one."""
    return {
        "oneOf": [
            document(),
            {
                "type": "array",
                "items": document(),
                "description": "Documents to create all together or not at all.",
            },
        ]
    }


def created_documents() -> Schema:
    """The answer to a create request: the stored document or documents."""
    return {
        "oneOf": [
            stored_document(),
            {"type": "array", "items": stored_document()},
        ]
    }


def document_list() -> Schema:
    """One page of a collection listing: a bare array of documents."""
    return {
        "type": "array",
        "items": stored_document(),
        "description": "Matching documents of one page; X-Total-Count gives all.",
    }


def merge_patch() -> Schema:
    """A JSON Merge Patch (RFC 7396) of a document: an object; null removes."""
    return {
        "type": "object",
        "additionalProperties": True,
        "description": "Fields to set; a field set to null is removed "
        "(RFC 7396). Changing id is refused.",
    }


def json_patch() -> Schema:
    """A JSON Patch (RFC 6902): an array of operations applied all or none."""
    pointer = {
        "type": "string",
        "pattern": JSON_POINTER_PATTERN,
        "description": "A JSON Pointer (RFC 6901), such as /author/name.",
    }
    with_value = {
        "type": "object",
        "required": ["op", "path", "value"],
        "properties": {
            "op": {"enum": ["add", "replace", "test"]},
            "path": pointer,
            "value": {},
        },
    }
    without_value = {
        "type": "object",
        "required": ["op", "path"],
        "properties": {"op": {"const": "remove"}, "path": pointer},
    }
    with_source = {
        "type": "object",
        "required": ["op", "from", "path"],
        "properties": {
            "op": {"enum": ["move", "copy"]},
            "from": pointer,
            "path": pointer,
        },
    }
    return {
        "type": "array",
        "items": {"oneOf": [with_value, without_value, with_source]},
        "description": "Operations applied in order, all or none (RFC 6902).",
    }


def entity_tags() -> Schema:
    """An If-Match or If-None-Match value: entity tags, or * for any."""
    return {"type": "string", "pattern": ENTITY_TAGS_PATTERN}


def problem() -> Schema:
    """An error body: RFC 9457 problem details, with per-item ``errors``."""
    return {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path", "message"],
                    "properties": {
                        "path": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
        "additionalProperties": True,
    }


def environment_listing() -> Schema:
    """The answer to ``GET /{env}``: the environment and its collections."""
    collection_info = {
        "type": "object",
        "required": ["name", "count"],
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
        },
    }
    return {
        "type": "object",
        "required": ["environment", "collections"],
        "properties": {
            "environment": {"type": "string"},
            "collections": {"type": "array", "items": collection_info},
        },
    }


def health() -> Schema:
    """The answer to ``GET /-/health`` when every store answers."""
    return {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"const": "ok"},
            "environments": {
                "type": "object",
                "additionalProperties": {"enum": ["ok", "unavailable"]},
                "description": "The state of each environment's store.",
            },
        },
    }


def limit() -> Schema:
    """The ``limit`` query parameter: page size."""
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_LIMIT,
        "default": DEFAULT_LIMIT,
        "description": f"Page size: at most {MAX_LIMIT}, {DEFAULT_LIMIT} when absent.",
    }


def offset() -> Schema:
    """The ``offset`` query parameter: how many matching documents to skip."""
    return {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_OFFSET,
        "default": 0,
        "description": "Number of matching documents to skip.",
    }


def sort() -> Schema:
    """The ``sort`` query parameter: comma-separated keys, ``-`` descending."""
    return {
        "type": "string",
        "description": "Comma-separated field paths; a leading - sorts that key "
        "descending (sort=a,-b). Documents lacking a field sort first.",
    }


def fields() -> Schema:
    """The ``fields`` query parameter: a projection."""
    return {
        "type": "string",
        "description": "Comma-separated field paths to return (id is always returned).",
    }


def search_text() -> Schema:
    """The ``q`` query parameter: text searched in every string field."""
    return {
        "type": "string",
        "description": "Documents with any string field containing this text, "
        "ignoring case.",
    }


def where() -> Schema:
    """The ``where`` query parameter: a MongoDB-style filter as JSON text."""
    return {
        "type": "string",
        "description": "A MongoDB-style filter object as JSON: field paths with "
        f"values or operator objects ({' '.join(WHERE_OPERATORS)}), combined "
        f"with {' '.join(LOGICAL_OPERATORS)}.",
    }


def where_filter() -> Schema:
    """The decoded ``where`` filter, two levels deep.

    The server accepts nesting up to 32 levels; the schema stops at one
    level of ``$and``/``$or``/``$nor``/``$not`` so that it needs no recursive
    reference and suits generators. Field paths are dotted, with no empty
    segment, and do not start with ``$``.
    """
    fields_only = _field_conditions()
    clauses = {"type": "array", "minItems": 1, "items": fields_only}
    logical = {"$and": clauses, "$or": clauses, "$nor": clauses, "$not": fields_only}
    return {
        **_field_conditions(),
        "properties": logical,
        "propertyNames": {"anyOf": [{"enum": list(logical)}, _field_path()]},
        "description": where()["description"],
    }


def _field_path() -> Schema:
    return {"type": "string", "pattern": r"^[^$.][^.]*(\.[^.]+)*$"}


def _field_conditions() -> Schema:
    """An object of field paths, each with a value or an operator object."""
    return {
        "type": "object",
        "propertyNames": _field_path(),
        "additionalProperties": {"anyOf": [_operators(), _plain_value()]},
    }


def _plain_value() -> Schema:
    """A value to compare with: any JSON but an object with ``$`` keys."""
    return {
        "anyOf": [
            {"type": ["string", "number", "boolean", "null", "array"]},
            {"type": "object", "propertyNames": {"not": {"pattern": "^[$]"}}},
        ]
    }


def _operators(is_negated: bool = False) -> Schema:
    """An operator object such as {"$gte": 1, "$lt": 5}."""
    comparable = {"type": ["number", "string"]}
    properties: dict[str, Schema] = {
        "$eq": {},
        "$ne": {},
        "$gt": comparable,
        "$gte": comparable,
        "$lt": comparable,
        "$lte": comparable,
        "$in": {"type": "array"},
        "$nin": {"type": "array"},
        "$exists": {"type": "boolean"},
        "$regex": {"type": "string"},
        "$options": {"enum": ["", "i"]},
    }
    if not is_negated:
        properties["$not"] = _operators(is_negated=True)
    return {
        "type": "object",
        "minProperties": 1,
        "properties": properties,
        "additionalProperties": False,
        "dependentRequired": {"$options": ["$regex"]},
    }


def field_filters() -> Schema:
    """Every other query parameter: ``field=value`` or ``field[op]=value``."""
    return {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Field filters: field=value for equality, "
        "field[op]=value with op one of "
        f"{' '.join(FIELD_OPERATORS)}. A field may be a dotted path; in and "
        "nin take a comma list. Names other than "
        f"{', '.join(sorted(RESERVED_PARAMETERS))} are field filters.",
    }
