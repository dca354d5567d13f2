"""How API documents, their ids and their names are stored in MongoDB.

Names. MongoDB refuses field names that start with ``$`` or hold a ``.`` or a
NUL, and the store keeps its own fields (``_id``, ``_v``, ``_t``) at the top of
each stored document. Any JSON document must still round-trip exactly, so
every such name is escaped on the way in and restored on the way out:

- a name that needs it becomes ``%`` followed by the name with ``%``, ``.``,
  ``$`` and NUL written as ``%25``, ``%2E``, ``%24`` and ``%00``;
- a name that starts with ``%`` is always escaped, so a stored name starting
  with ``%`` is always an escaped one and decoding is unambiguous;
- every other name is stored as given, so ordinary documents look ordinary
  in the database and their indexes use the plain field names.

The rule is the same at every depth, so a query path translates segment by
segment through ``encode_field``. Collection names get the same treatment
for the few that MongoDB refuses (``system.`` prefixes, ``..``, a final dot).

Ids. A generated id is an ``ObjectId``; a client's id is stored as given. The
text of a URL names an id in any of its forms (the string, the integer it
spells, the ObjectId it spells), and ``id_forms`` lists them.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from bson import Decimal128, ObjectId

from datasource.errors import ErrorDetail, InvalidDocument
from datasource.jsonio import INT64_MAX, INT64_MIN
from datasource.query import Path, project
from datasource.storage.base import Document, DocumentId, StoredDocument
from datasource.storage.ids import check_id, new_version

__all__ = [
    "EXTERNAL_VERSION",
    "HIDDEN_FIELDS",
    "NewDocument",
    "decode_collection",
    "decode_document",
    "decode_field",
    "dumps",
    "encode_collection",
    "encode_document",
    "encode_field",
    "encode_path",
    "id_forms",
    "id_text",
    "other_forms",
    "read_document",
    "search_terms",
    "stored_api_id",
]

ESCAPE = "%"

# Fields the store keeps in each stored document: the id, the version token
# and the lower-cased strings that text search reads.
HIDDEN_FIELDS = frozenset({"_id", "_v", "_t"})

_ESCAPED_CHARACTERS = {"%": "%25", ".": "%2E", "$": "%24", "\x00": "%00"}
_SPECIAL_CHARACTER = re.compile(r"[%.$\x00]")
_ESCAPE_SEQUENCE = re.compile(r"%(25|2E|24|00)")
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_OBJECT_ID_TEXT = re.compile(r"[0-9a-f]{24}")

# The version of documents that other tools wrote without one.
EXTERNAL_VERSION = "0"


def _needs_escape(name: str) -> bool:
    return (
        not name
        or name[0] in "$%"
        or "." in name
        or "\x00" in name
        or name in HIDDEN_FIELDS
    )


def _escape(name: str) -> str:
    return ESCAPE + _SPECIAL_CHARACTER.sub(lambda m: _ESCAPED_CHARACTERS[m[0]], name)


def _unescape(name: str) -> str:
    return _ESCAPE_SEQUENCE.sub(lambda m: chr(int(m[1], 16)), name[1:])


def encode_field(name: str) -> str:
    """The stored form of a field name: itself unless MongoDB restricts it."""
    return _escape(name) if _needs_escape(name) else name


def decode_field(name: str) -> str:
    """The field name a client sent, from its stored form."""
    return _unescape(name) if name.startswith(ESCAPE) else name


def encode_path(path: tuple[str, ...]) -> str:
    """A field path as a dotted MongoDB path over the stored names."""
    return ".".join(encode_field(name) for name in path)


def encode_document(value: Any) -> Any:
    """A JSON value with every object key in its stored form, at any depth."""
    if isinstance(value, dict):
        return {encode_field(key): encode_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [encode_document(item) for item in value]
    return value


def decode_document(value: Any) -> Any:
    """The inverse of ``encode_document``."""
    if isinstance(value, dict):
        return {decode_field(key): decode_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_document(item) for item in value]
    return value


def search_terms(value: Any) -> list[str]:
    """Every distinct string anywhere in a JSON value, lower-cased, keys excluded.

    The store keeps them in ``_t`` so that a text search is one regular
    expression over one array field, whatever the shape of the document.
    """
    terms: dict[str, None] = {}
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            terms[item.lower()] = None
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return list(terms)


def _is_refused_collection(name: str) -> bool:
    return (
        name.startswith(("system.", ESCAPE, "."))
        or name.endswith(".")
        or ".." in name
        or "$" in name
        or "\x00" in name
        or not name
    )


def encode_collection(name: str) -> str:
    """The MongoDB collection name of a collection: itself unless refused."""
    return _escape(name) if _is_refused_collection(name) else name


def decode_collection(name: str) -> str:
    """The collection name a client uses, from its MongoDB name."""
    return decode_field(name)


# Documents


class NewDocument:
    """A document on its way in: its API form, its ``_id`` and its version."""

    __slots__ = ("document", "key", "api_id", "version")

    def __init__(
        self,
        document: Document,
        key: Any,
        version: str,
        api_id: DocumentId | None = None,
    ) -> None:
        self.document = document
        self.key = key
        if api_id is None:
            api_id = str(key) if isinstance(key, ObjectId) else key
        self.api_id: DocumentId = api_id
        self.version = version

    @classmethod
    def of(cls, document: Document) -> NewDocument:
        """Check a new document's id, or generate an ObjectId for it."""
        if not isinstance(document, dict):
            raise InvalidDocument("A document must be a JSON object.")
        if "id" in document:
            return cls(document, check_id(document["id"]), new_version())
        key = ObjectId()
        return cls({"id": str(key), **document}, key, new_version())

    @classmethod
    def at(cls, index: int, document: Document) -> NewDocument:
        """Like ``of`` for the element at ``index``; errors name the index."""
        try:
            return cls.of(document)
        except InvalidDocument as exc:
            raise InvalidDocument(
                f"Document {index}: {exc.detail}",
                errors=[ErrorDetail(f"/{index}/id", exc.detail)],
            ) from None

    def api_document(self) -> Document:
        """The document carrying exactly ``api_id`` (and its type) as ``id``."""
        current = self.document.get("id")
        if type(current) is not type(self.api_id) or current != self.api_id:
            return {**self.document, "id": self.api_id}
        return self.document

    def stored(self) -> Document:
        """The stored form: hidden fields first, then the escaped document."""
        document = self.api_document()
        hidden = {"_id": self.key, "_v": self.version, "_t": search_terms(document)}
        encoded: Document = encode_document(document)
        return hidden | encoded

    def result(self) -> StoredDocument:
        """What the store returns for the document once written."""
        return StoredDocument(self.api_id, self.version, dumps(self.api_document()))


def read_document(
    found: Document, fields: tuple[Path, ...] | None = None
) -> StoredDocument:
    """A stored document in its API form; ``id`` first for foreign ones."""
    document = {
        decode_field(name): decode_document(value)
        for name, value in found.items()
        if name not in HIDDEN_FIELDS
    }
    identifier = stored_api_id(found)
    if document.get("id") is None:
        document = {"id": identifier, **document}
    if fields is not None:
        document = project(document, fields)
    version = str(found.get("_v", EXTERNAL_VERSION))
    return StoredDocument(identifier, version, dumps(document))


def stored_api_id(found: Document) -> DocumentId:
    """The API id of a stored document (from ``_id`` when another tool wrote it)."""
    identifier = found.get("id")
    if isinstance(identifier, int | str) and not isinstance(identifier, bool):
        return identifier
    key = found["_id"]
    return key if isinstance(key, int | str) and not isinstance(key, bool) else str(key)


def dumps(document: Document) -> bytes:
    """The JSON body of an API document."""
    return orjson.dumps(document, default=_foreign_value)


def _foreign_value(value: Any) -> Any:
    """BSON values only other tools write (ObjectId, Decimal128...), as text."""
    if isinstance(value, ObjectId | Decimal128):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


# Ids


def id_text(key: Any) -> str:
    """The text a URL uses for an id in any of its forms."""
    return str(key)


def other_forms(key: Any) -> list[Any]:
    """The other ``_id`` values whose URL text equals this one's."""
    if isinstance(key, ObjectId):
        return [str(key)]
    if isinstance(key, int):
        return [str(key)]
    forms: list[Any] = []
    if _INTEGER_TEXT.fullmatch(key) and str(int(key)) == key:
        number = int(key)
        if INT64_MIN <= number <= INT64_MAX:
            forms.append(number)
    if _OBJECT_ID_TEXT.fullmatch(key):
        forms.append(ObjectId(key))
    return forms


def id_forms(text: str) -> list[Any]:
    """Every ``_id`` a URL segment may name: the text, its integer, its
    ObjectId."""
    return [text, *other_forms(text)]
