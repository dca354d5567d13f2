"""One process's connections to the SQLite database file, and its transactions.

Connections are per thread and per process (gunicorn forks workers), in WAL
mode with explicit transactions: writes take ``BEGIN IMMEDIATE`` so that
conditional checks and the write happen under one lock, and readers see one
snapshot per call. Threads of one process take turns on a write lock of their
own before SQLite's. A write that is one statement can instead run alone, as
its own transaction (``statement``): SQLite then holds its lock only inside
that statement's one step, while Python's global lock is free. The first
connection of a process creates the catalog tables when the database is new.
Each connection keeps the totals of matches it counted, and each process runs
one background checkpoint thread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from datasource.errors import ConfigurationError, StoreUnavailable
from datasource.storage.sqlite_checkpoint import AUTOCHECKPOINT_PAGES, Checkpointer
from datasource.storage.sqlite_counts import TotalCache
from datasource.storage.sqlite_query import register_functions
from datasource.storage.sqlite_tables import CATALOG_SCHEMA

__all__ = ["BUSY_TIMEOUT_SECONDS", "SYNCHRONOUS_MODES", "SQLiteConnections"]

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
BUSY_TIMEOUT_SECONDS = 10.0

# Connections inherited through fork are never used or closed in the child:
# closing one could checkpoint and remove the parent's WAL file. Keeping a
# reference to the parent's ``SQLiteConnections`` stops the garbage collector
# from closing them.
_inherited_connections: list[SQLiteConnections] = []


class SQLiteConnections:
    """The connections one process opens to one database file, one per thread.

    An instance belongs to the process that made it: a forked child checks
    ``is_inherited`` and carries on with ``renewed()`` instead.
    """

    def __init__(self, path: str, synchronous: str) -> None:
        """Check the settings; the first connection opens on first use.

        :raises ConfigurationError: when ``synchronous`` is not a SQLite
            synchronous mode.
        """
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ConfigurationError(
                f"The SQLite synchronous mode {synchronous!r} is unknown; use one "
                f"of {', '.join(SYNCHRONOUS_MODES)}."
            )
        self._path = path
        self._synchronous = synchronous.upper()
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._is_bootstrapped = False
        self._checkpointer: Checkpointer | None = None

    @property
    def is_inherited(self) -> bool:
        """Whether this process is a fork of the one that made these connections."""
        return os.getpid() != self._pid

    def renewed(self) -> SQLiteConnections:
        """New connections for a forked child, leaving the parent's untouched."""
        _inherited_connections.append(self)
        return SQLiteConnections(self._path, self._synchronous)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
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
            connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        except sqlite3.Error as exc:
            raise StoreUnavailable(
                f"The SQLite database {self._path} cannot be opened ({exc}); "
                "check that its directory exists and is writable."
            ) from exc
        register_functions(connection)
        self._local.connection = connection
        self._local.totals = TotalCache()
        with self._lock:
            self._connections.append(connection)
            self._start_checkpointer()
        if not self._is_bootstrapped:
            self._bootstrap(connection)
        return connection

    def _start_checkpointer(self) -> None:
        """Start this process's checkpoint thread, once; it stops with this object."""
        if self._checkpointer is None:
            self._checkpointer = Checkpointer(self._path)
            self._checkpointer.start()
            weakref.finalize(self, self._checkpointer.stop)

    def _bootstrap(self, connection: sqlite3.Connection) -> None:
        """Create the catalog tables when the database is new."""
        row = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('catalog_collections', 'catalog_indexes')"
        ).fetchone()
        if row[0] < len(CATALOG_SCHEMA):
            with self._transaction(connection, "BEGIN IMMEDIATE"):
                for statement in CATALOG_SCHEMA:
                    connection.execute(statement)
        self._is_bootstrapped = True

    def totals(self) -> TotalCache:
        """The totals remembered by this thread's connection."""
        totals: TotalCache = self._local.totals
        return totals

    def read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every statement inside sees one snapshot."""
        return self._transaction(self.connection(), "BEGIN")

    @contextmanager
    def statement(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection for statements that are each a transaction.

        SQLite takes and releases its write lock inside the one call that runs
        such a statement, with Python's global lock released, so no thread of
        this process can keep the lock held by holding the interpreter. That
        makes a one-statement write the shortest a write can hold the lock.

        :raises StoreUnavailable: when the database stays locked for the busy
            timeout.
        """
        connection = self.connection()
        try:
            yield connection
        except sqlite3.OperationalError as exc:
            _raise_if_busy(exc)
            raise

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding the database's write lock from its start.

        Threads of one process take turns on a lock of their own first: one
        waiting there wakes the moment the write before it ends, where
        SQLite's busy handler would poll the database lock with sleeps of up
        to 100 ms. Only writers in other processes meet that handler.

        :raises StoreUnavailable: when the turn does not come within the
            busy timeout.
        """
        connection = self.connection()
        if not self._writing.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise StoreUnavailable(
                "The SQLite database is busy with other writes; retry the "
                "request shortly."
            )
        try:
            with self._transaction(connection, "BEGIN IMMEDIATE"):
                yield connection
        finally:
            self._writing.release()

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
            self._roll_back(connection)
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            self._roll_back(connection)
            _raise_if_busy(exc)
            raise

    def _roll_back(self, connection: sqlite3.Connection) -> None:
        """End a failed transaction, forgetting totals it may have counted.

        A total counted after this connection's own uncommitted write would
        otherwise stay valid: the rollback moves neither stamp of the cache.
        """
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        totals: TotalCache | None = getattr(self._local, "totals", None)
        if totals is not None:  # None once close() has run in another thread
            totals.clear()

    def close(self) -> None:
        """Close the connections this process opened, in every thread."""
        if self.is_inherited:
            return
        with self._lock:
            connections, self._connections = self._connections, []
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        for connection in connections:
            connection.close()
        self._local = threading.local()


def _raise_if_busy(exc: sqlite3.OperationalError) -> None:
    """A database still locked after the busy timeout is a temporary condition."""
    if "locked" in str(exc) or "busy" in str(exc):
        raise StoreUnavailable(
            f"The SQLite database is busy ({exc}); retry the request shortly."
        ) from exc
