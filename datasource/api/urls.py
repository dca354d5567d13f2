"""Absolute URLs of this service's collections and documents.

Werkzeug derives the root URL from the scheme, the Host header, the server
address and the mount point on every request, which costs more than the rest
of a small request's own work; the few distinct roots a server sees are
remembered instead, keyed by exactly the values Werkzeug reads.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import request

from datasource.api.names import id_text
from datasource.storage import DocumentId

__all__ = ["collection_url", "document_url", "root_url"]

_ROOT_KEYS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
)
# Host headers come from clients: bound what they can make the server keep.
_MAX_ROOTS = 64
_roots: dict[tuple[str | None, ...], str] = {}


def root_url() -> str:
    """The URL the service is reached at, ending in ``/``, as Werkzeug builds it."""
    environ = request.environ
    key = tuple(environ.get(name) for name in _ROOT_KEYS)
    root = _roots.get(key)
    if root is None:
        root = request.root_url
        if len(_roots) >= _MAX_ROOTS:
            _roots.clear()
        _roots[key] = root
    return root


def collection_url(environment: str, collection: str) -> str:
    """The absolute URL of a collection.

    Environment and collection names need no encoding: their rules allow only
    characters that URLs carry as they are.
    """
    return f"{root_url()}{environment}/{collection}"


def document_url(environment: str, collection: str, document_id: DocumentId) -> str:
    """The absolute URL of a document, its id percent-encoded as one segment."""
    segment = quote(id_text(document_id), safe="")
    return f"{collection_url(environment, collection)}/{segment}"
