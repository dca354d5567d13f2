"""The two PATCH formats: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).

A patch is turned into a function from the current document to the new one;
the caller reads, applies and writes with a version check, so the function
may run more than once when another write gets in between.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonpatch

from datasource.errors import DatasourceError, InvalidRequest, UnsupportedMediaType
from datasource.storage import Document

__all__ = [
    "JSON_PATCH",
    "MERGE_PATCH",
    "PATCH_MEDIA_TYPES",
    "InvalidPatch",
    "Patch",
    "PatchConflict",
    "PatchTestFailed",
    "build_patch",
    "merge_patch",
]

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
PATCH_MEDIA_TYPES = (MERGE_PATCH, "application/json", JSON_PATCH)

Patch = Callable[[Document], Any]


class InvalidPatch(InvalidRequest):
    """A patch document that is not a valid patch of its declared format."""

    slug = "invalid-patch"


class PatchConflict(DatasourceError):
    """A valid patch that does not fit the document (RFC 5789: 409)."""

    status = 409
    title = "Conflict"
    slug = "patch-conflict"


class PatchTestFailed(PatchConflict):
    """A JSON Patch ``test`` operation found a different value."""

    slug = "patch-test-failed"


def build_patch(media_type: str, patch: Any) -> Patch:
    """The function applying ``patch``, chosen by the request's media type.

    :raises UnsupportedMediaType: for a media type that is no patch format.
    :raises InvalidPatch: for a patch that is malformed in its format.
    """
    if media_type == JSON_PATCH:
        return _json_patch(patch)
    if media_type in PATCH_MEDIA_TYPES:
        return _merge_patch(patch)
    raise UnsupportedMediaType(
        f"PATCH takes {', '.join(PATCH_MEDIA_TYPES)}; the request has {media_type!r}."
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON Merge Patch (RFC 7396, section 2) without changing ``target``."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def _merge_patch(patch: Any) -> Patch:
    if not isinstance(patch, dict):
        raise InvalidPatch(
            "A merge patch must be a JSON object: any other value would replace "
            "the document with something that is not a document."
        )
    return lambda document: merge_patch(document, patch)


def _json_patch(operations: Any) -> Patch:
    if not isinstance(operations, list):
        raise InvalidPatch(
            "A JSON Patch must be an array of operations such as "
            '[{"op": "replace", "path": "/title", "value": "New"}].'
        )
    try:
        compiled = jsonpatch.JsonPatch(operations)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise InvalidPatch(f"The JSON Patch is invalid: {exc}.") from None
    return lambda document: _apply_json_patch(compiled, document)


def _apply_json_patch(compiled: Any, document: Document) -> Any:
    try:
        return compiled.apply(document)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchTestFailed(
            f"The test operation at {_operation_path(exc)} failed: the document "
            "holds another value there. Nothing was changed."
        ) from None
    except jsonpatch.InvalidJsonPatch as exc:
        raise InvalidPatch(f"The JSON Patch is invalid: {exc}.") from None
    except (jsonpatch.JsonPatchConflict, jsonpatch.JsonPointerException) as exc:
        raise PatchConflict(
            f"The JSON Patch does not fit the document: {exc}. Nothing was changed."
        ) from None


def _operation_path(exc: Any) -> str:
    """The JSON Pointer of the operation a jsonpatch error names, quoted."""
    location = getattr(exc.op, "location", None)
    return repr(location) if isinstance(location, str) else "an unknown path"
