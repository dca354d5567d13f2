"""The store contract: what every backend (SQLite, MongoDB) provides.

One ``Store`` serves one environment. Verbs follow pymongo's names; arguments
are neutral (collection names, ids, plain dicts, a ``Query``), and results are
plain values or the small dataclasses below. Stores raise the exceptions of
``datasource.errors`` and never import Flask.

Ids: a document's id is the field ``id``, an ``int`` or a ``str``. A store
generates a 24-hex-digit id (ObjectId-compatible) when a document has none.
Looking a document up by ``document_id`` (always the text of the URL segment)
finds the document whose id is that string or the integer it spells; one
collection never holds both.

Versions: every write gives the document a new opaque version token. Writes
that take ``expected_version`` raise ``VersionMismatch`` when the current
version differs (or ``DocumentNotFound`` when there is no document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, runtime_checkable

import orjson

from datasource.query import Filter, Query

Document = dict[str, Any]
DocumentId = int | str


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored: its id, its version and its JSON encoding.

    The body is kept encoded so that reads can be served without a round trip
    through Python objects; ``document`` decodes it on demand.
    """

    id: DocumentId
    version: str
    body: bytes

    @cached_property
    def document(self) -> Document:
        decoded: Document = orjson.loads(self.body)
        return decoded


@dataclass(frozen=True)
class FindResult:
    """One page of a list query and the number of all matching documents."""

    documents: list[StoredDocument]
    total: int


@dataclass(frozen=True)
class ReplaceResult:
    document: StoredDocument
    created: bool


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    count: int


@runtime_checkable
class Store(Protocol):
    """One environment's documents, grouped in collections."""

    def ping(self) -> None:
        """Check the store answers. :raises StoreUnavailable: when it does not."""

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection holding documents, by name, with its count."""

    def insert_one(self, collection: str, document: Document) -> StoredDocument:
        """Create one document, generating its id when absent.

        :raises DuplicateDocument: when the id is taken.
        """

    def insert_many(
        self, collection: str, documents: Sequence[Document]
    ) -> list[StoredDocument]:
        """Create all documents or none.

        :raises DuplicateDocument: naming the index of the first failing element
            in ``errors`` (path ``/<index>/id``).
        """

    def import_documents(
        self, collection: str, documents: Iterable[Document], batch_size: int = 1000
    ) -> int:
        """Create documents from a stream, all or none, in batches; return the count.

        Errors raised by the iterable abort the whole import.
        """

    def find_one(self, collection: str, document_id: str) -> StoredDocument | None:
        """The document with this id (as string or the integer it spells)."""

    def find(self, collection: str, query: Query) -> FindResult:
        """A page of documents matching the query, and the total count."""

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """The number of documents matching the filter."""

    def replace_one(
        self,
        collection: str,
        document_id: str,
        document: Document,
        expected_version: str | None = None,
        upsert: bool = True,
    ) -> ReplaceResult:
        """Replace a document whole, or create it when absent and ``upsert``.

        ``document`` carries an ``id`` whose text equals ``document_id``. An
        existing document keeps its stored id (and its type); a created one
        takes the id of ``document``.
        """

    def update_one(
        self,
        collection: str,
        document_id: str,
        change: Callable[[StoredDocument], Document],
    ) -> StoredDocument:
        """Replace a document with ``change(current)``, nothing written between.

        ``change`` returns the new body, which keeps the current id; an
        exception it raises leaves the document as it was and propagates.

        :raises DocumentNotFound: when there is no such document.
        :raises WriteConflict: when other writes kept changing it meanwhile.
        """

    def delete_one(
        self, collection: str, document_id: str, expected_version: str | None = None
    ) -> None:
        """Delete a document. :raises DocumentNotFound: when there is none."""

    def drop_collection(self, collection: str) -> bool:
        """Remove a collection and its documents; False when it did not exist."""

    def drop_all(self) -> None:
        """Remove every collection of the environment."""

    def ensure_index(self, collection: str, path: tuple[str, ...]) -> None:
        """Create an index on a field path if there is none."""

    def close(self) -> None:
        """Release connections."""
