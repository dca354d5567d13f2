"""Benchmark data: books replicated to any size, as a mongoexport-style file.

Every replica gets a fresh ObjectId-style id built from its index, so a load
script can pick a random existing id without a list of them: the id of
replica ``i`` is ``ID_PREFIX`` followed by ``i`` as 8 hex digits.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

BOOKS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "books.json"
ID_PREFIX = "65a1b2c3d4e5f6a7"


def document_id(index: int) -> str:
    """The id of replica ``index``: 24 hex digits, like a MongoDB ObjectId."""
    return f"{ID_PREFIX}{index:08x}"


def read_books(path: Path = BOOKS) -> list[dict[str, Any]]:
    """The source books, one Extended JSON object per line, as parsed dicts."""
    with path.open("rb") as file:
        return [orjson.loads(line) for line in file if line.strip()]


def replicate(books: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """``count`` documents cycling through ``books``, with small variations.

    Titles carry the replica round, page counts move by up to 10 %, and ISBNs
    differ, so that sorting and filtering see realistic, mostly distinct values.
    """
    rng = random.Random(6)
    for index in range(count):
        book = dict(books[index % len(books)])
        round_number = index // len(books)
        book["_id"] = {"$oid": document_id(index)}
        if round_number:
            book["title"] = f"{book['title']} (copy {round_number})"
        pages = book.get("pageCount")
        if isinstance(pages, int) and pages > 0:
            book["pageCount"] = max(1, pages + rng.randint(-pages // 10, pages // 10))
        if isinstance(book.get("isbn"), str):
            book["isbn"] = f"{rng.randrange(10**12, 10**13)}"
        yield book


def write_documents(path: Path, count: int) -> int:
    """Write ``count`` replicated books as JSON lines; return the file size."""
    books = read_books()
    with path.open("wb") as file:
        for book in replicate(books, count):
            file.write(orjson.dumps(book) + b"\n")
    return path.stat().st_size


def plain_documents(path: Path) -> Iterator[dict[str, Any]]:
    """The generated documents with ``_id`` unwrapped into a plain ``id``.

    Other Extended JSON values (dates) stay as they are: the peers that read
    this stream store documents without looking inside them.
    """
    with path.open("rb") as file:
        for line in file:
            document = orjson.loads(line)
            document["id"] = document.pop("_id")["$oid"]
            yield document


def build_ceiling_database(source: Path, database: Path) -> None:
    """Load the generated documents into the ceiling app's one-table database."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            "CREATE TABLE documents (id TEXT PRIMARY KEY, body TEXT NOT NULL)"
        )
        rows = (
            (document["id"], orjson.dumps(document).decode())
            for document in plain_documents(source)
        )
        with connection:
            connection.executemany("INSERT INTO documents VALUES (?, ?)", rows)
    finally:
        connection.close()


def write_json_server_database(source: Path, database: Path) -> None:
    """Write json-server's database file: ``{"books": [documents...]}``."""
    with database.open("wb") as file:
        file.write(b'{"books": [')
        for index, document in enumerate(plain_documents(source)):
            file.write((b",\n" if index else b"\n") + orjson.dumps(document))
        file.write(b"\n]}\n")
