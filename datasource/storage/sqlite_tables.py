"""The tables of the SQLite store and the statements run on them.

A catalog maps each collection name to a generated table ``c_<n>`` and lists
the field paths indexed in it, so no user text ever becomes an identifier and
indexes survive restarts. Each indexed path has:

- an expression index ``c_<n>_x<i>`` over (rank, value, id) of the field,
  which serves equality and range filters and sorting (see ``sqlite_query``);
- its rows ``x = i`` in the element table ``c_<n>_e`` (rank, value, doc):
  one per element of an array value, kept by triggers on every write, so that
  "any element equals" is an index lookup rather than a walk of each array.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from datasource.query import And, Comparison, Filter, Not, Or, Path, Query, filter_paths
from datasource.storage.base import DocumentId, StoredDocument
from datasource.storage.sqlite_counts import TotalCache, total_key
from datasource.storage.sqlite_documents import Row, duplicate_error
from datasource.storage.sqlite_query import (
    ELEMENT_RANK,
    FieldIndex,
    Translation,
    index_columns,
    json_path,
    rank_of,
    translate_query,
)

__all__ = [
    "CATALOG_SCHEMA",
    "CollectionTable",
    "Row",
    "array_probe",
    "count_rows",
    "create_collection_table",
    "create_index",
    "drop_tables",
    "find_page",
    "insert_batch",
    "insert_row",
    "read_catalog",
    "select_key",
    "update_row",
]

logger = logging.getLogger(__name__)

CATALOG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS catalog_collections ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS catalog_indexes ("
    "id INTEGER PRIMARY KEY AUTOINCREMENT, collection_id INTEGER NOT NULL, "
    "path TEXT NOT NULL, UNIQUE (collection_id, path))",
)


@dataclass(frozen=True)
class CollectionTable:
    """A catalog entry: the collection's table number and its indexes by path."""

    number: int
    name: str
    indexed: dict[Path, FieldIndex]

    @property
    def table(self) -> str:
        return f"c_{self.number}"

    @property
    def elements(self) -> str:
        return f"c_{self.number}_e"

    def field_index(self, number: int) -> FieldIndex:
        return FieldIndex(f"{self.table}_x{number}", number, self.elements)


# The catalog and the schema


def read_catalog(connection: sqlite3.Connection) -> dict[str, CollectionTable]:
    """Every collection of the database with its indexed paths."""
    rows = connection.execute(
        "SELECT c.id, c.name, i.id, i.path FROM catalog_collections AS c "
        "LEFT JOIN catalog_indexes AS i ON i.collection_id = c.id"
    ).fetchall()
    catalog: dict[str, CollectionTable] = {}
    for number, name, index_number, path in rows:
        entry = catalog.setdefault(name, CollectionTable(number, name, {}))
        if path is not None:
            entry.indexed[tuple(orjson.loads(path))] = entry.field_index(index_number)
    return catalog


def create_collection_table(
    connection: sqlite3.Connection, name: str
) -> CollectionTable:
    """Add a collection: its catalog row, its table and its key index.

    The key index on ``CAST(id AS TEXT)`` finds a document by the text of its
    URL segment and, being unique, keeps 1 and "1" out of one collection.
    """
    cursor = connection.execute(
        "INSERT INTO catalog_collections (name) VALUES (?)", (name,)
    )
    entry = CollectionTable(int(cursor.lastrowid or 0), name, {})
    connection.execute(
        f"CREATE TABLE {entry.table} "
        "(id UNIQUE, body TEXT NOT NULL, version TEXT NOT NULL)"
    )
    connection.execute(
        f"CREATE UNIQUE INDEX {entry.table}_key ON {entry.table} (CAST(id AS TEXT))"
    )
    logger.info("created collection %s as table %s", name, entry.table)
    return entry


def create_index(
    connection: sqlite3.Connection, entry: CollectionTable, path: Path
) -> CollectionTable:
    """Record and build the indexes of one field inside the caller's transaction."""
    cursor = connection.execute(
        "INSERT INTO catalog_indexes (collection_id, path) VALUES (?, ?)",
        (entry.number, orjson.dumps(list(path)).decode()),
    )
    index = entry.field_index(int(cursor.lastrowid or 0))
    started = time.perf_counter()
    connection.execute(
        f"CREATE INDEX {index.name} ON {entry.table} ({index_columns(path)})"
    )
    _create_element_table(connection, entry)
    for statement in _element_statements(entry, index, path):
        connection.execute(statement)
    logger.info(
        "indexed %s of collection %s as %s in %.0f ms",
        ".".join(path),
        entry.name,
        index.name,
        (time.perf_counter() - started) * 1000,
    )
    return CollectionTable(entry.number, entry.name, {**entry.indexed, path: index})


def _create_element_table(
    connection: sqlite3.Connection, entry: CollectionTable
) -> None:
    """The element table of a collection, emptied of a row's elements on delete."""
    table, elements = entry.table, entry.elements
    for statement in (
        f"CREATE TABLE IF NOT EXISTS {elements} "
        "(x INTEGER NOT NULL, rank INTEGER NOT NULL, value, doc INTEGER NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {elements}_value ON {elements} (x, rank, value)",
        f"CREATE INDEX IF NOT EXISTS {elements}_doc ON {elements} (doc)",
        f"CREATE TRIGGER IF NOT EXISTS {elements}_delete AFTER DELETE ON {table} "
        f"BEGIN DELETE FROM {elements} WHERE doc = old.rowid; END",
    ):
        connection.execute(statement)


def _element_statements(
    entry: CollectionTable, index: FieldIndex, path: Path
) -> list[str]:
    """Fill one path's element rows and keep them current on insert and update."""
    path_sql = "'" + json_path(path).replace("'", "''") + "'"
    elements, number = entry.elements, index.number

    def select_elements(source: str, rowid: str) -> str:
        return (
            f"SELECT {number}, {ELEMENT_RANK}, value, {rowid} "
            f"FROM json_each({source}, {path_sql}) "
            f"WHERE json_type({source}, {path_sql}) = 'array'"
        )

    insert = f"INSERT INTO {elements} (x, rank, value, doc) "
    fill = select_elements("t.body", "t.rowid").replace(
        "FROM json_each(", f"FROM {entry.table} AS t, json_each(", 1
    )
    return [
        insert + fill,
        f"CREATE TRIGGER {index.name}_insert AFTER INSERT ON {entry.table} "
        f"BEGIN {insert}{select_elements('new.body', 'new.rowid')}; END",
        f"CREATE TRIGGER {index.name}_update AFTER UPDATE OF body ON {entry.table} "
        f"BEGIN DELETE FROM {elements} WHERE doc = old.rowid AND x = {number}; "
        f"{insert}{select_elements('new.body', 'new.rowid')}; END",
    ]


def drop_tables(connection: sqlite3.Connection, entry: CollectionTable) -> None:
    """Remove a collection's catalog rows and tables (triggers and indexes go too)."""
    connection.execute(
        "DELETE FROM catalog_indexes WHERE collection_id = ?", (entry.number,)
    )
    connection.execute("DELETE FROM catalog_collections WHERE id = ?", (entry.number,))
    connection.execute(f"DROP TABLE IF EXISTS {entry.elements}")
    connection.execute(f"DROP TABLE {entry.table}")


def array_probe(
    connection: sqlite3.Connection, entry: CollectionTable
) -> Callable[[Path], bool]:
    """Tell, with one index lookup, whether any document has an array at a path."""

    def has_arrays(path: Path) -> bool:
        row = connection.execute(
            f"SELECT 1 FROM {entry.table} WHERE {rank_of(path)} = 4 LIMIT 1"
        ).fetchone()
        return row is not None

    return has_arrays


# Statements on documents


def insert_row(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    row: Row,
) -> None:
    connection.execute(
        f"INSERT INTO {entry.table} (id, body, version) VALUES (?, CAST(? AS TEXT), ?)",
        row,
    )


def insert_batch(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    rows: Sequence[Row],
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
        raise duplicate_error(entry.name, document_id, first_index + failed) from None
    return len(rows)


def update_row(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    rowid: int,
    stored: StoredDocument,
) -> None:
    connection.execute(
        f"UPDATE {entry.table} SET body = CAST(? AS TEXT), version = ? WHERE rowid = ?",
        (stored.body, stored.version, rowid),
    )


def update_row_if_current(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    rowid: int,
    version: str,
    stored: StoredDocument,
) -> bool:
    """Update a row only while it still has ``version``; True when it did.

    Versions are never reused, so a row with the version read earlier is the
    document read earlier, unchanged since.
    """
    cursor = connection.execute(
        f"UPDATE {entry.table} SET body = CAST(? AS TEXT), version = ? "
        "WHERE rowid = ? AND version = ?",
        (stored.body, stored.version, rowid, version),
    )
    return cursor.rowcount == 1


def select_key(
    connection: sqlite3.Connection, entry: CollectionTable, document_id: str
) -> tuple[int, DocumentId, str] | None:
    """The rowid, id and version of the document a URL id names."""
    row: tuple[int, DocumentId, str] | None = connection.execute(
        f"SELECT rowid, id, version FROM {entry.table} WHERE CAST(id AS TEXT) = ?",
        (document_id,),
    ).fetchone()
    return row


def select_current(
    connection: sqlite3.Connection, entry: CollectionTable, document_id: str
) -> tuple[int, DocumentId, str, bytes] | None:
    """The rowid, id, version and body of the document a URL id names."""
    row: tuple[int, DocumentId, str, bytes] | None = connection.execute(
        f"SELECT rowid, id, version, CAST(body AS BLOB) FROM {entry.table} "
        "WHERE CAST(id AS TEXT) = ?",
        (document_id,),
    ).fetchone()
    return row


def find_page(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    query: Query,
    totals: TotalCache | None = None,
) -> tuple[list[StoredDocument], int]:
    """A page and the total, read in the cheapest of three ways.

    - A filter some test of which no index answers reads every row anyway:
      one pass yields the page and the total.
    - When the filter's index competes with the index giving the order,
      SQLite cannot tell how many documents the filter keeps and prefers the
      filter's index even when sorting most of the collection costs more than
      walking the order's index until the page is full; counting first (the
      total needs it anyway) decides.
    - Otherwise the page alone, and a count only when the page is full.

    Counts go through ``totals`` when given, so that a query asked again of
    an unchanged database is not counted again on that connection.
    """
    translation = translate_query(query, entry.indexed, array_probe(connection, entry))
    if query.filter is not None and not _is_indexed(query.filter, entry.indexed):
        return _select_counted_page(connection, entry, translation, query, totals)

    sort_index = _competing_sort_index(entry, query)
    if sort_index is None:
        page = _select_page(connection, entry, translation, query)
        total = _page_total(connection, entry, translation, query, page, totals)
        return page, total

    total = count_rows(connection, entry, translation, totals)
    if not _is_sort_walk_cheaper(connection, entry, query, total):
        sort_index = None
    return _select_page(connection, entry, translation, query, sort_index), total


def _is_indexed(node: Filter, indexed: Mapping[Path, FieldIndex]) -> bool:
    """Whether indexes can answer every test of a filter (search never is)."""
    if isinstance(node, Comparison):
        return node.path in indexed
    if isinstance(node, Not):
        return _is_indexed(node.clause, indexed)
    if isinstance(node, And | Or):
        return all(_is_indexed(clause, indexed) for clause in node.clauses)
    return False


def _select_counted_page(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    translation: Translation,
    query: Query,
    totals: TotalCache | None,
) -> tuple[list[StoredDocument], int]:
    """A page and the total from one pass, for a filter that reads every row.

    Counting separately would read the whole collection a second time.
    """
    params = dict(translation.params, limit=query.limit, offset=query.offset)
    rows = connection.execute(
        f"SELECT rowid, count(*) OVER () FROM {entry.table} {_where(translation)} "
        f"ORDER BY {translation.order_by} LIMIT :limit OFFSET :offset",
        params,
    ).fetchall()
    if not rows:
        is_empty = query.offset == 0 and query.limit > 0
        if is_empty:
            return [], 0
        return [], count_rows(connection, entry, translation, totals)
    found = _rows_by_rowid(connection, entry, [row[0] for row in rows])
    return [StoredDocument(*row) for row in found], int(rows[0][1])


def _competing_sort_index(entry: CollectionTable, query: Query) -> str | None:
    """The index giving the page's order, when the filter may use another index.

    Without sort keys the order is the id's, kept by the id column's own
    unique index.
    """
    if query.filter is None:
        return None
    filtered = filter_paths(query.filter) & entry.indexed.keys()
    if not query.sort:
        return f"sqlite_autoindex_{entry.table}_1" if filtered else None
    sort_path = query.sort[0].path
    if sort_path not in entry.indexed or not filtered - {sort_path}:
        return None
    return entry.indexed[sort_path].name


def _is_sort_walk_cheaper(
    connection: sqlite3.Connection, entry: CollectionTable, query: Query, total: int
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
    entry: CollectionTable,
    translation: Translation,
    query: Query,
    index: str | None = None,
) -> list[StoredDocument]:
    """One page of documents; ``index`` forces the walk of one index.

    A filtered or sorted page is chosen by rowid first and read afterwards, so
    that a sort SQLite has to do itself (after a sort on a field, or when it
    unites index lookups) holds keys and rowids, never whole documents. A
    walk of the index of the only sort key sorts nothing: it reads the
    documents as it goes.
    """
    params = dict(translation.params, limit=query.limit, offset=query.offset)
    source = entry.table if index is None else f"{entry.table} INDEXED BY {index}"
    is_walk = index is not None and len(query.sort) <= 1
    is_two_step = not is_walk and (bool(query.sort) or query.filter is not None)
    columns = "rowid" if is_two_step else "id, version, CAST(body AS BLOB)"
    rows = connection.execute(
        f"SELECT {columns} FROM {source} "
        f"{_where(translation)} ORDER BY {translation.order_by} "
        "LIMIT :limit OFFSET :offset",
        params,
    ).fetchall()
    if is_two_step:
        rows = _rows_by_rowid(connection, entry, [row[0] for row in rows])
    return [StoredDocument(row[0], row[1], row[2]) for row in rows]


def _rows_by_rowid(
    connection: sqlite3.Connection, entry: CollectionTable, rowids: list[int]
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
    entry: CollectionTable,
    translation: Translation,
    query: Query,
    page: list[StoredDocument],
    totals: TotalCache | None,
) -> int:
    """The total, counted only when the page alone cannot tell it."""
    is_last_page = len(page) < query.limit and (page or query.offset == 0)
    if is_last_page:
        return query.offset + len(page)
    return count_rows(connection, entry, translation, totals)


def count_rows(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    translation: Translation | None = None,
    totals: TotalCache | None = None,
) -> int:
    """The number of rows matching, remembered in ``totals`` when given."""
    where = "" if translation is None else _where(translation)
    params = {} if translation is None else translation.params
    if totals is None:
        return _count(connection, entry, where, params)

    key = total_key(entry.table, where, params)
    total = totals.get(connection, key)
    if total is None:
        total = _count(connection, entry, where, params)
        totals.put(key, total)
    return total


def _count(
    connection: sqlite3.Connection,
    entry: CollectionTable,
    where: str,
    params: Mapping[str, Any],
) -> int:
    row = connection.execute(
        f"SELECT count(*) FROM {entry.table} {where}", params
    ).fetchone()
    return int(row[0])


def _where(translation: Translation) -> str:
    """The WHERE clause, left out when it is always true: SQLite counts a
    whole table from its b-tree pages only when there is none."""
    return "" if translation.where == "1" else f"WHERE {translation.where}"
