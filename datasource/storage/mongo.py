"""The MongoDB store: one database per environment, on pymongo.

Each collection of the API is a MongoDB collection. A stored document is the
API document (field names escaped by ``mongo_names``) plus three fields of the
store's own:

- ``_id``: the id in MongoDB's form. A generated id is a real ``ObjectId``;
  a client's integer or string id is stored as given. The API form of the id
  (an ObjectId as its 24 hex digits) stays in the document's ``id`` field, so
  that filters, sorting and paging see the same ids as on every other store.
- ``_v``: the version token, new on every write. Conditional writes put it in
  the filter of the write itself, so no other write can slip in between.
- ``_t``: the document's strings, lower-cased, for text search.

A URL id finds the document whose ``_id`` is the text, the integer it spells
or the ObjectId it spells; inserts refuse an id whose other forms are taken.
That check and the insert are two requests: two clients creating ``1`` and
``"1"`` at the same instant could both succeed (nothing else can).

``mongo_client`` connects: it keeps one client per process, created on first
use, and turns driver errors into the domain's exceptions.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson
import pymongo
from bson import ObjectId
from bson.errors import InvalidDocument as InvalidBSON
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from datasource.errors import (
    DatasourceError,
    DuplicateDocument,
    ErrorDetail,
    InvalidDocument,
    InvalidQuery,
    StoreUnavailable,
    VersionMismatch,
    WriteConflict,
)
from datasource.query import Filter, Path, Query, filter_paths
from datasource.storage.base import (
    CollectionInfo,
    Document,
    DocumentId,
    FindResult,
    ReplaceResult,
    StoredDocument,
)
from datasource.storage.ids import (
    COLLECTION_NAME,
    check_collection_name,
    new_version,
    not_found_error,
    replacement_id,
    version_mismatch_error,
)
from datasource.storage.indexing import QueryCounter
from datasource.storage.mongo_client import MongoConnection
from datasource.storage.mongo_names import (
    NewDocument,
    decode_collection,
    encode_collection,
    encode_path,
    id_forms,
    id_text,
    other_forms,
    read_document,
    stored_api_id,
)
from datasource.storage.mongo_query import (
    native_sort,
    projection,
    sort_pipeline,
    to_filter,
    unusual_sort_values,
)

__all__ = ["MongoStore"]

logger = logging.getLogger(__name__)

_DUPLICATE_KEY = 11000
# Read-change-write cycles of update_one before it gives up, and the pause
# between them (growing with each attempt, randomised so rivals spread out).
_UPDATE_ATTEMPTS = 8
_RETRY_PAUSE_SECONDS = 0.002


class MongoStore:
    """One environment's collections in one MongoDB database."""

    def __init__(
        self,
        url: str,
        *,
        environment: str,
        database: str | None = None,
        timeout_ms: int = 3000,
        indexes: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType({}),
        auto_index_after: int = 20,
        client: Any = None,
    ) -> None:
        self._connection = MongoConnection(
            url,
            environment=environment,
            database=database,
            timeout_ms=timeout_ms,
            client=client,
            on_fork=self._reset_process_state,
        )
        self._configured = {name: tuple(paths) for name, paths in indexes.items()}
        self._auto_index_after = auto_index_after
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Forget the caches: a new process starts from scratch."""
        self._lock = threading.Lock()
        self._prepared: set[str] = set()
        self._query_counter = QueryCounter(self._auto_index_after)

    @property
    def database_name(self) -> str:
        return self._connection.database_name

    # Collections

    def _collection(self, collection: str) -> Any:
        check_collection_name(collection)
        return self._connection.database()[encode_collection(collection)]

    def _writable(self, collection: str) -> Any:
        """A collection about to be written, with its indexes on first use."""
        target = self._collection(collection)
        if collection not in self._prepared:
            target.create_index([("id", pymongo.ASCENDING)])
            for path in self._configured.get(collection, ()):
                target.create_index(_index_keys(path))
            with self._lock:
                self._prepared.add(collection)
        return target

    # Store protocol: administration

    def ping(self) -> None:
        """Run the ``ping`` command. :raises StoreUnavailable: when it fails."""
        with self._connection.call("ping"):
            self._connection.database().command("ping")

    def list_collections(self) -> list[CollectionInfo]:
        """Every collection holding documents, with its count, by name."""
        with self._connection.call("list_collections"):
            database = self._connection.database()
            listed = []
            for stored_name, name in _api_collections(database):
                count = database[stored_name].count_documents({})
                if count:
                    listed.append(CollectionInfo(name, count))
        return sorted(listed, key=lambda info: info.name)

    def drop_collection(self, collection: str) -> bool:
        """Remove a collection and its indexes; False when it did not exist."""
        check_collection_name(collection)
        stored_name = encode_collection(collection)
        with self._connection.call("drop_collection", collection):
            database = self._connection.database()
            if stored_name not in database.list_collection_names():
                return False
            database.drop_collection(stored_name)
        self._forget(collection)
        return True

    def drop_all(self) -> None:
        """Drop every collection of the environment.

        The database itself stays, so a user with the readWrite role suffices;
        collections whose names the API cannot use (other tools', MongoDB's
        own) stay too.
        """
        with self._connection.call("drop_all"):
            database = self._connection.database()
            for stored_name, _ in _api_collections(database):
                database.drop_collection(stored_name)
        with self._lock:
            self._prepared.clear()
        self._query_counter.clear()

    def close(self) -> None:
        """Close the client this process created (a given client stays open)."""
        self._connection.close()

    # Store protocol: writes

    def insert_one(self, collection: str, document: Document) -> StoredDocument:
        """Create one document, generating an ObjectId when it has no id.

        :raises DuplicateDocument: when the id, or another form of it, is taken.
        """
        new = NewDocument.of(document)
        with self._connection.call("insert_one", collection, new.api_id):
            target = self._writable(collection)
            # A generated ObjectId is new by construction; a client's id is
            # checked in its other forms (1 and "1", ObjectId and hex).
            forms = [] if isinstance(new.key, ObjectId) else other_forms(new.key)
            if forms and target.find_one({"_id": {"$in": forms}}, {"_id": 1}):
                raise _duplicate(collection, new.api_id)
            try:
                _write(target.insert_one, new.stored())
            except DuplicateKeyError:
                raise _duplicate(collection, new.api_id) from None
        return new.result()

    def insert_many(
        self, collection: str, documents: Sequence[Document]
    ) -> list[StoredDocument]:
        """Create all documents or none.

        Ids are checked against each other and the collection first, then the
        documents go in with one ordered ``insert_many``; if a concurrent write
        still takes an id midway, the documents inserted so far are deleted
        again before ``DuplicateDocument`` names the element. Other readers may
        glimpse them in that moment: MongoDB offers no atomic batch without a
        transaction, which would rule out standalone servers.
        """
        batch = [NewDocument.at(index, item) for index, item in enumerate(documents)]
        if not batch:
            return []
        with self._connection.call("insert_many", collection):
            target = self._writable(collection)
            _check_batch_ids(collection, batch, 0, seen=set())
            _check_taken(target, collection, batch, 0)
            _insert_batch(target, collection, batch, 0)
        return [new.result() for new in batch]

    def import_documents(
        self, collection: str, documents: Iterable[Document], batch_size: int = 1000
    ) -> int:
        """Create documents from a stream, a batch at a time; all or none.

        The stream is read one batch ahead of the writes, so memory holds one
        batch (and the ids written so far). Anything raised while reading, or a
        taken id, deletes every document this import inserted before the error
        is raised again. Until the import ends, readers can see the documents
        written so far; a process killed mid-import leaves them in place.
        Ids are checked against the collection only when it held documents
        when the import began; against each other, always.
        """
        size = max(1, batch_size)
        written: list[Any] = []
        seen: set[str] = set()
        with self._connection.call("import_documents", collection):
            target = self._writable(collection)
            is_fresh = target.estimated_document_count() == 0
            try:
                for batch in _batches(documents, size):
                    _check_batch_ids(collection, batch, len(written), seen)
                    if not is_fresh:
                        _check_taken(target, collection, batch, len(written))
                    _insert_batch(target, collection, batch, len(written))
                    written += [new.key for new in batch]
            except BaseException:
                _undo(target, written)
                raise
        return len(written)

    def replace_one(
        self,
        collection: str,
        document_id: str,
        document: Document,
        expected_version: str | None = None,
        upsert: bool = True,
    ) -> ReplaceResult:
        """Replace a document whole, or create it when absent and allowed.

        The write's filter holds the id and, when one is expected, the version:
        a concurrent write makes it match nothing rather than be overwritten.

        :raises VersionMismatch: when ``expected_version`` is not current.
        :raises DocumentNotFound: when there is no document and it may not be
            created (``upsert`` false, or a version was expected).
        """
        new_id = replacement_id(document_id, document)
        with self._connection.call("replace_one", collection, document_id):
            target = self._writable(collection)
            for _attempt in range(3):
                replaced = self._replace_existing(
                    target, collection, document_id, document, expected_version
                )
                if replaced is not None:
                    return ReplaceResult(replaced, created=False)
                if expected_version is not None or not upsert:
                    raise not_found_error(collection, document_id)
                created = NewDocument(document, new_id, new_version())
                try:
                    _write(target.insert_one, created.stored())
                except DuplicateKeyError:
                    continue  # created concurrently: replace it instead
                return ReplaceResult(created.result(), created=True)
        raise StoreUnavailable(
            f"The document {document_id!r} of collection {collection!r} kept "
            "changing while it was being replaced; retry the request."
        )

    def _replace_existing(
        self,
        target: Any,
        collection: str,
        document_id: str,
        document: Document,
        expected_version: str | None,
    ) -> StoredDocument | None:
        """Replace the current document; None when there is none."""
        current = target.find_one({"_id": {"$in": id_forms(document_id)}}, {"_t": 0})
        if current is None:
            return None
        is_conditional = expected_version not in (None, "*")
        if is_conditional and current.get("_v") != expected_version:
            raise version_mismatch_error(collection, document_id)

        replacement = NewDocument(
            document, current["_id"], new_version(), api_id=stored_api_id(current)
        )
        selector = {"_id": current["_id"]}
        if is_conditional:
            selector["_v"] = expected_version
        outcome = _write(target.replace_one, selector, replacement.stored())
        if outcome.matched_count == 1:
            return replacement.result()
        if not is_conditional:
            return None  # deleted meanwhile: the caller may create it
        if target.find_one({"_id": current["_id"]}, {"_id": 1}) is None:
            raise not_found_error(collection, document_id)
        raise version_mismatch_error(collection, document_id)

    def update_one(
        self,
        collection: str,
        document_id: str,
        change: Callable[[StoredDocument], Document],
    ) -> StoredDocument:
        """Read, change, and write on condition that the version is unchanged.

        Without transactions, a write that lands between the read and the
        write makes the conditional write fail; the cycle then starts again
        from a fresh read, a few times, after a short random pause.

        :raises DocumentNotFound: when there is no such document.
        :raises WriteConflict: when every attempt was overtaken.
        """
        for attempt in range(_UPDATE_ATTEMPTS):
            current = self.find_one(collection, document_id)
            if current is None:
                raise not_found_error(collection, document_id)
            updated = change(current)
            try:
                return self.replace_one(
                    collection,
                    str(current.id),
                    updated,
                    expected_version=current.version,
                    upsert=False,
                ).document
            except VersionMismatch:
                time.sleep(random.uniform(0, _RETRY_PAUSE_SECONDS * (attempt + 1)))
        raise WriteConflict(
            f"The document {document_id!r} of collection {collection!r} kept "
            "changing while a change was applied to it; send the request again."
        )

    def delete_one(
        self, collection: str, document_id: str, expected_version: str | None = None
    ) -> None:
        """Delete a document; the version, when expected, is part of the filter.

        :raises DocumentNotFound: when there is no such document.
        :raises VersionMismatch: when ``expected_version`` is not current.
        """
        selector: dict[str, Any] = {"_id": {"$in": id_forms(document_id)}}
        with self._connection.call("delete_one", collection, document_id):
            target = self._collection(collection)
            if expected_version not in (None, "*"):
                selector["_v"] = expected_version
            if target.delete_one(selector).deleted_count == 1:
                return
            if target.find_one({"_id": selector["_id"]}, {"_id": 1}) is None:
                raise not_found_error(collection, document_id)
            raise version_mismatch_error(collection, document_id)

    # Store protocol: reads

    def find_one(self, collection: str, document_id: str) -> StoredDocument | None:
        """The document whose id is this text, or the integer or ObjectId it
        spells."""
        with self._connection.call("find_one", collection, document_id):
            target = self._collection(collection)
            found = target.find_one({"_id": {"$in": id_forms(document_id)}}, {"_t": 0})
        return None if found is None else read_document(found)

    def find(self, collection: str, query: Query) -> FindResult:
        """One page of matching documents and the number of all matches."""
        match = to_filter(query.filter)
        with self._connection.call("find", collection):
            target = self._collection(collection)
            self._count_queried_paths(collection, query)
            page = self._page(target, match, query) if query.limit > 0 else []
            if page and collection not in self._prepared:
                self._writable(collection)  # configured indexes, on first use
            is_last_page = len(page) < query.limit and (page or query.offset == 0)
            if is_last_page:
                total = query.offset + len(page)
            else:
                total = int(target.count_documents(match))
        return FindResult([read_document(found, query.fields) for found in page], total)

    def _page(self, target: Any, match: Document, query: Query) -> list[Document]:
        """The raw documents of one page, natively sorted when that is exact."""
        shown = projection(query.fields)
        unusual = unusual_sort_values(query.sort)
        if unusual is not None and target.find_one(
            {"$and": [match, unusual]}, {"_id": 1}
        ):
            page = (query.offset, query.limit)
            return list(target.aggregate(sort_pipeline(match, query.sort, page, shown)))
        cursor = target.find(
            match,
            shown,
            sort=native_sort(query.sort),
            skip=query.offset,
            limit=query.limit,
        )
        return list(cursor)

    def count(self, collection: str, filter: Filter | None = None) -> int:
        """The number of documents matching the filter (``count_documents``)."""
        match = to_filter(filter)
        with self._connection.call("count", collection):
            return int(self._collection(collection).count_documents(match))

    # Indexes

    def ensure_index(self, collection: str, path: tuple[str, ...]) -> None:
        """Create an ascending index on a field path (then the id) if there is
        none; it serves equality and range filters and sorting by the field."""
        _check_path(path)
        with self._connection.call("ensure_index", collection):
            self._writable(collection).create_index(_index_keys(tuple(path)))

    def _count_queried_paths(self, collection: str, query: Query) -> None:
        """Index a path automatically once enough queries filtered or sorted on
        it."""
        if not self._query_counter.is_enabled:
            return
        paths = filter_paths(query.filter) | {key.path for key in query.sort}
        for path in self._query_counter.count(collection, sorted(paths - {("id",)})):
            self._create_index_quietly(collection, path)

    def _create_index_quietly(self, collection: str, path: Path) -> None:
        """Index a field; a failure is logged, never the query's failure."""
        try:
            self.ensure_index(collection, path)
        except DatasourceError as exc:
            logger.warning(
                "cannot index %s of collection %s: %s", ".".join(path), collection, exc
            )
        else:
            logger.info("indexed %s of collection %s", ".".join(path), collection)

    def _forget(self, collection: str) -> None:
        with self._lock:
            self._prepared.discard(collection)
        self._query_counter.forget(collection)


def _batches(documents: Iterable[Document], size: int) -> Iterator[list[NewDocument]]:
    batch: list[NewDocument] = []
    for index, document in enumerate(documents):
        batch.append(NewDocument.at(index, document))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_batch_ids(
    collection: str, batch: list[NewDocument], first_index: int, seen: set[str]
) -> None:
    """Refuse an id that an earlier element has, in any form; ``seen`` holds
    the texts of the ids before this batch and gains this batch's."""
    for index, new in enumerate(batch):
        text = id_text(new.key)
        if text in seen:
            raise _duplicate(collection, new.api_id, first_index + index)
        seen.add(text)


def _insert_batch(
    target: Any, collection: str, batch: list[NewDocument], first_index: int
) -> None:
    """Insert checked documents in order, or none: if a concurrent write takes
    an id midway, delete the ones inserted and name the element."""
    try:
        _write(target.insert_many, [new.stored() for new in batch], ordered=True)
    except BulkWriteError as exc:
        failed = _first_failure(exc, len(batch))
        _delete_ids(target, [new.key for new in batch[:failed]])
        if exc.details.get("writeErrors", [{}])[0].get("code") != _DUPLICATE_KEY:
            raise
        raise _duplicate(
            collection, batch[failed].api_id, first_index + failed
        ) from None


def _check_taken(
    target: Any, collection: str, batch: list[NewDocument], first_index: int
) -> None:
    """Refuse the first element whose id, in any form, the collection holds."""
    # Every form of an id has the same text, so the text finds the element.
    position = {id_text(new.key): index for index, new in enumerate(batch)}
    forms = [form for new in batch for form in [new.key, *other_forms(new.key)]]
    found = target.find({"_id": {"$in": forms}}, {"_id": 1})
    taken = sorted(position[id_text(row["_id"])] for row in found)
    if taken:
        index = taken[0]
        raise _duplicate(collection, batch[index].api_id, first_index + index)


def _first_failure(exc: BulkWriteError, size: int) -> int:
    errors = exc.details.get("writeErrors") or [{}]
    index = errors[0].get("index", 0)
    return min(int(index), size - 1)


def _write(operation: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a write, refusing values BSON cannot hold as an invalid document."""
    try:
        return operation(*args, **kwargs)
    except (OverflowError, InvalidBSON) as exc:
        raise InvalidDocument(
            f"The document cannot be stored in MongoDB ({exc}); use integers "
            "within 64 bits and keep it under 16 MiB."
        ) from None


def _undo(target: Any, keys: list[Any]) -> None:
    """Delete what a failed import wrote; a failure here is logged, and the
    import's own error is the one raised."""
    try:
        _delete_ids(target, keys)
    except PyMongoError as exc:
        logger.warning("cannot undo %d imported documents: %s", len(keys), exc)


def _delete_ids(target: Any, keys: list[Any]) -> None:
    """Delete documents by ``_id`` (undoing a batch), a chunk at a time."""
    for start in range(0, len(keys), 10_000):
        target.delete_many({"_id": {"$in": keys[start : start + 10_000]}})


# Names, paths and errors


def _api_collections(database: Any) -> list[tuple[str, str]]:
    """The stored and API names of the database's collections that the API
    can name (MongoDB's own ``system.`` collections excluded)."""
    names = [
        (stored_name, decode_collection(stored_name))
        for stored_name in database.list_collection_names()
        if not stored_name.startswith("system.")
    ]
    return [(stored, name) for stored, name in names if COLLECTION_NAME.fullmatch(name)]


def _check_path(path: tuple[str, ...]) -> None:
    if not path or not all(isinstance(name, str) and name for name in path):
        raise InvalidQuery(
            f"The field path {'.'.join(path)!r} cannot be indexed: give field "
            "names joined by single dots, such as author.name."
        )


def _index_keys(path: Path) -> list[tuple[str, int]]:
    keys = [(encode_path(path), pymongo.ASCENDING)]
    return keys if path == ("id",) else [*keys, ("id", pymongo.ASCENDING)]


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
