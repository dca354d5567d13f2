"""Totals of matches remembered by one SQLite connection.

Counting every match of a list query reads a whole index range (about 10 ms
for 50,000 matches), while the page beside it reads twenty rows; the same
query asked again usually finds the database unchanged. Each connection (one
per thread) keeps the totals it counted, keyed by table, WHERE clause and
bound values, and drops them all as soon as the database may have changed:

- ``PRAGMA data_version`` moves when another connection, in this process or
  any other, has committed since this connection's previous read;
- the connection's ``total_changes`` moves with its own writes.

The stamp is read before the count it guards, inside the caller's read
transaction, so a total is never kept under a stamp newer than its data.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

__all__ = ["TotalCache", "total_key"]

TotalKey = tuple[Hashable, ...]


def total_key(table: str, where: str, params: Mapping[str, Any]) -> TotalKey:
    """The key of one count: floats by their exact bits, every value by its type.

    ``1``, ``1.0`` and ``True`` are equal in Python but not always in SQL
    (``CAST(1.0 AS TEXT)`` is ``'1.0'``), nor are ``0.0`` and ``-0.0``.
    """
    bound = tuple(
        (name, type(value), value.hex() if isinstance(value, float) else value)
        for name, value in params.items()
    )
    return (table, where, bound)


class TotalCache:
    """Totals counted on one connection, valid while the database is unchanged.

    Use it from one connection only, in read transactions: a count made
    inside a write transaction that is then rolled back would outlive it
    (the store clears the cache on every rollback for that reason).
    """

    __slots__ = ("_size", "_stamp", "_totals")

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._stamp: tuple[int, int] | None = None
        self._totals: OrderedDict[TotalKey, int] = OrderedDict()

    def get(self, connection: sqlite3.Connection, key: TotalKey) -> int | None:
        """The remembered total, or None; first forget all if the data moved."""
        data_version = connection.execute("PRAGMA data_version").fetchone()[0]
        stamp = (int(data_version), connection.total_changes)
        if stamp != self._stamp:
            self._totals.clear()
            self._stamp = stamp
            return None
        total = self._totals.get(key)
        if total is not None:
            self._totals.move_to_end(key)
        return total

    def put(self, key: TotalKey, total: int) -> None:
        """Remember a total counted after the ``get`` that missed it."""
        self._totals[key] = total
        self._totals.move_to_end(key)
        if len(self._totals) > self._size:
            self._totals.popitem(last=False)

    def clear(self) -> None:
        self._totals.clear()
        self._stamp = None
