"""PATCH as JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902)."""

from __future__ import annotations

import json
import threading

import pytest

from datasource.api.patching import merge_patch

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


def send_patch(client, path, body, content_type, **kwargs):
    return client.patch(
        path, data=json.dumps(body), content_type=content_type, **kwargs
    )


@pytest.fixture
def book(client):
    document = {
        "id": 1,
        "title": "A",
        "author": {"name": "N", "born": 1970},
        "tags": ["x"],
    }
    client.put("/test/books/1", json=document)
    return document


# The examples of RFC 7396, appendix A.
@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
    ids=[f"rfc7396-a-{number}" for number in range(1, 16)],
)
def test_merge_patch_rfc_examples_give_rfc_results(target, patch, result):
    assert merge_patch(target, patch) == result


def test_merge_patch_leaves_target_unchanged():
    target = {"a": {"b": 1}}

    merge_patch(target, {"a": {"b": None}})

    assert target == {"a": {"b": 1}}


@pytest.mark.parametrize("content_type", [MERGE_PATCH, "application/json"])
def test_patch_merge_sets_removes_and_merges_nested(client, book, content_type):
    patch = {"title": "B", "tags": None, "author": {"born": None, "died": 2020}}

    response = send_patch(client, "/test/books/1", patch, content_type)

    expected = {"id": 1, "title": "B", "author": {"name": "N", "died": 2020}}
    assert response.status_code == 200
    assert response.get_json() == expected
    assert client.get("/test/books/1").get_json() == expected
    assert response.headers["ETag"] == client.get("/test/books/1").headers["ETag"]


def test_patch_json_patch_applies_operations_in_order(client, book):
    operations = [
        {"op": "test", "path": "/title", "value": "A"},
        {"op": "replace", "path": "/title", "value": "B"},
        {"op": "add", "path": "/tags/-", "value": "y"},
        {"op": "remove", "path": "/author/born"},
        {"op": "copy", "from": "/title", "path": "/subtitle"},
        {"op": "move", "from": "/author", "path": "/writer"},
    ]

    response = send_patch(client, "/test/books/1", operations, JSON_PATCH)

    assert response.status_code == 200
    assert response.get_json() == {
        "id": 1,
        "title": "B",
        "subtitle": "B",
        "tags": ["x", "y"],
        "writer": {"name": "N"},
    }


def test_patch_json_patch_failing_test_returns_409_and_changes_nothing(
    client, assert_problem, book
):
    operations = [
        {"op": "replace", "path": "/title", "value": "B"},
        {"op": "test", "path": "/author/born", "value": 1980},
    ]

    response = send_patch(client, "/test/books/1", operations, JSON_PATCH)

    problem = assert_problem(response, 409)
    assert problem["type"].endswith("/patch-test-failed")
    assert "'/author/born'" in problem["detail"]
    assert client.get("/test/books/1").get_json() == book


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "remove", "path": "/missing"}],
        [{"op": "replace", "path": "/missing/deeper", "value": 1}],
        [{"op": "add", "path": "/tags/5", "value": 1}],
        [{"op": "add", "path": "/tags/x", "value": 1}],
    ],
    ids=["remove-missing", "replace-missing", "index-out-of-range", "bad-index"],
)
def test_patch_json_patch_not_fitting_document_returns_409(
    client, assert_problem, book, operations
):
    response = send_patch(client, "/test/books/1", operations, JSON_PATCH)

    assert assert_problem(response, 409)["type"].endswith("/patch-conflict")
    assert client.get("/test/books/1").get_json() == book


@pytest.mark.parametrize(
    "operations",
    [
        {"op": "add", "path": "/a", "value": 1},
        [{"op": "jump", "path": "/a"}],
        [{"path": "/a"}],
        [{"op": "add", "path": "/a"}],
        [{"op": "add", "path": "a", "value": 1}],
        [{"op": "move", "path": "/a"}],
        ["add"],
        [1],
    ],
    ids=[
        "object-not-array",
        "unknown-op",
        "missing-op",
        "missing-value",
        "pointer-without-slash",
        "missing-from",
        "string-operation",
        "number-operation",
    ],
)
def test_patch_invalid_json_patch_returns_400(client, assert_problem, book, operations):
    response = send_patch(client, "/test/books/1", operations, JSON_PATCH)

    assert assert_problem(response, 400)["type"].endswith("/invalid-patch")


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        (MERGE_PATCH, {"id": 2}),
        (MERGE_PATCH, {"id": "1"}),
        (MERGE_PATCH, {"id": None}),
        (JSON_PATCH, [{"op": "remove", "path": "/id"}]),
        (JSON_PATCH, [{"op": "replace", "path": "/id", "value": 1.5}]),
        (JSON_PATCH, [{"op": "move", "from": "/id", "path": "/old"}]),
    ],
    ids=["merge-other", "merge-string", "merge-remove", "remove", "float", "move"],
)
def test_patch_changing_id_returns_400(
    client, assert_problem, book, content_type, patch
):
    response = send_patch(client, "/test/books/1", patch, content_type)

    problem = assert_problem(response, 400)
    assert problem["errors"] == [{"path": "/id", "message": "Must stay unchanged."}]
    assert client.get("/test/books/1").get_json() == book


def test_patch_keeping_same_id_is_accepted(client, book):
    response = send_patch(client, "/test/books/1", {"id": 1, "title": "B"}, MERGE_PATCH)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        (MERGE_PATCH, ["not", "an", "object"]),
        (MERGE_PATCH, "text"),
        (JSON_PATCH, [{"op": "replace", "path": "", "value": [1]}]),
    ],
    ids=["merge-array", "merge-string", "json-patch-root-array"],
)
def test_patch_making_non_object_returns_400(
    client, assert_problem, book, content_type, patch
):
    response = send_patch(client, "/test/books/1", patch, content_type)

    assert_problem(response, 400)
    assert client.get("/test/books/1").get_json() == book


@pytest.mark.parametrize("content_type", [MERGE_PATCH, JSON_PATCH])
def test_patch_missing_document_returns_404(client, assert_problem, content_type):
    body = [] if content_type == JSON_PATCH else {}

    response = send_patch(client, "/test/books/404", body, content_type)

    assert assert_problem(response, 404)["type"].endswith("/document-not-found")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/vnd.api+json", "application/x-www-form-urlencoded"],
)
def test_patch_unsupported_media_type_returns_415(
    client, assert_problem, book, content_type
):
    response = client.patch(
        "/test/books/1", data=b'{"title": "B"}', content_type=content_type
    )

    problem = assert_problem(response, 415)
    assert "application/json-patch+json" in problem["detail"]


def test_concurrent_patches_without_if_match_lose_no_update(app, client):
    client.put("/test/counters/1", json={})
    workers = 8
    statuses = []

    def set_field(number):
        response = app.test_client().patch(
            "/test/counters/1", json={f"field{number}": number}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=set_field, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * workers
    document = client.get("/test/counters/1").get_json()
    assert document == {"id": 1, **{f"field{n}": n for n in range(workers)}}
