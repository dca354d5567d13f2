"""The embedded store: one SQLite database file per environment.

Each collection is a rowid table named from a catalog (``c_<n>``), so no
collection name ever becomes an SQL identifier. A row holds the document's
``id`` (declared without a type, so integers stay integers and strings stay
strings), its whole JSON text in ``body`` and an opaque ``version``. A unique
index on ``CAST(id AS TEXT)`` both finds a document by the text of its URL
segment and keeps ``1`` and ``"1"`` from living in one collection.

Every call runs on this process's connections (``sqlite_connections``): a
write in one ``BEGIN IMMEDIATE`` transaction, a read on one snapshot. Creating
one document is one INSERT, and a patch one UPDATE conditioned on the version
it read, each its own transaction: SQLite's write lock is then held for one
statement only, never while Python works. A write encodes its document before
taking the lock and, when the cached catalog knows the collection, runs no
catalog query under it. A forked process starts over with its own connections
and an empty catalog cache.
Fields that are filtered or sorted on get indexes, configured or automatic.
Helpers: ``sqlite_query`` translates queries, ``sqlite_tables`` holds the
schema and the statements, ``sqlite_documents`` checks ids and encodes
documents, ``sqlite_counts`` remembers each connection's totals of matches.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path as FilePath
from types import MappingProxyType, TracebackType
from typing import TypeVar

import orjson

from datasource.errors import DatasourceError, StoreUnavailable
from datasource.query import Filter, Path, Query, filter_paths, project
from datasource.storage.base import (
    CollectionInfo,
    Document,
    DocumentId,
    FindResult,
    ReplaceResult,
    StoredDocument,
)
from datasource.storage.ids import (
    check_collection_name,
    new_version,
    not_found_error,
    replacement_id,
)
from datasource.storage.indexing import QueryCounter
from datasource.storage.sqlite_connections import SQLiteConnections
from datasource.storage.sqlite_documents import (
    check_version,
    duplicate_error,
    early_stored_document,
    is_same_id,
    prepare,
    prepared_row,
    stored_document,
)
from datasource.storage.sqlite_query import (
    json_path,
    regex_time_limit,
    translate_filter,
    translate_query,
)
from datasource.storage.sqlite_tables import (
    CollectionTable,
    Row,
    array_probe,
    count_rows,
    create_collection_table,
    create_index,
    drop_tables,
    find_page,
    insert_batch,
    insert_row,
    read_catalog,
    select_current,
    select_key,
    update_row,
    update_row_if_current,
)

__all__ = ["SQLiteStore"]

logger = logging.getLogger(__name__)

# Optimistic attempts of update_one before it takes the write lock to read.
_UPDATE_ATTEMPTS = 3

_Selected = TypeVar("_Selected")


class _Timed:
    """Logs one storage call at DEBUG: operation, collection, id, duration."""

    __slots__ = ("operation", "collection", "document_id", "started")

    def __init__(
        self, operation: str, collection: str = "", document_id: object = None
    ) -> None:
        self.operation = operation
        self.collection = collection
        self.document_id = document_id
        self.started = time.perf_counter()

    def __enter__(self) -> _Timed:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "sqlite %s collection=%s id=%s duration=%.3fms%s",
                self.operation,
                self.collection,
                self.document_id,
                (time.perf_counter() - self.started) * 1000,
                "" if kind is None else f" failed={kind.__name__}",
            )


class SQLiteStore:
    """One environment's collections in one SQLite database file."""

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "NORMAL",
        indexes: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType({}),
        auto_index_after: int = 20,
    ) -> None:
        self._db = SQLiteConnections(path, synchronous)
        FilePath(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._configured = {name: tuple(paths) for name, paths in indexes.items()}
        self._auto_index_after = auto_index_after
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Forget every cache: a new process starts from scratch."""
        self._lock = threading.Lock()
        self._catalog: tuple[int, dict[str, CollectionTable]] = (-1, {})
        self._query_counter = QueryCounter(self._auto_index_after)
        self._checked_configured: set[str] = set()

    # Connections and transactions

    def _connections(self) -> SQLiteConnections:
        """This process's connections; a forked child starts over with new ones."""
        if self._db.is_inherited:
            self._db = self._db.renewed()
            self._reset_process_state()
        return self._db

    def _connection(self) -> sqlite3.Connection:
        return self._connections().connection()

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections().read()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections().write()

    # The catalog

    def _collections(
        self, connection: sqlite3.Connection
    ) -> dict[str, CollectionTable]:
        """The catalog, re-read whenever the schema changed (in any process)."""
        version = connection.execute("PRAGMA schema_version").fetchone()[0]
        cached_version, catalog = self._catalog
        if version != cached_version:
            catalog = read_catalog(connection)
            self._catalog = (version, catalog)
        return catalog

    def _find_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> CollectionTable | None:
        return self._collections(connection).get(name)

    def _create_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> CollectionTable:
        """Add a collection with its configured indexes."""
        entry = create_collection_table(connection, name)
        for path in self._configured.get(name, ()):
            entry = create_index(connection, entry, path)
        self._checked_configured.add(name)
        return entry

    def _writable_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> CollectionTable:
        entry = self._find_collection(connection, name)
        if entry is None:
            entry = self._create_collection(connection, name)
        return entry

    # Store protocol: administration

    def ping(self) -> None:
        """Check that the database file answers a query."""
        with _Timed("ping"):
            try:
                self._connection().execute("SELECT 1").fetchone()
            except sqlite3.Error as exc:
                raise StoreUnavailable(
                    f"The SQLite database {self._path} does not answer ({exc})."
                ) from exc

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection holding documents, with its count, by name."""
        with _Timed("list_collections"), self._read() as connection:
            entries = sorted(self._collections(connection).values(), key=_by_name)
            totals = self._db.totals()
            counted = [
                (entry.name, count_rows(connection, entry, None, totals))
                for entry in entries
            ]
        return [CollectionInfo(name, count) for name, count in counted if count]

    def drop_collection(self, collection: str) -> bool:
        """Remove a collection, its table and its indexes."""
        check_collection_name(collection)
        with _Timed("drop_collection", collection), self._write() as connection:
            entry = self._find_collection(connection, collection)
            if entry is None:
                return False
            drop_tables(connection, entry)
        self._forget_counts(collection)
        return True

    def drop_all(self) -> None:
        """Remove every collection of the environment."""
        with _Timed("drop_all"), self._write() as connection:
            for entry in self._collections(connection).values():
                drop_tables(connection, entry)
        self._query_counter.clear()

    def close(self) -> None:
        """Close the connections this process opened, in every thread."""
        self._db.close()

    # Store protocol: writes

    def insert_one(self, collection: str, document: Document) -> StoredDocument:
        """Create one document, generating a 24-hex id when it has none.

        On a collection the cached catalog knows, the INSERT runs alone as its
        own transaction, holding SQLite's lock the least time; otherwise (and
        when another process dropped the table) the catalog is read and the
        collection created in one write transaction.
        """
        check_collection_name(collection)
        document_id, body = prepare(document)
        row = (document_id, body, new_version())
        with _Timed("insert_one", collection, document_id):
            try:
                if not self._insert_alone(collection, row):
                    with self._write() as connection:
                        entry = self._writable_collection(connection, collection)
                        insert_row(connection, entry, row)
            except sqlite3.IntegrityError:
                raise duplicate_error(collection, document_id) from None
        return StoredDocument(document_id, row[2], body)

    def _insert_alone(self, collection: str, row: Row) -> bool:
        """Insert on the cached catalog's table; False when it has none."""
        entry = self._catalog[1].get(collection)
        if entry is None:
            return False
        try:
            with self._connections().statement() as connection:
                insert_row(connection, entry, row)
        except sqlite3.OperationalError as exc:
            _raise_unless_table_missing(exc)
            return False
        return True

    def insert_many(
        self, collection: str, documents: Sequence[Document]
    ) -> list[StoredDocument]:
        """Create all documents or none, in one transaction."""
        check_collection_name(collection)
        rows = [
            prepared_row(index, document) for index, document in enumerate(documents)
        ]
        with _Timed("insert_many", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            insert_batch(connection, entry, rows, 0)
        return [StoredDocument(row[0], row[2], row[1]) for row in rows]

    def import_documents(
        self, collection: str, documents: Iterable[Document], batch_size: int = 1000
    ) -> int:
        """Create documents from a stream in one transaction, a batch at a time.

        Anything raised while reading the stream, or a duplicate id, rolls the
        whole import back and is raised again.
        """
        check_collection_name(collection)
        size = max(1, batch_size)
        with _Timed("import_documents", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            count = 0
            batch: list[Row] = []
            for document in documents:
                batch.append(prepared_row(count + len(batch), document))
                if len(batch) >= size:
                    count += insert_batch(connection, entry, batch, count)
                    batch = []
            count += insert_batch(connection, entry, batch, count)
        return count

    def replace_one(
        self,
        collection: str,
        document_id: str,
        document: Document,
        expected_version: str | None = None,
        upsert: bool = True,
    ) -> ReplaceResult:
        """Replace a document whole, or create it when absent and allowed.

        :raises VersionMismatch: when ``expected_version`` is not current.
        :raises DocumentNotFound: when there is no document and it may not be
            created (``upsert`` false, or a version was expected).
        """
        check_collection_name(collection)
        new_id = replacement_id(document_id, document)
        stored = early_stored_document(new_id, document)
        with (
            _Timed("replace_one", collection, document_id),
            self._write() as connection,
        ):
            entry, row = self._select_key(connection, collection, document_id)
            if entry is not None and row is not None:
                check_version(collection, document_id, row[2], expected_version)
                if stored is None or not is_same_id(stored.id, row[1]):
                    stored = stored_document(row[1], document)
                update_row(connection, entry, row[0], stored)
                return ReplaceResult(stored, created=False)

            if expected_version is not None or not upsert:
                raise not_found_error(collection, document_id)
            entry = entry or self._create_collection(connection, collection)
            stored = stored or stored_document(new_id, document)
            insert_row(connection, entry, (stored.id, stored.body, stored.version))
            return ReplaceResult(stored, created=True)

    def update_one(
        self,
        collection: str,
        document_id: str,
        change: Callable[[StoredDocument], Document],
    ) -> StoredDocument:
        """Read, change, and write on condition that the version is unchanged.

        The read and the conditional UPDATE each run alone, so SQLite's lock
        is held only for the UPDATE, never while Python applies the change. A
        write that lands in between makes the UPDATE match nothing; after a
        few such attempts the cycle runs once more in one write transaction,
        where nothing can come between.

        :raises DocumentNotFound: when there is no such document.
        """
        check_collection_name(collection)
        with _Timed("update_one", collection, document_id):
            for _ in range(_UPDATE_ATTEMPTS):
                stored = self._update_alone(collection, document_id, change)
                if stored is not None:
                    return stored
            return self._update_locked(collection, document_id, change)

    def _update_alone(
        self,
        collection: str,
        document_id: str,
        change: Callable[[StoredDocument], Document],
    ) -> StoredDocument | None:
        """One optimistic attempt; None when it must be made again."""
        entry = self._catalog[1].get(collection)
        if entry is None:
            return None
        try:
            with self._connections().statement() as connection:
                row = select_current(connection, entry, document_id)
                if row is None:
                    raise not_found_error(collection, document_id)
                stored = _changed(row, change)
                rowid, version = row[0], row[2]
                if update_row_if_current(connection, entry, rowid, version, stored):
                    return stored
        except sqlite3.OperationalError as exc:
            _raise_unless_table_missing(exc)
        return None

    def _update_locked(
        self,
        collection: str,
        document_id: str,
        change: Callable[[StoredDocument], Document],
    ) -> StoredDocument:
        """Read, change and write in one write transaction."""
        with self._write() as connection:
            entry, row = self._select_first(
                connection,
                collection,
                lambda entry: select_current(connection, entry, document_id),
            )
            if entry is None or row is None:
                raise not_found_error(collection, document_id)
            stored = _changed(row, change)
            update_row(connection, entry, row[0], stored)
            return stored

    def delete_one(
        self, collection: str, document_id: str, expected_version: str | None = None
    ) -> None:
        """Delete a document, checking its version first when one is expected.

        :raises DocumentNotFound: when there is no such document.
        :raises VersionMismatch: when ``expected_version`` is not current.
        """
        check_collection_name(collection)
        with _Timed("delete_one", collection, document_id), self._write() as connection:
            entry, row = self._select_key(connection, collection, document_id)
            if entry is None or row is None:
                raise not_found_error(collection, document_id)
            check_version(collection, document_id, row[2], expected_version)
            connection.execute(f"DELETE FROM {entry.table} WHERE rowid = ?", (row[0],))

    def _select_key(
        self, connection: sqlite3.Connection, collection: str, document_id: str
    ) -> tuple[CollectionTable | None, tuple[int, DocumentId, str] | None]:
        """The collection's table and the document's key, first statement of a write."""
        return self._select_first(
            connection,
            collection,
            lambda entry: select_key(connection, entry, document_id),
        )

    def _select_first(
        self,
        connection: sqlite3.Connection,
        collection: str,
        select: Callable[[CollectionTable], _Selected | None],
    ) -> tuple[CollectionTable | None, _Selected | None]:
        """The collection's table and what ``select`` reads, first in a write.

        Under ``BEGIN IMMEDIATE`` no other connection changes the schema, so
        only this statement can meet a table that another process dropped
        since the catalog was cached; the catalog is then read in the same
        transaction, as it is at once for a collection the cache lacks.
        """
        entry = self._catalog[1].get(collection)
        if entry is not None:
            try:
                return entry, select(entry)
            except sqlite3.OperationalError as exc:
                _raise_unless_table_missing(exc)
        entry = self._find_collection(connection, collection)
        if entry is None:
            return None, None
        return entry, select(entry)

    # Store protocol: reads

    def find_one(self, collection: str, document_id: str) -> StoredDocument | None:
        """The document whose id is this text or the integer it spells."""
        check_collection_name(collection)
        with _Timed("find_one", collection, document_id):
            connection = self._connection()
            try:
                return self._select_one(connection, collection, document_id, True)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
            return self._select_one(connection, collection, document_id, False)

    def _select_one(
        self,
        connection: sqlite3.Connection,
        collection: str,
        document_id: str,
        is_cache_trusted: bool,
    ) -> StoredDocument | None:
        """One statement, on the cached catalog when it knows the collection.

        A single SELECT needs no transaction; a collection dropped meanwhile
        by another process shows as a missing table, and the caller retries
        on a fresh catalog.
        """
        entry = self._catalog[1].get(collection) if is_cache_trusted else None
        if entry is None:
            entry = self._find_collection(connection, collection)
        if entry is None:
            return None
        row = connection.execute(
            f"SELECT id, version, CAST(body AS BLOB) FROM {entry.table} "
            "WHERE CAST(id AS TEXT) = ?",
            (document_id,),
        ).fetchone()
        return None if row is None else StoredDocument(row[0], row[1], row[2])

    def find(self, collection: str, query: Query) -> FindResult:
        """One page of matching documents and the number of all matches."""
        check_collection_name(collection)
        with _Timed("find", collection):
            self._prepare_indexes(collection, query)
            with self._read() as connection, regex_time_limit():
                entry = self._find_collection(connection, collection)
                if entry is None:
                    translate_query(query)
                    return FindResult([], 0)
                documents, total = find_page(
                    connection, entry, query, self._db.totals()
                )
        if query.fields is not None:
            documents = [_projected(document, query.fields) for document in documents]
        return FindResult(documents, total)

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """The number of documents matching the filter."""
        check_collection_name(collection)
        timed = _Timed("count", collection)
        with timed, self._read() as connection, regex_time_limit():
            entry = self._find_collection(connection, collection)
            if entry is None:
                translate_filter(filter)
                return 0
            translation = translate_filter(
                filter, entry.indexed, array_probe(connection, entry)
            )
            return count_rows(connection, entry, translation, self._db.totals())

    # Indexes

    def ensure_index(self, collection: str, path: tuple[str, ...]) -> None:
        """Create the expression index on a field path if there is none.

        The index orders by type rank, value and id, so it serves equality and
        range filters on the field as well as sorting by it.
        """
        check_collection_name(collection)
        json_path(path)
        with _Timed("ensure_index", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            if tuple(path) not in entry.indexed:
                create_index(connection, entry, tuple(path))

    def _prepare_indexes(self, collection: str, query: Query) -> None:
        """Create configured indexes on first use, and automatic ones when due."""
        if (
            collection in self._configured
            and collection not in self._checked_configured
        ):
            self._create_configured(collection)
        if not self._query_counter.is_enabled:
            return
        paths = filter_paths(query.filter) | {key.path for key in query.sort}
        if not paths:
            return
        connection = self._connection()
        entry = self._find_collection(connection, collection)
        if entry is None:
            return
        for path in sorted(paths - entry.indexed.keys()):
            json_path(path)  # a path no query can use is an error, not a count
            for due in self._query_counter.count(collection, [path]):
                self._create_index_quietly(collection, due)

    def _create_configured(self, collection: str) -> None:
        entry = self._find_collection(self._connection(), collection)
        if entry is not None:
            for path in self._configured[collection]:
                if path not in entry.indexed:
                    self._create_index_quietly(collection, path)
        self._checked_configured.add(collection)

    def _create_index_quietly(self, collection: str, path: Path) -> None:
        """Index a field; a failure is logged, never the query's failure."""
        try:
            self.ensure_index(collection, path)
        except (DatasourceError, sqlite3.Error) as exc:
            logger.warning(
                "cannot index %s of collection %s: %s", ".".join(path), collection, exc
            )

    def _forget_counts(self, collection: str) -> None:
        self._query_counter.forget(collection)
        with self._lock:
            self._checked_configured.discard(collection)


def _changed(
    row: tuple[int, DocumentId, str, bytes],
    change: Callable[[StoredDocument], Document],
) -> StoredDocument:
    """The document ``change`` makes of a row read by ``select_current``."""
    _rowid, stored_id, version, body = row
    updated = change(StoredDocument(stored_id, version, body))
    return stored_document(stored_id, updated)


def _projected(document: StoredDocument, fields: tuple[Path, ...]) -> StoredDocument:
    body = orjson.dumps(project(document.document, fields))
    return StoredDocument(document.id, document.version, body)


def _raise_unless_table_missing(exc: sqlite3.OperationalError) -> None:
    """Let a cached table that another process dropped fall back to the catalog."""
    if "no such table" not in str(exc):
        raise exc


def _by_name(entry: CollectionTable) -> str:
    return entry.name
