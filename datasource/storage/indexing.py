"""Automatic indexes: counting the queries that filter or sort on a field.

Every store indexes a field path once enough queries have used it. The
counting is the same for all of them and lives here; creating the index is
each store's own business.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

from datasource.query import Path

__all__ = ["QueryCounter"]


class QueryCounter:
    """Counts queries per collection and field path, across threads.

    A path becomes due exactly once: on the query that brings its count to
    ``threshold``. A threshold of zero or less turns counting off.
    """

    def __init__(self, threshold: int) -> None:
        self._threshold = threshold
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, Path]] = Counter()

    @property
    def is_enabled(self) -> bool:
        return self._threshold > 0

    def count(self, collection: str, paths: Iterable[Path]) -> list[Path]:
        """Count one query on each path; return those that just became due."""
        if not self.is_enabled:
            return []
        due = []
        with self._lock:
            for path in paths:
                self._counts[(collection, path)] += 1
                if self._counts[(collection, path)] == self._threshold:
                    due.append(path)
        return due

    def forget(self, collection: str) -> None:
        """Drop the counts of a collection that is gone."""
        with self._lock:
            for key in [key for key in self._counts if key[0] == collection]:
                del self._counts[key]

    def clear(self) -> None:
        """Drop every count."""
        with self._lock:
            self._counts.clear()
