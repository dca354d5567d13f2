"""Cross-origin use: preflight for every method, exposed headers, errors too."""

from __future__ import annotations

import pytest

from datasource import create_app, load_config

ORIGIN = "https://app.example"


def header_set(value):
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_preflight_for_each_method_succeeds(client, method):
    response = client.options(
        "/test/books/1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Content-Type, If-Match",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] in {"*", ORIGIN}
    assert method in response.headers["Access-Control-Allow-Methods"]
    allowed = header_set(response.headers["Access-Control-Allow-Headers"])
    assert {"content-type", "if-match"} <= allowed


def test_preflight_allows_conditional_and_tracing_headers(client):
    wanted = "Content-Type, If-Match, If-None-Match, X-Request-Id, Authorization"

    response = client.options(
        "/test/books",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": wanted,
        },
    )

    assert header_set(response.headers["Access-Control-Allow-Headers"]) == header_set(
        wanted
    )


@pytest.mark.parametrize(
    "path",
    ["/test/books", "/test/books/1", "/-/health", "/staging"],
    ids=["list", "document", "health", "error"],
)
def test_responses_expose_headers_browsers_need(client, path):
    client.put("/test/books/1", json={})

    response = client.get(path, headers={"Origin": ORIGIN})

    assert response.headers["Access-Control-Allow-Origin"] in {"*", ORIGIN}
    exposed = header_set(response.headers["Access-Control-Expose-Headers"])
    assert {"etag", "location", "link", "x-total-count"} <= exposed


def test_configured_origins_only_are_allowed(tmp_path):
    config = load_config(
        {"DATASOURCE_DATA_DIR": str(tmp_path), "DATASOURCE_CORS_ORIGINS": ORIGIN}
    )
    client = create_app(config).test_client()

    allowed = client.get("/-/health", headers={"Origin": ORIGIN})
    refused = client.get("/-/health", headers={"Origin": "https://other.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_request_without_origin_gets_no_cors_headers(client):
    response = client.get("/test")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_error_response_to_browser_carries_cors_headers(client):
    response = client.get("/nowhere/books/1", headers={"Origin": ORIGIN})

    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] in {"*", ORIGIN}
