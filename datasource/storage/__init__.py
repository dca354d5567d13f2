"""Stores: where an environment's collections live, chosen by its URL."""

from __future__ import annotations

from datasource.config import Config
from datasource.errors import ConfigurationError
from datasource.storage.base import (
    CollectionInfo,
    Document,
    DocumentId,
    FindResult,
    ReplaceResult,
    Store,
    StoredDocument,
)

__all__ = [
    "CollectionInfo",
    "Document",
    "DocumentId",
    "FindResult",
    "ReplaceResult",
    "Store",
    "StoredDocument",
    "open_store",
]


def open_store(url: str, config: Config, environment: str) -> Store:
    """Open the store an environment's URL names (``sqlite:///`` or ``mongodb``).

    :raises ConfigurationError: for a URL of any other scheme.
    """
    if url.startswith("sqlite:///"):
        from datasource.storage.sqlite import SQLiteStore

        return SQLiteStore(
            url.removeprefix("sqlite:///"),
            synchronous=config.sqlite_synchronous,
            indexes=_configured_indexes(config),
            auto_index_after=config.auto_index_after,
        )
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from datasource.storage.mongo import MongoStore

        return MongoStore(
            url,
            environment=environment,
            database=config.mongodb_database or None,
            timeout_ms=config.mongodb_timeout_ms,
            indexes=_configured_indexes(config),
            auto_index_after=config.auto_index_after,
        )
    raise ConfigurationError(
        f"The store URL of environment {environment!r} must start with sqlite:///, "
        "mongodb:// or mongodb+srv://."
    )


def _configured_indexes(config: Config) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Map collection name to the field paths configured for indexing."""
    indexes: dict[str, list[tuple[str, ...]]] = {}
    for entry in config.indexes:
        collection, _, field = entry.partition(".")
        if collection and field:
            indexes.setdefault(collection, []).append(tuple(field.split(".")))
    return {name: tuple(paths) for name, paths in indexes.items()}
