"""The body and the paging headers of a list response.

Without a projection the body is assembled from the stored JSON bytes, never
decoded. ``Link`` (RFC 8288) gives absolute URLs of the first, previous, next
and last pages that keep every other query parameter; pages step by ``limit``
from the current offset, so following ``next`` from any offset reaches
``last``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request

from datasource.api.http import json_response
from datasource.jsonio import encode_json
from datasource.query import Query, project
from datasource.storage import FindResult

__all__ = ["TOTAL_COUNT_HEADER", "list_response", "page_offsets"]

TOTAL_COUNT_HEADER = "X-Total-Count"
_PAGING_PARAMETERS = frozenset({"limit", "offset"})


def list_response(result: FindResult, query: Query, url: str) -> Response:
    """200 with the page of documents, its total count and its page links.

    :param url: the absolute URL of the collection, which the links extend.
    """
    headers = {
        TOTAL_COUNT_HEADER: str(result.total),
        "Link": _link_header(
            url, page_offsets(result.total, query.limit, query.offset), query.limit
        ),
    }
    return json_response(_list_body(result, query), headers=headers)


def _list_body(result: FindResult, query: Query) -> bytes:
    if query.fields is None:
        return b"[" + b",".join(document.body for document in result.documents) + b"]"
    fields = query.fields
    return encode_json(
        [project(document.document, fields) for document in result.documents]
    )


def page_offsets(total: int, limit: int, offset: int) -> dict[str, int]:
    """The offset of each page relation that exists, by its ``rel`` name."""
    if limit == 0:
        return {"first": 0}
    pages = {"first": 0}
    last = _last_offset(total, limit, offset)
    if offset > 0:
        pages["prev"] = min(max(offset - limit, 0), last)
    if offset + limit < total:
        pages["next"] = offset + limit
    pages["last"] = last
    return pages


def _last_offset(total: int, limit: int, offset: int) -> int:
    if total == 0:
        return 0
    if offset >= total:
        return (total - 1) // limit * limit
    return offset + (total - 1 - offset) // limit * limit


def _link_header(url: str, pages: dict[str, int], limit: int) -> str:
    kept = [
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in _PAGING_PARAMETERS
    ]
    # The other parameters are the same in every link: encode them once.
    prefix = f"{url}?{urlencode(kept)}{'&' if kept else ''}"
    return ", ".join(
        f'<{prefix}limit={limit}&offset={offset}>; rel="{relation}"'
        for relation, offset in pages.items()
    )
