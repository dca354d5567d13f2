"""Latency of representative list queries on the SQLite store, without and
with indexes.

Generates books-like documents (replicas of ``../shared/data/books.json`` with
fresh ids and small variations), imports them into a temporary SQLiteStore
and prints the p50 and p95 latency of each query, first with no index and
then with indexes on the fields the queries filter and sort on. It prints
numbers; it asserts nothing.

Run: ``python bench/query_bench.py [--documents N] [--repeat R]``
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from datasource.query import (  # noqa: E402
    Comparison,
    Or,
    Query,
    Search,
    SortKey,
)
from datasource.storage.sqlite import SQLiteStore  # noqa: E402

BOOKS = Path(__file__).resolve().parents[2] / "shared" / "data" / "books.json"
INDEXED_FIELDS = ("pageCount", "title", "authors", "status")
STATUSES = ("PUBLISH", "MEAP")


def _plain(value: Any) -> Any:
    """Unwrap the two Extended JSON wrappers books.json uses."""
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            moment = datetime.strptime(value["$date"], "%Y-%m-%dT%H:%M:%S.%f%z")
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if set(value) == {"$oid"}:
            return value["$oid"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def read_books(path: Path) -> list[dict[str, Any]]:
    """The records of a mongoexport file, one JSON object per line."""
    books = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = _plain(orjson.loads(line))
            record.pop("_id", None)
            books.append(record)
    return books


def replicas(books: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """``count`` variations of the books, with ids 1..count."""
    generator = random.Random(20240601)
    for number in range(count):
        book = dict(books[number % len(books)])
        book["id"] = number + 1
        book["title"] = f"{book.get('title', '')} #{number // len(books)}"
        book["pageCount"] = max(
            0, int(book.get("pageCount", 0)) + generator.randint(-50, 50)
        )
        book["status"] = generator.choice(STATUSES)
        yield book


def representative_queries(author: str) -> dict[str, Query]:
    """The list queries measured, named as their query strings would read."""
    page_count = ("pageCount",)
    return {
        f"authors={author}": Query(Comparison(("authors",), "eq", author)),
        "pageCount[gt]=500&sort=-pageCount&limit=5": Query(
            Comparison(page_count, "gt", 500),
            sort=(SortKey(page_count, descending=True),),
            limit=5,
        ),
        'where={"$or":[{"status":"MEAP"},{"pageCount":{"$lt":100}}]}': Query(
            Or(
                (
                    Comparison(("status",), "eq", "MEAP"),
                    Comparison(page_count, "lt", 100),
                )
            )
        ),
        "q=android": Query(Search("android")),
        "sort=title&limit=20&offset=5000": Query(
            sort=(SortKey(("title",)),), limit=20, offset=5000
        ),
        "pageCount[gt]=300&sort=title&limit=20": Query(
            Comparison(page_count, "gt", 300), sort=(SortKey(("title",)),), limit=20
        ),
    }


def measure(store: SQLiteStore, query: Query, repeat: int) -> tuple[float, float, int]:
    """p50 and p95 latency in ms over ``repeat`` runs, and the total found."""
    timings = []
    total = 0
    for _ in range(repeat):
        started = time.perf_counter()
        total = store.find("books", query).total
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), p95, total


def print_table(title: str, rows: list[tuple[str, float, float, int]]) -> None:
    print(f"\n{title}")
    print(f"{'query':<62} {'p50 ms':>9} {'p95 ms':>9} {'total':>8}")
    for name, p50, p95, total in rows:
        print(f"{name:<62} {p50:>9.2f} {p95:>9.2f} {total:>8}")


def measure_all(
    store: SQLiteStore, queries: dict[str, Query], repeat: int
) -> list[tuple[str, float, float, int]]:
    return [(name, *measure(store, query, repeat)) for name, query in queries.items()]


def run(documents: int, repeat: int, books_path: Path) -> None:
    """Import, measure without indexes, index, measure again."""
    books = read_books(books_path)
    queries = representative_queries("Vikram Goyal")
    print(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(str(Path(directory) / "bench.sqlite3"), auto_index_after=0)
        started = time.perf_counter()
        count = store.import_documents("books", replicas(books, documents))
        seconds = time.perf_counter() - started
        print(
            f"imported {count} documents in {seconds:.2f} s ({count / seconds:,.0f}/s)"
        )

        print_table("without indexes", measure_all(store, queries, repeat))

        started = time.perf_counter()
        for field in INDEXED_FIELDS:
            store.ensure_index("books", (field,))
        seconds = time.perf_counter() - started
        print(f"\nindexed {', '.join(INDEXED_FIELDS)} in {seconds:.2f} s")

        print_table("with indexes", measure_all(store, queries, repeat))
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--books", type=Path, default=BOOKS)
    arguments = parser.parse_args()
    run(arguments.documents, arguments.repeat, arguments.books)


if __name__ == "__main__":
    main()
