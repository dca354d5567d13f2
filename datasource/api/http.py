"""Request bodies, conditional requests and JSON responses.

Bodies are checked in the order that costs the server least: the declared
size (413 before a byte is read), the presence of a body, its media type
(415), then a bounded read and the strict decoder of ``datasource.jsonio``.
Conditions follow RFC 9110: ``If-Match`` compares strongly and fails when the
document is missing, ``If-None-Match`` compares weakly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from flask import Response, request
from werkzeug.datastructures import ETags
from werkzeug.exceptions import RequestEntityTooLarge

from datasource.api.context import get_config
from datasource.errors import (
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    VersionMismatch,
)
from datasource.jsonio import decode_json
from datasource.storage import StoredDocument

__all__ = [
    "JSON_MEDIA_TYPE",
    "check_if_match",
    "check_url_encoding",
    "drop_empty_content_type",
    "document_headers",
    "etag_of",
    "has_if_match",
    "is_create_only",
    "is_not_modified",
    "json_media_type",
    "json_response",
    "not_modified_response",
    "read_json_body",
]

JSON_MEDIA_TYPE = "application/json"
_READ_CHUNK = 64 * 1024
_QUERY_SEPARATOR = re.compile(r"[&;]")
_BARE_MEDIA_TYPE = re.compile(r"[a-z0-9.+-]+/[a-z0-9.+-]+")


def check_url_encoding() -> None:
    """Refuse a path or query string that is not UTF-8 once percent-decoded.

    Werkzeug would replace such bytes with U+FFFD, so that distinct URLs name
    the same document; a client sending them has made a mistake worth telling.

    :raises InvalidRequest: naming the part of the URL at fault.
    """
    path = request.environ.get("PATH_INFO", "")
    query = request.environ.get("QUERY_STRING", "")
    # Plain ASCII without percent-escapes, the common case, is valid UTF-8.
    if path.isascii() and query.isascii() and "%" not in query:
        return
    if not _is_utf8(path.encode("latin-1", "replace")):
        raise InvalidRequest(
            "The URL path is not valid UTF-8 once percent-decoded; encode names "
            "and ids as UTF-8 before percent-encoding them."
        )
    for part in _QUERY_SEPARATOR.split(query):
        if not _is_utf8(unquote_to_bytes(part.replace("+", " "))):
            raise InvalidRequest(
                f"The query parameter {part[:80]!r} is not valid UTF-8 once "
                "percent-decoded; encode values as UTF-8 before percent-encoding."
            )


def drop_empty_content_type(response: Response) -> Response:
    """Remove the default Content-Type from responses that carry no body."""
    is_empty = response.status_code in (204, 304) or (
        request.method == "OPTIONS" and not response.get_data()
    )
    if is_empty:
        response.headers.pop("Content-Type", None)
    return response


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def json_response(
    body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A response carrying already encoded JSON."""
    return Response(body, status, headers, content_type=JSON_MEDIA_TYPE)


def read_json_body(media_types: tuple[str, ...] = ()) -> Any:
    """The request body, decoded strictly.

    :param media_types: the media types accepted; by default any JSON type.

    :raises PayloadTooLarge: when the body is over the configured limit.
    :raises UnsupportedMediaType: when the body is not declared as JSON.
    :raises InvalidRequest: when there is no body or it is not valid JSON.
    """
    config = get_config()
    environ = request.environ
    declared = _declared_length(environ)
    if declared is not None and declared > config.max_body_bytes:
        raise _too_large(config.max_body_bytes)
    if not declared and not _is_chunked():
        raise InvalidRequest(
            f"{request.method} {request.path} needs a JSON body; none was sent."
        )
    json_media_type(media_types)

    data = _read_body(environ, declared, config.max_body_bytes)
    return decode_json(data, max_depth=config.max_depth)


def _declared_length(environ: Mapping[str, Any]) -> int | None:
    """Content-Length as Werkzeug reads it: None when absent or chunked, 0 when
    malformed (the server has usually refused such a request already)."""
    text = environ.get("CONTENT_LENGTH")
    if text is None or environ.get("HTTP_TRANSFER_ENCODING") == "chunked":
        return None
    digits = str(text).strip()
    return int(digits) if digits.isascii() and digits.isdigit() else 0


def json_media_type(media_types: tuple[str, ...] = ()) -> str:
    """The request's media type when it is an accepted JSON type.

    :param media_types: the accepted types; by default ``application/json``
        and every ``application/*+json``.
    :raises UnsupportedMediaType: for a missing or other media type, or a
        charset other than UTF-8.
    """
    declared: str = request.environ.get("CONTENT_TYPE", "")
    # A bare lower-case type, as clients usually send it, needs no parsing.
    if _is_bare(declared) and _is_accepted(declared, media_types):
        return declared
    media_type = request.mimetype
    if not _is_accepted(media_type, media_types):
        shown = repr(media_type) if media_type else "no Content-Type"
        wanted = ", ".join(media_types or (JSON_MEDIA_TYPE,))
        raise UnsupportedMediaType(
            f"{request.method} takes a body of type {wanted}; the request has {shown}."
        )
    charset = request.mimetype_params.get("charset", "utf-8")
    if charset.lower() not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(
            f"JSON bodies must be UTF-8; the request declares charset {charset!r}."
        )
    return media_type


def _is_bare(media_type: str) -> bool:
    return _BARE_MEDIA_TYPE.fullmatch(media_type) is not None


def _is_accepted(media_type: str, media_types: tuple[str, ...]) -> bool:
    if media_types:
        return media_type in media_types
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _is_chunked() -> bool:
    chunked = request.headers.get("Transfer-Encoding", "").lower()
    return "chunked" in chunked


def _read_body(environ: Mapping[str, Any], declared: int | None, limit: int) -> bytes:
    """Read the declared length exactly, or a chunked body up to one byte past
    ``limit``.

    A declared length is read straight from the server's input, which never
    reads past it; a chunked body goes through Werkzeug's stream, which knows
    where each server says such a body ends.

    :raises InvalidRequest: when the connection ends before the declared length.
    :raises PayloadTooLarge: when a chunked body goes past the limit.
    """
    if declared is None:
        data = _read_up_to(request.stream, limit + 1)
    else:
        data = _read_up_to(environ["wsgi.input"], declared)
    if declared is not None and len(data) < declared:
        raise InvalidRequest(
            f"The body ended after {len(data)} of the {declared} bytes that "
            "Content-Length announced; send the whole body."
        )
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Read from a stream until ``size`` bytes or its end.

    :raises InvalidRequest: when the server cannot decode the body: each
        server raises its own error for a malformed chunk or a connection
        that ends inside one (gunicorn a ``ParseException``, Werkzeug
        ``ClientDisconnected``), and every such error is the client's.
    """
    chunks: list[bytes] = []
    read = 0
    try:
        while read < size:
            chunk = stream.read(min(_READ_CHUNK, size - read))
            if not chunk:
                break
            chunks.append(chunk)
            read += len(chunk)
    except RequestEntityTooLarge:
        raise _too_large(get_config().max_body_bytes) from None
    except Exception:
        raise InvalidRequest(
            "The body could not be read: its chunked encoding is malformed or "
            "the connection ended inside it. Send a valid chunked body or a "
            "Content-Length."
        ) from None
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body is larger than the limit of {limit} bytes; send a smaller "
        "document or split an array into several requests."
    )


def etag_of(document: StoredDocument) -> str:
    """The strong entity tag of a document's current version."""
    return f'"{document.version}"'


def document_headers(document: StoredDocument) -> dict[str, str]:
    """Headers every response carrying one document has."""
    return {"ETag": etag_of(document)}


def has_if_match() -> bool:
    """True when the client made its write conditional with ``If-Match``."""
    return "HTTP_IF_MATCH" in request.environ


def is_create_only() -> bool:
    """True for ``If-None-Match: *``: write only when the document is absent."""
    return request.if_none_match.star_tag


def check_if_match(document: StoredDocument | None) -> None:
    """Enforce ``If-Match`` against the current document (None when missing).

    :raises VersionMismatch: when the condition is false.
    """
    if not has_if_match():
        return
    etags: ETags = request.if_match
    if document is None:
        raise VersionMismatch(
            "If-Match requires the document to exist, and it does not."
        )
    if not etags.contains(document.version):
        raise VersionMismatch(
            f"The document changed: its ETag is now {etag_of(document)}, which "
            "If-Match does not list. Read it again and retry with the new ETag."
        )


def is_not_modified(document: StoredDocument) -> bool:
    """True when ``If-None-Match`` lists the document's version (or ``*``)."""
    if "HTTP_IF_NONE_MATCH" not in request.environ:
        return False
    return request.if_none_match.contains_weak(document.version)


def not_modified_response(document: StoredDocument) -> Response:
    """304 with the entity tag and no body."""
    return Response(status=304, headers=document_headers(document))
