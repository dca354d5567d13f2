"""Request ids and the one log line written for every request.

The id comes from the client's ``X-Request-Id`` header when it sends a usable
one, so that a request can be followed across services; otherwise it is
generated. Every response carries it, and the 500 handler logs it.

This runs as WSGI middleware around the Flask application rather than as
request hooks: it reads the WSGI environ directly, which costs a fraction of
the hooks' proxy lookups on every request.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from flask import Flask, request

__all__ = [
    "REQUEST_ID_HEADER",
    "current_request_id",
    "install_tracing",
    "loggable_path",
]

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-Id"
_ENVIRON_KEY = "datasource.request_id"
_MAX_REQUEST_ID_LENGTH = 128
_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._:-]")
# Printable characters stay readable in the log; anything else, line breaks
# included, is percent-encoded so that a path cannot forge a log line.
_LOGGED_PATH_SAFE = "/:@-._~!$&'()*+,;="
_LOGGED_AS_IS = re.compile(r"[A-Za-z0-9/:@\-._~!$&'()*+,;=]*")

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def install_tracing(app: Flask) -> None:
    """Give every request an id and log one line when its response is ready."""
    app.wsgi_app = RequestTracing(app.wsgi_app)  # type: ignore[method-assign]


class RequestTracing:
    """WSGI middleware: an id on every response, one INFO line per request."""

    def __init__(self, application: WSGIApplication) -> None:
        self._application = application

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = _choose_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ[_ENVIRON_KEY] = request_id
        statuses: list[str] = []

        def start_traced_response(
            status: str, headers: list[tuple[str, str]], *args: Any
        ) -> Any:
            headers.append((REQUEST_ID_HEADER, request_id))
            statuses.append(status)
            return start_response(status, headers, *args)

        body = self._application(environ, start_traced_response)
        if logger.isEnabledFor(logging.INFO):
            _log_request(environ, statuses, started, request_id)
        return body


def current_request_id() -> str:
    """The id of the request being handled."""
    request_id: str | None = request.environ.get(_ENVIRON_KEY)
    if request_id is None:
        request_id = _choose_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.environ[_ENVIRON_KEY] = request_id
    return request_id


def loggable_path() -> str:
    """The request path, percent-encoded where it could break a log line."""
    return _loggable(request.path)


def _loggable(path: str) -> str:
    if _LOGGED_AS_IS.fullmatch(path):
        return path
    return quote(path, safe=_LOGGED_PATH_SAFE)


def _choose_request_id(sent: str | None) -> str:
    """The client's id stripped of unsafe characters and bounded, or a new one."""
    if sent:
        cleaned = _UNSAFE_CHARACTERS.sub("", sent)[:_MAX_REQUEST_ID_LENGTH]
        if cleaned:
            return cleaned
    return os.urandom(16).hex()


def _log_request(
    environ: dict[str, Any], statuses: list[str], started: float, request_id: str
) -> None:
    logger.info(
        "%s %s %s %.1fms request_id=%s",
        environ.get("REQUEST_METHOD", "-"),
        _loggable(_decoded_path(environ.get("PATH_INFO", ""))),
        statuses[-1].partition(" ")[0] if statuses else "-",
        (time.perf_counter() - started) * 1000,
        request_id,
    )


def _decoded_path(path_info: str) -> str:
    """PATH_INFO holds the URL's bytes as latin-1 text (PEP 3333)."""
    if path_info.isascii():
        return path_info
    return path_info.encode("latin-1", "replace").decode("utf-8", "replace")
