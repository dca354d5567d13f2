"""The server's own resources under ``/-/``: its health."""

from __future__ import annotations

from flask import Blueprint, Response

from datasource.api.context import get_environments
from datasource.api.http import json_response
from datasource.errors import StoreUnavailable
from datasource.jsonio import encode_json

__all__ = ["blueprint", "check_stores"]

blueprint = Blueprint("server", __name__)


@blueprint.get("/-/health")
def health() -> Response:
    """200 when every environment's store answers, else a 503 problem."""
    statuses, failures = check_stores()
    if failures:
        raise StoreUnavailable(" ".join(failures), extra={"environments": statuses})
    return json_response(encode_json({"status": "ok", "environments": statuses}))


def check_stores() -> tuple[dict[str, str], list[str]]:
    """Ping each environment's store: its status by name, and failure messages."""
    environments = get_environments()
    statuses: dict[str, str] = {}
    failures: list[str] = []
    for name in environments.names:
        try:
            environments.store(name).ping()
        except StoreUnavailable as exc:
            statuses[name] = "unavailable"
            failures.append(f"The store of environment {name!r} is unavailable: {exc}")
        else:
            statuses[name] = "ok"
    return statuses, failures
