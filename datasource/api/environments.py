"""An environment as a whole: what it holds, and a reset."""

from __future__ import annotations

from flask import Blueprint, Response
from flask.views import MethodView

from datasource.api.context import get_store
from datasource.api.http import json_response
from datasource.jsonio import encode_json

__all__ = ["ENVIRONMENT_RULE", "blueprint"]

blueprint = Blueprint("environments", __name__)

ENVIRONMENT_RULE = "/<environment:environment>"


class EnvironmentView(MethodView):
    """``/{env}``: what the environment holds (GET, HEAD), and a reset (DELETE)."""

    init_every_request = False

    def get(self, environment: str) -> Response:
        """The environment's collections, by name, with their document counts."""
        store = get_store(environment)
        collections = [
            {"name": info.name, "count": info.count}
            for info in store.list_collections()
        ]
        body = {"environment": environment, "collections": collections}
        return json_response(encode_json(body))

    def delete(self, environment: str) -> Response:
        """Remove every collection of the environment."""
        get_store(environment).drop_all()
        return Response(status=204)


blueprint.add_url_rule(
    ENVIRONMENT_RULE, view_func=EnvironmentView.as_view("environment")
)
