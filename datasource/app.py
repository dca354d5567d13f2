"""The application factory."""

from __future__ import annotations

import logging
import weakref
from typing import cast

from flask import Flask, Response, request
from flask_cors import CORS

from datasource.api import collections, environments, meta, server
from datasource.api.context import install
from datasource.api.http import check_url_encoding, drop_empty_content_type
from datasource.api.listing import TOTAL_COUNT_HEADER
from datasource.api.names import EnvironmentConverter
from datasource.api.problems import register_error_handler
from datasource.api.tracing import REQUEST_ID_HEADER, install_tracing
from datasource.config import Config, load_config
from datasource.environments import Environments
from datasource.errors import ConfigurationError

__all__ = ["create_app"]

logger = logging.getLogger(__name__)

CORS_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = (
    "Content-Type",
    "If-Match",
    "If-None-Match",
    REQUEST_ID_HEADER,
    "Authorization",
)
CORS_EXPOSE_HEADERS = (
    "ETag",
    "Location",
    "Link",
    TOTAL_COUNT_HEADER,
    REQUEST_ID_HEADER,
)


def create_app(config: Config | None = None) -> Flask:
    """Build the application: routes, error handling, CORS and environments.

    Stores open lazily, once per process, and stay open across requests; they
    close when the application is garbage-collected or the process exits.

    :param config: the settings; by default read from ``os.environ``.
    :raises ConfigurationError: when a setting is invalid.
    """
    config = load_config() if config is None else config
    _configure_logging(config.log_level)

    # No static route: /static must stay free to name an environment.
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.converters["environment"] = EnvironmentConverter
    # An empty segment is a 404 problem, not a redirect to another resource.
    app.url_map.merge_slashes = False

    registry = Environments(config)
    install(app, config, registry)
    weakref.finalize(app, registry.close)

    install_tracing(app)
    app.before_request(check_url_encoding)
    register_error_handler(app)
    for blueprint in (
        meta.blueprint,
        server.blueprint,
        environments.blueprint,
        collections.blueprint,
    ):
        app.register_blueprint(blueprint)
    _enable_cors(app, config.cors_origins)

    logger.info("application ready, environments: %s", ", ".join(registry.names))
    return app


def _configure_logging(level: str) -> None:
    """Set the level of the ``datasource`` loggers; handlers are the host's."""
    try:
        logging.getLogger("datasource").setLevel(level.upper())
    except ValueError:
        raise ConfigurationError(
            f"Setting DATASOURCE_LOG_LEVEL has the invalid value {level!r}; use "
            "DEBUG, INFO, WARNING, ERROR or CRITICAL."
        ) from None


def _enable_cors(app: Flask, origins: tuple[str, ...]) -> None:
    """Allow browsers on ``origins`` to call every endpoint, preflight included.

    flask-cors answers preflights and adds the headers. Its response hook runs
    only for requests that carry an ``Origin`` (browsers send one on every
    cross-origin request); the rest need no CORS headers, and skipping the
    hook saves a good share of the time a small request takes. The same one
    hook drops the Content-Type of bodiless responses: each hook costs every
    request a call through Flask.
    """
    CORS(
        app,
        origins=list(origins),
        methods=list(CORS_METHODS),
        allow_headers=list(CORS_ALLOW_HEADERS),
        expose_headers=list(CORS_EXPOSE_HEADERS),
        max_age=600,
    )
    hooks = app.after_request_funcs.setdefault(None, [])
    add_cors_headers = hooks.pop()

    def finish_response(response: Response) -> Response:
        response = drop_empty_content_type(response)
        if "HTTP_ORIGIN" not in request.environ:
            return response
        return cast(Response, add_cors_headers(response))

    hooks.append(finish_response)
