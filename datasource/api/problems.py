"""Every failure as one kind of body: problem+json (RFC 9457).

One handler turns the domain exceptions of ``datasource.errors``, Werkzeug's
HTTP exceptions (unknown path, wrong method, body too large...) and anything
unexpected into a problem. Problem types:

- a domain error has the type ``https://datasource.dev/problems/<slug>``, where
  the slug is the error class's (``document-not-found``, ``invalid-request``...);
- an HTTP error raised by the framework itself has the type ``about:blank`` and
  the standard reason phrase as its title, as RFC 9457 prescribes;
- an unexpected failure is ``.../internal-error`` with a generic detail and the
  request id; the traceback goes to the log, never into the response.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from datasource.api.tracing import current_request_id, loggable_path
from datasource.errors import DatasourceError
from datasource.jsonio import encode_json

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPE_BASE",
    "handle_error",
    "problem_response",
    "register_error_handler",
]

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://datasource.dev/problems/"

_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "errors"})


def register_error_handler(app: Flask) -> None:
    """Route every exception a view can raise to ``handle_error``."""
    app.register_error_handler(Exception, handle_error)


def handle_error(exc: Exception) -> Response:
    """Answer with the problem that describes ``exc``."""
    if isinstance(exc, DatasourceError):
        return _domain_problem(exc)
    if isinstance(exc, HTTPException):
        return _http_problem(exc)
    if isinstance(exc, NotImplementedError):
        return _not_implemented_problem(exc)
    return _unexpected_problem(exc)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    problem_type: str = "about:blank",
    members: dict[str, Any] | None = None,
) -> Response:
    """A problem+json response; ``members`` adds extension members."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(members or {})
    response = Response(encode_json(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    if status == 413:
        # The unread body is still on the connection: it cannot carry another
        # request, so say so instead of letting the server drop it silently.
        response.headers["Connection"] = "close"
    return response


def _domain_problem(exc: DatasourceError) -> Response:
    members: dict[str, Any] = {
        name: value
        for name, value in exc.extra.items()
        if name not in _STANDARD_MEMBERS
    }
    if exc.errors:
        members["errors"] = [error.to_dict() for error in exc.errors]
    return problem_response(
        exc.status,
        exc.title,
        exc.detail,
        problem_type=PROBLEM_TYPE_BASE + exc.slug,
        members=members,
    )


def _http_problem(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = problem_response(
        status, HTTP_STATUS_CODES.get(status, "Error"), _http_detail(exc)
    )
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _http_detail(exc: HTTPException) -> str:
    """A sentence for the client; Werkzeug's defaults are generic for 404/405."""
    if exc.code == 404:
        return (
            f"There is nothing at {request.path}. Paths are /{{environment}}, "
            "/{environment}/{collection} and /{environment}/{collection}/{id}; "
            "GET / describes them all."
        )
    if exc.code == 405:
        allowed = ", ".join(getattr(exc, "valid_methods", None) or ())
        return (
            f"The method {request.method} is not allowed on {request.path}; "
            f"use one of {allowed}."
        )
    return exc.description or HTTP_STATUS_CODES.get(exc.code or 500, "Error")


def _not_implemented_problem(exc: NotImplementedError) -> Response:
    detail = str(exc) or "The store of this environment cannot do this."
    return problem_response(
        501,
        HTTP_STATUS_CODES[501],
        detail,
        problem_type=PROBLEM_TYPE_BASE + "not-supported",
    )


def _unexpected_problem(exc: Exception) -> Response:
    request_id = current_request_id()
    logger.exception(
        "unexpected failure in %s %s, request_id=%s",
        request.method,
        loggable_path(),
        request_id,
        exc_info=exc,
    )
    return problem_response(
        500,
        HTTP_STATUS_CODES[500],
        "The server failed to handle this request. The failure is logged under "
        f"request id {request_id}; please report it with that id.",
        problem_type=PROBLEM_TYPE_BASE + "internal-error",
    )
