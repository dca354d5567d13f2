"""Domain exceptions shared by the stores, the query model and the HTTP layer.

Stores and parsers raise these; the HTTP layer turns each into one
problem+json response (RFC 9457) in a single handler. Nothing here knows
about Flask, so the storage package can import it freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One thing wrong with a request: where (a JSON Pointer or a parameter name)
    and what."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass
class DatasourceError(Exception):
    """Base class: a message for a person, plus optional per-item details."""

    detail: str
    errors: list[ErrorDetail] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status = 500
    title = "Internal Server Error"
    slug = "internal-error"

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return self.detail


class InvalidRequest(DatasourceError):
    """The request itself is malformed: bad JSON, wrong body shape, bad header."""

    status = 400
    title = "Bad Request"
    slug = "invalid-request"


class InvalidDocument(InvalidRequest):
    """A document the store cannot accept as given (bad id, bad field value)."""

    slug = "invalid-document"


class InvalidQuery(InvalidRequest):
    """A query parameter or filter that cannot be understood."""

    slug = "invalid-query"


class EnvironmentNotFound(DatasourceError):
    status = 404
    title = "Not Found"
    slug = "environment-not-found"


class DocumentNotFound(DatasourceError):
    status = 404
    title = "Not Found"
    slug = "document-not-found"


class DuplicateDocument(DatasourceError):
    """A document with the same id already exists in the collection."""

    status = 409
    title = "Conflict"
    slug = "duplicate-document"


class VersionMismatch(DatasourceError):
    """A conditional write whose expected version is no longer current."""

    status = 412
    title = "Precondition Failed"
    slug = "version-mismatch"


class PayloadTooLarge(DatasourceError):
    status = 413
    title = "Content Too Large"
    slug = "payload-too-large"


class UnsupportedMediaType(DatasourceError):
    status = 415
    title = "Unsupported Media Type"
    slug = "unsupported-media-type"


class WriteConflict(DatasourceError):
    """Other writes kept changing a document while a change was being applied."""

    status = 409
    title = "Conflict"
    slug = "write-conflict"


class StoreUnavailable(DatasourceError):
    """The store behind an environment cannot be reached right now."""

    status = 503
    title = "Service Unavailable"
    slug = "store-unavailable"


class NotSupported(DatasourceError):
    """An operation the store of this environment does not implement."""

    status = 501
    title = "Not Implemented"
    slug = "not-supported"


class ConfigurationError(Exception):
    """A setting that is missing, unknown or of the wrong type; stops startup."""
