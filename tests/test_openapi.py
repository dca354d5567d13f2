"""The OpenAPI 3.1 document: valid, complete, and true to the running server."""

import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts as versions
from openapi_spec_validator.versions.shortcuts import get_spec_version

from datasource.api.context import get_config
from datasource.hyperschema import build_hyperschema
from datasource.openapi import NOT_APPLICABLE, build_openapi

ENVIRONMENTS = ("production", "test")
HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")

# Where each status of the contract can occur: (path, method) -> statuses.
EXPECTED_STATUSES = {
    ("/-/health", "get"): {"200", "503"},
    ("/{env}", "get"): {"200", "404", "503"},
    ("/{env}", "delete"): {"204", "404", "503"},
    ("/{env}/{collection}", "get"): {"200", "400", "404", "503"},
    ("/{env}/{collection}", "post"): {"201", "400", "404", "409", "413", "415"},
    ("/{env}/{collection}", "delete"): {"204", "404"},
    ("/{env}/{collection}/{id}", "get"): {"200", "304", "404"},
    ("/{env}/{collection}/{id}", "put"): {"200", "201", "400", "412", "413", "415"},
    ("/{env}/{collection}/{id}", "patch"): {"200", "400", "409", "412", "413", "415"},
    ("/{env}/{collection}/{id}", "delete"): {"204", "404", "412"},
}


@pytest.fixture(scope="module")
def document():
    return build_openapi(ENVIRONMENTS, max_body_bytes=1048576)


def _operations(document):
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def _resolve(document, node):
    """Follow a local $ref (one level is all this document uses)."""
    if "$ref" in node:
        kind, name = node["$ref"].split("/")[-2:]
        return document["components"][kind][name]
    return node


def _parameter_names(document, path, method):
    item = document["paths"][path]
    parameters = item.get("parameters", []) + item[method].get("parameters", [])
    return {_resolve(document, parameter)["name"] for parameter in parameters}


def _response(document, path, method, status):
    return _resolve(document, document["paths"][path][method]["responses"][status])


def test_openapi_document_is_valid_3_1(document):
    assert get_spec_version(document) == versions.OPENAPIV31

    validate(document)


@pytest.mark.parametrize(("path", "method"), sorted(EXPECTED_STATUSES))
def test_openapi_operation_lists_contract_statuses(document, path, method):
    responses = document["paths"][path][method]["responses"]

    assert EXPECTED_STATUSES[(path, method)] <= set(responses)


def test_openapi_error_responses_are_problem_json(document):
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            # gunicorn answers 414 itself, before the application runs.
            if int(status) >= 400 and status != "414":
                content = _resolve(document, response)["content"]

                assert content == {"application/problem+json": {"schema": problem}}, (
                    f"{method} {path} {status}"
                )


def test_openapi_omits_statuses_the_server_cannot_produce(document):
    for path, method, operation in _operations(document):
        assert not {"401", "403", "422", "429"} & set(operation["responses"]), (
            f"{method} {path}"
        )

    assert NOT_APPLICABLE in document["info"]["description"]


def test_openapi_operation_ids_are_unique(document):
    operation_ids = [
        operation["operationId"] for *_, operation in _operations(document)
    ]

    assert len(operation_ids) == len(set(operation_ids))


def test_openapi_list_takes_every_listing_parameter(document):
    names = _parameter_names(document, "/{env}/{collection}", "get")

    assert names >= {"limit", "offset", "sort", "fields", "q", "where", "filters"}


def test_openapi_field_filters_are_free_form_query_parameters(document):
    parameter = document["components"]["parameters"]["FieldFilters"]

    assert (parameter["in"], parameter["style"], parameter["explode"]) == (
        "query",
        "form",
        True,
    )
    assert "field[op]=value" in parameter["description"]


@pytest.mark.parametrize(
    ("path", "method", "header"),
    [
        ("/{env}/{collection}/{id}", "get", "If-None-Match"),
        ("/{env}/{collection}/{id}", "put", "If-Match"),
        ("/{env}/{collection}/{id}", "patch", "If-Match"),
        ("/{env}/{collection}/{id}", "delete", "If-Match"),
    ],
)
def test_openapi_conditional_operations_take_their_header(
    document, path, method, header
):
    assert header in _parameter_names(document, path, method)


@pytest.mark.parametrize(
    ("path", "method", "status", "headers"),
    [
        ("/{env}/{collection}", "get", "200", {"X-Total-Count", "Link"}),
        ("/{env}/{collection}", "head", "200", {"X-Total-Count", "Link"}),
        ("/{env}/{collection}", "post", "201", {"Location"}),
        ("/{env}/{collection}/{id}", "get", "200", {"ETag"}),
        ("/{env}/{collection}/{id}", "put", "201", {"ETag", "Location"}),
        ("/{env}/{collection}/{id}", "patch", "200", {"ETag"}),
        ("/{env}/{collection}/{id}", "delete", "404", {"X-Request-Id"}),
    ],
)
def test_openapi_responses_declare_contract_headers(
    document, path, method, status, headers
):
    response = _response(document, path, method, status)

    assert headers | {"X-Request-Id"} <= set(response["headers"])


def test_openapi_patch_accepts_both_patch_formats(document):
    body = _resolve(document, document["paths"]["/{env}/{collection}/{id}"]["patch"])
    content = _resolve(document, body["requestBody"])["content"]

    assert content["application/merge-patch+json"] == content["application/json"]
    assert content["application/json-patch+json"]["schema"] == {
        "$ref": "#/components/schemas/JsonPatch"
    }


def test_openapi_environment_parameter_lists_configured_environments():
    document = build_openapi(("staging",), max_body_bytes=10)
    environment = document["components"]["parameters"]["Env"]["schema"]

    assert environment["enum"] == ["staging"]


def test_openapi_body_limit_is_stated_in_413_response():
    document = build_openapi(ENVIRONMENTS, max_body_bytes=2048)
    description = document["components"]["responses"]["ContentTooLarge"]["description"]

    assert "2048 bytes" in description


@pytest.mark.parametrize(
    ("component", "definition"),
    [
        ("Document", "document"),
        ("StoredDocument", "storedDocument"),
        ("NewDocuments", "newDocuments"),
        ("MergePatch", "mergePatch"),
        ("JsonPatch", "jsonPatch"),
        ("Problem", "problem"),
        ("EnvironmentListing", "environmentListing"),
        ("Health", "health"),
    ],
)
def test_openapi_schemas_equal_hyperschema_definitions(document, component, definition):
    hyperschema = build_hyperschema(ENVIRONMENTS)

    assert (
        document["components"]["schemas"][component]
        == (hyperschema["$defs"][definition])
    )


# The application's names for the path variables the description calls
# env, collection and id.
_VARIABLES = {"environment": "env", "collection": "collection", "document_id": "id"}


def _openapi_path(rule):
    """A Werkzeug rule such as /<environment:environment> as an OpenAPI path."""
    return re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>",
        lambda match: "{" + _VARIABLES[match[1]] + "}",
        rule.rule,
    )


def _route_methods(app):
    """Each routed path with its methods, OPTIONS (answered for every path) aside."""
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "meta.get_docs_asset":
            methods = {method.lower() for method in rule.methods} - {"options"}
            routes.setdefault(_openapi_path(rule), set()).update(methods)
    return routes


def test_openapi_paths_and_methods_match_application_routes(app, document):
    described = {
        path: {method for method in HTTP_METHODS if method in item}
        for path, item in document["paths"].items()
    }
    routes = _route_methods(app)

    # Flask answers HEAD wherever it answers GET; the contract names HEAD
    # only on collections and documents, and only there is it described.
    assert {path: methods - {"head"} for path, methods in described.items()} == {
        path: methods - {"head"} for path, methods in routes.items()
    }
    for path, methods in described.items():
        assert methods <= routes[path]


def test_openapi_route_serves_document_of_configuration(app, client):
    config = get_config(app)

    response = client.get("/-/openapi.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == build_openapi(
        config.environments, max_body_bytes=config.max_body_bytes
    )
