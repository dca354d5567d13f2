"""Request ids and the one log line written for every request.

The id comes from the client's ``X-Request-Id`` header when it sends a usable
one, so that a request can be followed across services; otherwise it is
generated. Every response carries it, and the 500 handler logs it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from urllib.parse import quote

from flask import Flask, Response, g, request

__all__ = [
    "REQUEST_ID_HEADER",
    "current_request_id",
    "install_tracing",
    "loggable_path",
]

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_MAX_REQUEST_ID_LENGTH = 128
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._:-]")
# Printable characters stay readable in the log; anything else, line breaks
# included, is percent-encoded so that a path cannot forge a log line.
_LOGGED_PATH_SAFE = "/:@-._~!$&'()*+,;="


def install_tracing(app: Flask) -> None:
    """Give every request an id and log one line when its response is ready."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def current_request_id() -> str:
    """The id of the request being handled, chosen on first use."""
    request_id: str | None = g.get("request_id")
    if request_id is None:
        request_id = _choose_request_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_id = request_id
    return request_id


def loggable_path() -> str:
    """The request path, percent-encoded where it could break a log line."""
    return quote(request.path, safe=_LOGGED_PATH_SAFE)


def _choose_request_id(sent: str | None) -> str:
    """The client's id stripped of unsafe characters and bounded, or a new one."""
    cleaned = _UNSAFE_CHARACTERS.sub("", sent or "")[:_MAX_REQUEST_ID_LENGTH]
    return cleaned or uuid.uuid4().hex


def _start_request() -> None:
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = current_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id

    started = g.get("request_started")
    duration_ms = 0.0 if started is None else (time.perf_counter() - started) * 1000
    logger.info(
        "%s %s %d %.1fms request_id=%s",
        request.method,
        loggable_path(),
        response.status_code,
        duration_ms,
        request_id,
    )
    return response
