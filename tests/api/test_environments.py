"""Environments: what each holds, resets, and isolation between them."""

from __future__ import annotations

import pytest

from datasource import create_app, load_config


def test_get_environment_lists_collections_with_counts(client):
    client.post("/test/books", json=[{"id": 1}, {"id": 2}])
    client.post("/test/authors", json={"id": 1})

    response = client.get("/test")

    assert response.status_code == 200
    body = response.get_json()
    assert body["environment"] == "test"
    assert sorted(body["collections"], key=lambda item: item["name"]) == [
        {"name": "authors", "count": 1},
        {"name": "books", "count": 2},
    ]


def test_get_empty_environment_lists_no_collections(client):
    assert client.get("/production").get_json() == {
        "environment": "production",
        "collections": [],
    }


def test_document_in_test_is_invisible_in_production(client, assert_problem):
    client.post("/test/books", json={"id": 1, "title": "Test only"})

    assert_problem(client.get("/production/books/1"), 404)
    assert client.get("/production/books").get_json() == []
    assert client.get("/production").get_json()["collections"] == []
    assert client.get("/test/books/1").get_json()["title"] == "Test only"


def test_same_id_in_two_environments_holds_two_documents(client):
    client.put("/test/books/1", json={"where": "test"})
    client.put("/production/books/1", json={"where": "production"})

    assert client.get("/test/books/1").get_json()["where"] == "test"
    assert client.get("/production/books/1").get_json()["where"] == "production"


def test_delete_environment_removes_its_collections_only(client):
    client.post("/test/books", json={"id": 1})
    client.post("/production/books", json={"id": 1})

    response = client.delete("/test")

    assert response.status_code == 204
    assert client.get("/test").get_json()["collections"] == []
    assert client.get("/production/books/1").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/staging", "/staging/books", "/staging/books/1", "/Production", "/test_"],
    ids=["environment", "collection", "document", "upper-case", "near-miss"],
)
def test_unknown_environment_returns_404_naming_it(client, assert_problem, path):
    problem = assert_problem(client.get(path), 404)

    assert problem["type"].endswith("/environment-not-found")
    assert "production, test" in problem["detail"]


def test_configured_environments_replace_the_defaults(tmp_path):
    config = load_config(
        {"DATASOURCE_DATA_DIR": str(tmp_path), "DATASOURCE_ENVIRONMENTS": "dev,qa"}
    )
    client = create_app(config).test_client()

    assert client.get("/dev").status_code == 200
    assert client.get("/test").status_code == 404


@pytest.mark.parametrize(
    "name",
    ["bad name", "-leading", ".hidden", "a" * 65, "semi;colon", "caf%C3%A9"],
    ids=["space", "dash", "dot", "too-long", "semicolon", "unicode"],
)
def test_invalid_collection_name_returns_400_naming_the_rule(
    client, assert_problem, name
):
    problem = assert_problem(client.get(f"/test/{name}"), 400)

    assert "collection name" in problem["detail"]


@pytest.mark.parametrize(
    "name", ["books", "Books_2", "_private", "v1.2-beta", "a" * 64], ids=str
)
def test_valid_collection_names_are_accepted(client, name):
    assert client.post(f"/test/{name}", json={"id": 1}).status_code == 201
