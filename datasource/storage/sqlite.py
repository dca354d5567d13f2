"""The embedded store: one SQLite database file per environment.

Each collection is a rowid table named from a catalog (``c_<n>``), so no
collection name ever becomes an SQL identifier. A row holds the document's
``id`` (declared without a type, so integers stay integers and strings stay
strings), its whole JSON text in ``body`` and an opaque ``version``. A unique
index on ``CAST(id AS TEXT)`` both finds a document by the text of its URL
segment and keeps ``1`` and ``"1"`` from living in one collection.

Connections are per thread and per process (gunicorn forks workers), in WAL
mode with explicit transactions: writes take ``BEGIN IMMEDIATE`` so that
conditional checks and the write happen under one lock, and readers see one
snapshot per call. Queries are translated by ``sqlite_query``; fields that are
filtered or sorted on get expression indexes, configured or automatic.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path as FilePath
from types import MappingProxyType, TracebackType
from typing import Any

import orjson
from bson import ObjectId

from datasource.errors import (
    ConfigurationError,
    DatasourceError,
    DocumentNotFound,
    DuplicateDocument,
    ErrorDetail,
    InvalidDocument,
    InvalidRequest,
    StoreUnavailable,
    VersionMismatch,
)
from datasource.query import Filter, Path, Query, filter_paths, project
from datasource.storage.base import (
    CollectionInfo,
    Document,
    DocumentId,
    FindResult,
    ReplaceResult,
    StoredDocument,
)
from datasource.storage.sqlite_query import (
    Translation,
    index_columns,
    json_path,
    rank_of,
    register_functions,
    translate_filter,
    translate_query,
)

__all__ = ["SQLiteStore"]

logger = logging.getLogger(__name__)

COLLECTION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_SECONDS = 10.0
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

_CATALOG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS catalog_collections ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS catalog_indexes ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, collection_id INTEGER NOT NULL, "
    "path TEXT NOT NULL, UNIQUE (collection_id, path))",
)

# Connections inherited through fork are never used or closed in the child:
# closing one could checkpoint and remove the parent's WAL file. Keeping a
# reference stops the garbage collector from closing them.
_inherited_connections: list[sqlite3.Connection] = []


@dataclass(frozen=True)
class _Collection:
    """A catalog entry: the collection's table number and its indexes by path."""

    number: int
    name: str
    indexed: Mapping[Path, str]

    @property
    def table(self) -> str:
        return f"c_{self.number}"


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
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigurationError(
                f"The SQLite synchronous mode {synchronous!r} is unknown; use one "
                f"of {', '.join(SYNCHRONOUS_MODES)}."
            )
        FilePath(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._synchronous = synchronous.upper()
        self._configured = {name: tuple(paths) for name, paths in indexes.items()}
        self._auto_index_after = auto_index_after
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Forget every connection and cache: a new process starts from scratch."""
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._is_bootstrapped = False
        self._catalog: tuple[int, dict[str, _Collection]] = (-1, {})
        self._query_counts: Counter[tuple[str, Path]] = Counter()
        self._checked_configured: set[str] = set()

    # Connections and transactions

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            _inherited_connections.extend(self._connections)
            self._reset_process_state()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._open_connection()
        return connection

    def _open_connection(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self._path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=512,
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"The SQLite database {self._path} cannot be opened ({exc}); "
                "check that its directory exists and is writable."
            ) from exc
        register_functions(connection)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        if not self._is_bootstrapped:
            self._bootstrap(connection)
        return connection

    def _bootstrap(self, connection: sqlite3.Connection) -> None:
        """Create the catalog tables when the database is new."""
        row = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('catalog_collections', 'catalog_indexes')"
        ).fetchone()
        if row[0] < len(_CATALOG_SCHEMA):
            with self._transaction(connection, "BEGIN IMMEDIATE"):
                for statement in _CATALOG_SCHEMA:
                    connection.execute(statement)
        self._is_bootstrapped = True

    @contextmanager
    def _transaction(
        self, connection: sqlite3.Connection, begin: str
    ) -> Iterator[sqlite3.Connection]:
        """Run a block in one transaction; roll back on any exception."""
        try:
            connection.execute(begin)
        except sqlite3.OperationalError as exc:
            _raise_if_busy(exc)
            raise
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            _raise_if_busy(exc)
            raise

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every statement inside sees one snapshot."""
        return self._transaction(self._connection(), "BEGIN")

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction holding the database's write lock from its start."""
        return self._transaction(self._connection(), "BEGIN IMMEDIATE")

    # The catalog

    def _collections(self, connection: sqlite3.Connection) -> dict[str, _Collection]:
        """The catalog, re-read whenever the schema changed (in any process)."""
        version = connection.execute("PRAGMA schema_version").fetchone()[0]
        cached_version, catalog = self._catalog
        if version != cached_version:
            catalog = _read_catalog(connection)
            self._catalog = (version, catalog)
        return catalog

    def _find_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> _Collection | None:
        return self._collections(connection).get(name)

    def _create_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> _Collection:
        """Add a collection's table, key index and configured indexes."""
        cursor = connection.execute(
            "INSERT INTO catalog_collections (name) VALUES (?)", (name,)
        )
        entry = _Collection(int(cursor.lastrowid or 0), name, {})
        connection.execute(
            f"CREATE TABLE {entry.table} "
            "(id UNIQUE, body TEXT NOT NULL, version TEXT NOT NULL)"
        )
        connection.execute(
            f"CREATE UNIQUE INDEX {entry.table}_key ON {entry.table} (CAST(id AS TEXT))"
        )
        for path in self._configured.get(name, ()):
            entry = _create_index(connection, entry, path)
        self._checked_configured.add(name)
        logger.info("created collection %s as table %s", name, entry.table)
        return entry

    def _writable_collection(
        self, connection: sqlite3.Connection, name: str
    ) -> _Collection:
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
            counted = [
                (entry.name, _count_rows(connection, entry)) for entry in entries
            ]
        return [CollectionInfo(name, count) for name, count in counted if count]

    def drop_collection(self, collection: str) -> bool:
        """Remove a collection, its table and its indexes."""
        _check_collection_name(collection)
        with _Timed("drop_collection", collection), self._write() as connection:
            entry = self._find_collection(connection, collection)
            if entry is None:
                return False
            _drop(connection, entry)
        self._forget_counts(collection)
        return True

    def drop_all(self) -> None:
        """Remove every collection of the environment."""
        with _Timed("drop_all"), self._write() as connection:
            for entry in self._collections(connection).values():
                _drop(connection, entry)
        with self._lock:
            self._query_counts.clear()

    def close(self) -> None:
        """Close the connections this process opened, in every thread."""
        if os.getpid() != self._pid:
            return
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    # Store protocol: writes

    def insert_one(self, collection: str, document: Document) -> StoredDocument:
        """Create one document, generating a 24-hex id when it has none."""
        _check_collection_name(collection)
        document_id, body = _prepare(document)
        version = _new_version()
        with _Timed("insert_one", collection, document_id), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            try:
                _insert(connection, entry, (document_id, body, version))
            except sqlite3.IntegrityError:
                raise _duplicate(collection, document_id) from None
        return StoredDocument(document_id, version, body)

    def insert_many(
        self, collection: str, documents: Sequence[Document]
    ) -> list[StoredDocument]:
        """Create all documents or none, in one transaction."""
        _check_collection_name(collection)
        rows = [
            _prepared_row(index, document) for index, document in enumerate(documents)
        ]
        with _Timed("insert_many", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            _insert_batch(connection, entry, rows, 0)
        return [StoredDocument(row[0], row[2], row[1]) for row in rows]

    def import_documents(
        self, collection: str, documents: Iterable[Document], batch_size: int = 1000
    ) -> int:
        """Create documents from a stream in one transaction, a batch at a time.

        Anything raised while reading the stream, or a duplicate id, rolls the
        whole import back and is raised again.
        """
        _check_collection_name(collection)
        size = max(1, batch_size)
        with _Timed("import_documents", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            count = 0
            batch: list[tuple[DocumentId, bytes, str]] = []
            for document in documents:
                batch.append(_prepared_row(count + len(batch), document))
                if len(batch) >= size:
                    count += _insert_batch(connection, entry, batch, count)
                    batch = []
            count += _insert_batch(connection, entry, batch, count)
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
        _check_collection_name(collection)
        new_id = _replacement_id(document_id, document)
        with (
            _Timed("replace_one", collection, document_id),
            self._write() as connection,
        ):
            entry = self._find_collection(connection, collection)
            row = None if entry is None else _select_key(connection, entry, document_id)
            if entry is not None and row is not None:
                _check_version(collection, document_id, row[2], expected_version)
                stored = _stored(row[1], document)
                _update(connection, entry, row[0], stored)
                return ReplaceResult(stored, created=False)

            if expected_version is not None or not upsert:
                raise _not_found(collection, document_id)
            entry = entry or self._create_collection(connection, collection)
            stored = _stored(new_id, document)
            _insert(connection, entry, (stored.id, stored.body, stored.version))
            return ReplaceResult(stored, created=True)

    def delete_one(
        self, collection: str, document_id: str, expected_version: str | None = None
    ) -> None:
        """Delete a document, checking its version first when one is expected.

        :raises DocumentNotFound: when there is no such document.
        :raises VersionMismatch: when ``expected_version`` is not current.
        """
        _check_collection_name(collection)
        with _Timed("delete_one", collection, document_id), self._write() as connection:
            entry = self._find_collection(connection, collection)
            row = None if entry is None else _select_key(connection, entry, document_id)
            if entry is None or row is None:
                raise _not_found(collection, document_id)
            _check_version(collection, document_id, row[2], expected_version)
            connection.execute(f"DELETE FROM {entry.table} WHERE rowid = ?", (row[0],))

    # Store protocol: reads

    def find_one(self, collection: str, document_id: str) -> StoredDocument | None:
        """The document whose id is this text or the integer it spells."""
        _check_collection_name(collection)
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
        _check_collection_name(collection)
        with _Timed("find", collection):
            self._prepare_indexes(collection, query)
            with self._read() as connection:
                entry = self._find_collection(connection, collection)
                if entry is None:
                    translate_query(query)
                    return FindResult([], 0)
                documents, total = _find_in(connection, entry, query)
        if query.fields is not None:
            documents = [_projected(document, query.fields) for document in documents]
        return FindResult(documents, total)

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """The number of documents matching the filter."""
        _check_collection_name(collection)
        with _Timed("count", collection), self._read() as connection:
            entry = self._find_collection(connection, collection)
            if entry is None:
                translate_filter(filter)
                return 0
            translation = translate_filter(
                filter, entry.indexed, _array_probe(connection, entry)
            )
            return _count_rows(connection, entry, translation)

    # Indexes

    def ensure_index(self, collection: str, path: tuple[str, ...]) -> None:
        """Create the expression index on a field path if there is none.

        The index orders by type rank, value and id, so it serves equality and
        range filters on the field as well as sorting by it.
        """
        _check_collection_name(collection)
        json_path(path)
        with _Timed("ensure_index", collection), self._write() as connection:
            entry = self._writable_collection(connection, collection)
            if tuple(path) not in entry.indexed:
                _create_index(connection, entry, tuple(path))

    def _prepare_indexes(self, collection: str, query: Query) -> None:
        """Create configured indexes on first use, and automatic ones when due."""
        if (
            collection in self._configured
            and collection not in self._checked_configured
        ):
            self._create_configured(collection)
        if self._auto_index_after <= 0:
            return
        paths = filter_paths(query.filter) | {key.path for key in query.sort}
        if not paths:
            return
        connection = self._connection()
        entry = self._find_collection(connection, collection)
        if entry is None:
            return
        for path in sorted(paths - entry.indexed.keys()):
            if self._is_index_due(collection, path):
                self._create_index_quietly(collection, path)

    def _create_configured(self, collection: str) -> None:
        entry = self._find_collection(self._connection(), collection)
        if entry is not None:
            for path in self._configured[collection]:
                if path not in entry.indexed:
                    self._create_index_quietly(collection, path)
        self._checked_configured.add(collection)

    def _is_index_due(self, collection: str, path: Path) -> bool:
        with self._lock:
            self._query_counts[(collection, path)] += 1
            return self._query_counts[(collection, path)] == self._auto_index_after

    def _create_index_quietly(self, collection: str, path: Path) -> None:
        """Index a field; a failure is logged, never the query's failure."""
        try:
            self.ensure_index(collection, path)
        except (DatasourceError, sqlite3.Error) as exc:
            logger.warning(
                "cannot index %s of collection %s: %s", ".".join(path), collection, exc
            )

    def _forget_counts(self, collection: str) -> None:
        with self._lock:
            for key in [key for key in self._query_counts if key[0] == collection]:
                del self._query_counts[key]
            self._checked_configured.discard(collection)


# Catalog helpers


def _read_catalog(connection: sqlite3.Connection) -> dict[str, _Collection]:
    rows = connection.execute(
        "SELECT c.id, c.name, i.id, i.path FROM catalog_collections AS c "
        "LEFT JOIN catalog_indexes AS i ON i.collection_id = c.id"
    ).fetchall()
    indexes: dict[tuple[int, str], dict[Path, str]] = {}
    for number, name, index_number, path in rows:
        indexed = indexes.setdefault((number, name), {})
        if path is not None:
            indexed[tuple(orjson.loads(path))] = f"c_{number}_x{index_number}"
    return {
        name: _Collection(number, name, indexed)
        for (number, name), indexed in indexes.items()
    }


def _create_index(
    connection: sqlite3.Connection, entry: _Collection, path: Path
) -> _Collection:
    """Record and build one expression index inside the caller's transaction."""
    cursor = connection.execute(
        "INSERT INTO catalog_indexes (collection_id, path) VALUES (?, ?)",
        (entry.number, orjson.dumps(list(path)).decode()),
    )
    name = f"{entry.table}_x{cursor.lastrowid}"
    started = time.perf_counter()
    connection.execute(f"CREATE INDEX {name} ON {entry.table} ({index_columns(path)})")
    logger.info(
        "indexed %s of collection %s as %s in %.0f ms",
        ".".join(path),
        entry.name,
        name,
        (time.perf_counter() - started) * 1000,
    )
    return _Collection(entry.number, entry.name, {**entry.indexed, path: name})


def _drop(connection: sqlite3.Connection, entry: _Collection) -> None:
    connection.execute(
        "DELETE FROM catalog_indexes WHERE collection_id = ?", (entry.number,)
    )
    connection.execute("DELETE FROM catalog_collections WHERE id = ?", (entry.number,))
    connection.execute(f"DROP TABLE {entry.table}")


def _by_name(entry: _Collection) -> str:
    return entry.name


def _array_probe(
    connection: sqlite3.Connection, entry: _Collection
) -> Callable[[Path], bool]:
    """Tell, with one index lookup, whether any document has an array at a path."""

    def has_arrays(path: Path) -> bool:
        row = connection.execute(
            f"SELECT 1 FROM {entry.table} WHERE {rank_of(path)} = 4 LIMIT 1"
        ).fetchone()
        return row is not None

    return has_arrays


# Row helpers


def _insert(
    connection: sqlite3.Connection,
    entry: _Collection,
    row: tuple[DocumentId, bytes, str],
) -> None:
    connection.execute(
        f"INSERT INTO {entry.table} (id, body, version) VALUES (?, CAST(? AS TEXT), ?)",
        row,
    )


def _insert_batch(
    connection: sqlite3.Connection,
    entry: _Collection,
    rows: Sequence[tuple[DocumentId, bytes, str]],
    first_index: int,
) -> int:
    """Insert rows with one statement; name the first duplicate by its index."""
    if not rows:
        return 0
    changes_before = connection.total_changes
    try:
        connection.executemany(
            f"INSERT INTO {entry.table} (id, body, version) "
            "VALUES (?, CAST(? AS TEXT), ?)",
            rows,
        )
    except sqlite3.IntegrityError:
        failed = connection.total_changes - changes_before
        document_id = rows[failed][0] if failed < len(rows) else rows[-1][0]
        raise _duplicate(entry.name, document_id, first_index + failed) from None
    return len(rows)


def _update(
    connection: sqlite3.Connection,
    entry: _Collection,
    rowid: int,
    stored: StoredDocument,
) -> None:
    connection.execute(
        f"UPDATE {entry.table} SET body = CAST(? AS TEXT), version = ? WHERE rowid = ?",
        (stored.body, stored.version, rowid),
    )


def _select_key(
    connection: sqlite3.Connection, entry: _Collection, document_id: str
) -> tuple[int, DocumentId, str] | None:
    """The rowid, id and version of the document a URL id names."""
    row: tuple[int, DocumentId, str] | None = connection.execute(
        f"SELECT rowid, id, version FROM {entry.table} WHERE CAST(id AS TEXT) = ?",
        (document_id,),
    ).fetchone()
    return row


def _find_in(
    connection: sqlite3.Connection, entry: _Collection, query: Query
) -> tuple[list[StoredDocument], int]:
    """A page and the total, choosing between the filter's and the sort's index.

    SQLite cannot tell how many documents a range filter keeps, and prefers
    its index even when sorting most of the collection costs more than
    walking the sort key's index until the page is full. Counting first gives
    the real number, which the total needs anyway.
    """
    translation = translate_query(query, entry.indexed, _array_probe(connection, entry))
    sort_index = _competing_sort_index(entry, query)
    if sort_index is None:
        page = _select_page(connection, entry, translation, query)
        return page, _page_total(connection, entry, translation, query, page)

    total = _count_rows(connection, entry, translation)
    if not _is_sort_walk_cheaper(connection, entry, query, total):
        sort_index = None
    return _select_page(connection, entry, translation, query, sort_index), total


def _competing_sort_index(entry: _Collection, query: Query) -> str | None:
    """The index of the first sort key, when the filter may use another index."""
    if not query.sort or query.filter is None:
        return None
    sort_path = query.sort[0].path
    if sort_path not in entry.indexed:
        return None
    others = filter_paths(query.filter) & entry.indexed.keys() - {sort_path}
    return entry.indexed[sort_path] if others else None


def _is_sort_walk_cheaper(
    connection: sqlite3.Connection, entry: _Collection, query: Query, total: int
) -> bool:
    """Whether walking the sort index reads fewer rows than sorting the matches.

    With ``total`` matches spread over the collection, a walk reads about
    (offset + limit) * rows / total rows before the page is full.
    """
    if total == 0:
        return False
    row = connection.execute(f"SELECT max(rowid) FROM {entry.table}").fetchone()
    rows = int(row[0] or 0)
    return (query.offset + query.limit) * rows < total * total


def _select_page(
    connection: sqlite3.Connection,
    entry: _Collection,
    translation: Translation,
    query: Query,
    index: str | None = None,
) -> list[StoredDocument]:
    """One page of documents; ``index`` forces the walk of one index.

    A sorted page is chosen by rowid first and read afterwards, so that a sort
    SQLite has to do itself holds keys and rowids, never whole documents.
    """
    params = dict(translation.params, limit=query.limit, offset=query.offset)
    source = entry.table if index is None else f"{entry.table} INDEXED BY {index}"
    columns = "rowid" if query.sort else "id, version, CAST(body AS BLOB)"
    rows = connection.execute(
        f"SELECT {columns} FROM {source} "
        f"{_where(translation)} ORDER BY {translation.order_by} "
        "LIMIT :limit OFFSET :offset",
        params,
    ).fetchall()
    if query.sort:
        rows = _rows_by_rowid(connection, entry, [row[0] for row in rows])
    return [StoredDocument(row[0], row[1], row[2]) for row in rows]


def _rows_by_rowid(
    connection: sqlite3.Connection, entry: _Collection, rowids: list[int]
) -> list[tuple[DocumentId, str, bytes]]:
    """The id, version and body of each rowid, in the order given."""
    rows = connection.execute(
        f"SELECT rowid, id, version, CAST(body AS BLOB) FROM {entry.table} "
        "WHERE rowid IN (SELECT value FROM json_each(?))",
        (orjson.dumps(rowids).decode(),),
    ).fetchall()
    by_rowid = {row[0]: row[1:] for row in rows}
    return [by_rowid[rowid] for rowid in rowids]


def _page_total(
    connection: sqlite3.Connection,
    entry: _Collection,
    translation: Translation,
    query: Query,
    page: list[StoredDocument],
) -> int:
    """The total, counted only when the page alone cannot tell it."""
    is_last_page = len(page) < query.limit and (page or query.offset == 0)
    if is_last_page:
        return query.offset + len(page)
    return _count_rows(connection, entry, translation)


def _count_rows(
    connection: sqlite3.Connection,
    entry: _Collection,
    translation: Translation | None = None,
) -> int:
    where = "" if translation is None else _where(translation)
    params = {} if translation is None else translation.params
    row = connection.execute(
        f"SELECT count(*) FROM {entry.table} {where}", params
    ).fetchone()
    return int(row[0])


def _where(translation: Translation) -> str:
    """The WHERE clause, left out when it is always true: SQLite counts a
    whole table from its b-tree pages only when there is none."""
    return "" if translation.where == "1" else f"WHERE {translation.where}"


def _projected(document: StoredDocument, fields: tuple[Path, ...]) -> StoredDocument:
    body = orjson.dumps(project(document.document, fields))
    return StoredDocument(document.id, document.version, body)


# Documents and ids


def _check_collection_name(name: str) -> None:
    if not isinstance(name, str) or not COLLECTION_NAME.fullmatch(name):
        raise InvalidRequest(
            f"The collection name {name!r} is invalid: use a letter, digit or "
            "underscore, then up to 63 letters, digits, '_', '.' or '-'."
        )


def _new_version() -> str:
    return secrets.token_hex(8)


def _check_id(document_id: Any) -> DocumentId:
    """Accept an int within 64 bits or a non-empty str without '/'."""
    if isinstance(document_id, int) and not isinstance(document_id, bool):
        if _INT64_MIN <= document_id <= _INT64_MAX:
            return document_id
        raise InvalidDocument(
            f"The id {document_id} is outside the signed 64-bit range; "
            "use a smaller integer or a string."
        )
    if isinstance(document_id, str):
        if document_id and "/" not in document_id:
            return document_id
        raise InvalidDocument(
            f"The id {document_id!r} is not usable: a string id must be "
            "non-empty and must not contain '/'."
        )
    raise InvalidDocument(
        f"The id {document_id!r} has the wrong type: use an integer or a string."
    )


def _encode(document: Document) -> bytes:
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError as exc:
        raise InvalidDocument(
            f"The document cannot be stored as JSON ({exc}); use string keys "
            "and integers within 64 bits."
        ) from None


def _prepare(document: Document) -> tuple[DocumentId, bytes]:
    """Check a new document's id (or generate one) and encode the document."""
    if not isinstance(document, dict):
        raise InvalidDocument("A document must be a JSON object.")
    if "id" in document:
        return _check_id(document["id"]), _encode(document)
    document_id = str(ObjectId())
    return document_id, _encode({"id": document_id, **document})


def _prepared_row(index: int, document: Document) -> tuple[DocumentId, bytes, str]:
    """A row to insert for the element at ``index``; errors name the index."""
    try:
        document_id, body = _prepare(document)
    except InvalidDocument as exc:
        raise InvalidDocument(
            f"Document {index}: {exc.detail}",
            errors=[ErrorDetail(f"/{index}/id", exc.detail)],
        ) from None
    return document_id, body, _new_version()


def _id_text(document_id: DocumentId) -> str:
    return str(document_id)


def _replacement_id(document_id: str, document: Document) -> DocumentId:
    """The id a replacement carries; it must spell the id of the URL."""
    if not isinstance(document, dict):
        raise InvalidDocument("A document must be a JSON object.")
    new_id = _check_id(document.get("id", document_id))
    if _id_text(new_id) != document_id:
        raise InvalidDocument(
            f"The document's id {new_id!r} differs from the id {document_id!r} "
            "it replaces; send the same id or leave it out."
        )
    return new_id


def _stored(document_id: DocumentId, document: Document) -> StoredDocument:
    """The document as it will be stored, carrying exactly this id (and type)."""
    current = document.get("id")
    if type(current) is not type(document_id) or current != document_id:
        document = {**document, "id": document_id}
    return StoredDocument(document_id, _new_version(), _encode(document))


def _check_version(
    collection: str, document_id: str, current: str, expected: str | None
) -> None:
    if expected is not None and expected not in ("*", current):
        raise VersionMismatch(
            f"The document {document_id!r} of collection {collection!r} has "
            "changed since the version you sent; read it again and retry."
        )


def _duplicate(
    collection: str, document_id: DocumentId, index: int | None = None
) -> DuplicateDocument:
    shown = orjson.dumps(document_id).decode()
    message = (
        f"A document with id {shown} already exists in collection "
        f"{collection!r}; choose another id or replace that document."
    )
    if index is None:
        return DuplicateDocument(message)
    return DuplicateDocument(
        f"Document {index}: {message}",
        errors=[ErrorDetail(f"/{index}/id", message)],
        extra={"index": index, "id": document_id},
    )


def _not_found(collection: str, document_id: str) -> DocumentNotFound:
    return DocumentNotFound(
        f"There is no document with id {document_id!r} in collection {collection!r}."
    )


def _raise_if_busy(exc: sqlite3.OperationalError) -> None:
    """A database still locked after the busy timeout is a temporary condition."""
    if "locked" in str(exc) or "busy" in str(exc):
        raise StoreUnavailable(
            f"The SQLite database is busy ({exc}); retry the request shortly."
        ) from exc
