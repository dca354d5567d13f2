"""The server's own endpoints and behaviour: health, request ids, logs, 5xx."""

from __future__ import annotations

import logging

import pytest

from datasource import ConfigurationError, create_app, load_config
from datasource.api.context import get_environments
from datasource.errors import StoreUnavailable


def test_health_returns_ok_with_each_environment(client):
    response = client.get("/-/health")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "environments": {"production": "ok", "test": "ok"},
    }


def test_health_with_unreachable_store_returns_503_naming_it(
    app, client, assert_problem, monkeypatch
):
    store = get_environments(app).store("test")

    def refuse():
        raise StoreUnavailable("The server at db.invalid does not answer.")

    monkeypatch.setattr(store, "ping", refuse)

    problem = assert_problem(client.get("/-/health"), 503)
    assert problem["environments"] == {"production": "ok", "test": "unavailable"}
    assert "'test'" in problem["detail"]
    assert "db.invalid" in problem["detail"]


def test_store_failure_in_request_returns_503(app, client, assert_problem, monkeypatch):
    store = get_environments(app).store("test")

    def refuse(*args):
        raise StoreUnavailable("The store is down.")

    monkeypatch.setattr(store, "find_one", refuse)

    assert_problem(client.get("/test/books/1"), 503)


def test_unexpected_failure_returns_generic_500_and_logs_request_id(
    app, client, assert_problem, monkeypatch, caplog
):
    store = get_environments(app).store("test")

    def explode(*args):
        raise RuntimeError("secret internal state")

    monkeypatch.setattr(store, "find_one", explode)

    with caplog.at_level(logging.INFO, logger="datasource"):
        response = client.get("/test/books/1", headers={"X-Request-Id": "req-500"})

    problem = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "req-500" in problem["detail"]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "req-500" in errors[0].getMessage()
    assert errors[0].exc_info[0] is RuntimeError


def test_store_without_operation_returns_501(app, client, assert_problem, monkeypatch):
    store = get_environments(app).store("test")

    def unsupported(*args):
        raise NotImplementedError("This store cannot list collections.")

    monkeypatch.setattr(store, "list_collections", unsupported)

    problem = assert_problem(client.get("/test"), 501)
    assert problem["detail"] == "This store cannot list collections."


def test_request_id_from_client_is_echoed(client):
    response = client.get("/-/health", headers={"X-Request-Id": "abc-123.x:y_z"})

    assert response.headers["X-Request-Id"] == "abc-123.x:y_z"


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("bad id\tInjected: 1", "badidInjected:1"),
        ("<script>", "script"),
        ("x" * 500, "x" * 128),
    ],
    ids=["control-characters", "markup", "too-long"],
)
def test_request_id_from_client_is_sanitised(client, sent, expected):
    response = client.get("/-/health", headers={"X-Request-Id": sent})

    assert response.headers["X-Request-Id"] == expected


@pytest.mark.parametrize("sent", [None, "", "!!!"], ids=["absent", "empty", "unsafe"])
def test_request_id_is_generated_when_none_usable(client, sent):
    headers = {} if sent is None else {"X-Request-Id": sent}

    first = client.get("/-/health", headers=headers).headers["X-Request-Id"]
    second = client.get("/-/health", headers=headers).headers["X-Request-Id"]

    assert len(first) == 32 and first != second


def test_error_responses_carry_request_id(client):
    response = client.get("/staging", headers={"X-Request-Id": "req-404"})

    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "req-404"


def test_each_request_logs_one_info_line_without_body(client, caplog):
    with caplog.at_level(logging.INFO, logger="datasource"):
        client.post(
            "/test/books?x=1",
            json={"secret": "hunter2"},
            headers={"X-Request-Id": "req-1", "Authorization": "Bearer token"},
        )

    lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "datasource.api.tracing"
    ]
    assert len(lines) == 1
    method, path, status, duration, request_id = lines[0].split(" ")
    assert (method, path, status, request_id) == (
        "POST",
        "/test/books",
        "201",
        "request_id=req-1",
    )
    assert duration.endswith("ms")
    assert "hunter2" not in caplog.text and "token" not in caplog.text


def test_log_line_escapes_control_characters_in_path(client, caplog):
    with caplog.at_level(logging.INFO, logger="datasource.api.tracing"):
        client.get("/test/books/a%0Ab")

    assert "/test/books/a%0Ab" in caplog.records[-1].getMessage()


def test_log_level_from_config_is_applied(tmp_path):
    create_app(
        load_config(
            {"DATASOURCE_DATA_DIR": str(tmp_path), "DATASOURCE_LOG_LEVEL": "warning"}
        )
    )

    assert logging.getLogger("datasource").level == logging.WARNING
    logging.getLogger("datasource").setLevel(logging.NOTSET)


def test_invalid_log_level_stops_startup_naming_setting(tmp_path):
    config = load_config(
        {"DATASOURCE_DATA_DIR": str(tmp_path), "DATASOURCE_LOG_LEVEL": "loud"}
    )

    with pytest.raises(ConfigurationError, match="DATASOURCE_LOG_LEVEL"):
        create_app(config)


def test_package_adds_no_log_handlers(client):
    client.get("/-/nothing")

    assert logging.getLogger("datasource").handlers == []
    assert logging.getLogger("datasource.app").handlers == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/test/books/1", {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"}),
        ("PUT", "/test/books", {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}),
        ("PATCH", "/test", {"GET", "HEAD", "DELETE", "OPTIONS"}),
        ("DELETE", "/-/health", {"GET", "HEAD", "OPTIONS"}),
    ],
    ids=["document", "collection", "environment", "health"],
)
def test_wrong_method_returns_405_with_allow(
    client, assert_problem, method, path, allowed
):
    response = client.open(path, method=method, json={})

    problem = assert_problem(response, 405)
    assert problem["type"] == "about:blank"
    assert set(response.headers["Allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    "path", ["/", "/-/health", "/test", "/test/books", "/test/books/1"]
)
def test_options_answers_everywhere_with_allow(client, path):
    response = client.options(path)

    assert response.status_code == 200
    assert "OPTIONS" in response.headers["Allow"]


@pytest.mark.parametrize(
    "path", ["/-/nothing", "/-/health/x", "/-", "/-/", "/test//books", "/test/books//1"]
)
def test_server_paths_never_reach_environments(client, assert_problem, path):
    problem = assert_problem(client.get(path), 404)

    assert problem["type"] == "about:blank"
