"""Descriptions of the API itself: the root Hyper-Schema, OpenAPI and docs.

``GET /`` is the entry point a client discovers the API from, ``GET
/-/openapi.json`` the same API for OpenAPI tools, and ``GET /-/docs`` an
interactive page (Swagger UI) whose assets ship in the package, so that it
works without internet. The descriptions depend only on the settings, so
each is built and encoded once per set of settings.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    render_template_string,
    send_from_directory,
    url_for,
)
from werkzeug.exceptions import NotFound

from datasource.api.context import get_config
from datasource.hyperschema import MEDIA_TYPE as HYPER_SCHEMA_MEDIA_TYPE
from datasource.hyperschema import build_hyperschema
from datasource.jsonio import encode_json
from datasource.openapi import build_openapi

__all__ = ["DOCS_ASSETS", "DOCS_DIRECTORY", "blueprint"]

blueprint = Blueprint("meta", __name__)

DOCS_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "docs"

# The files the docs page loads, with their media types; nothing else in the
# directory (the page template, licences) is served.
DOCS_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "docs.js": "text/javascript",
}

# The page may load code, styles and data from this server only: a browser
# then refuses any request elsewhere, so the page provably works offline.
_DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)


@blueprint.get("/")
def get_hyperschema() -> Response:
    """The JSON Hyper-Schema describing every service, as the entry point."""
    body = _encoded_hyperschema(get_config().environments)
    return Response(body, mimetype=HYPER_SCHEMA_MEDIA_TYPE)


@blueprint.get("/-/openapi.json")
def get_openapi() -> Response:
    """The OpenAPI 3.1 document of the API as configured."""
    config = get_config()
    body = _encoded_openapi(config.environments, config.max_body_bytes)
    return Response(body, mimetype="application/json")


@blueprint.get("/-/docs")
def get_docs() -> Response:
    """The interactive documentation page, pointing at the OpenAPI document."""
    page = render_template_string(
        _docs_template(),
        openapi_url=url_for("meta.get_openapi"),
        stylesheet_url=url_for("meta.get_docs_asset", name="swagger-ui.css"),
        bundle_url=url_for("meta.get_docs_asset", name="swagger-ui-bundle.js"),
        initializer_url=url_for("meta.get_docs_asset", name="docs.js"),
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _DOCS_CONTENT_SECURITY_POLICY
    return response


@blueprint.get("/-/static/docs/<name>")
def get_docs_asset(name: str) -> Response:
    """One asset of the docs page, shipped in the package.

    :raises NotFound: for any name that is not one of ``DOCS_ASSETS``.
    """
    media_type = DOCS_ASSETS.get(name)
    if media_type is None:
        raise NotFound()
    return send_from_directory(DOCS_DIRECTORY, name, mimetype=media_type)


@lru_cache(maxsize=8)
def _encoded_hyperschema(environments: tuple[str, ...]) -> bytes:
    return encode_json(build_hyperschema(environments))


@lru_cache(maxsize=8)
def _encoded_openapi(environments: tuple[str, ...], max_body_bytes: int) -> bytes:
    return encode_json(build_openapi(environments, max_body_bytes=max_body_bytes))


@lru_cache(maxsize=1)
def _docs_template() -> str:
    return (DOCS_DIRECTORY / "docs.html").read_text(encoding="utf-8")
