"""ETags and conditional requests (RFC 9110, section 13)."""

from __future__ import annotations

import pytest


@pytest.fixture
def etag(client):
    """The ETag of document 1 of the books collection, freshly created."""
    return client.put("/test/books/1", json={"title": "A"}).headers["ETag"]


def test_get_document_etag_is_quoted_and_stable(client, etag):
    first = client.get("/test/books/1").headers["ETag"]
    second = client.get("/test/books/1").headers["ETag"]

    assert first == second == etag
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


@pytest.mark.parametrize(
    "method_and_body",
    [("put", {"title": "B"}), ("patch", {"title": "B"})],
    ids=["put", "patch"],
)
def test_write_changes_etag(client, etag, method_and_body):
    method, body = method_and_body

    response = getattr(client, method)("/test/books/1", json=body)

    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert client.get("/test/books/1").headers["ETag"] == response.headers["ETag"]


@pytest.mark.parametrize(
    "condition",
    ["{etag}", "*", "W/{etag}", '"other", {etag}'],
    ids=["same", "star", "weak", "list"],
)
@pytest.mark.parametrize("method", ["get", "head"])
def test_if_none_match_matching_returns_304_without_body(
    client, etag, condition, method
):
    headers = {"If-None-Match": condition.format(etag=etag)}

    response = getattr(client, method)("/test/books/1", headers=headers)

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag


def test_if_none_match_stale_returns_200(client, etag):
    response = client.get("/test/books/1", headers={"If-None-Match": '"stale"'})

    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "title": "A"}


@pytest.mark.parametrize(
    "condition",
    ["{etag}", "*", '"other", {etag}'],
    ids=["same", "star", "list"],
)
@pytest.mark.parametrize(
    ("method", "body", "status"),
    [
        ("put", {"title": "B"}, 200),
        ("patch", {"title": "B"}, 200),
        ("delete", None, 204),
    ],
    ids=["put", "patch", "delete"],
)
def test_if_match_current_allows_write(client, etag, condition, method, body, status):
    headers = {"If-Match": condition.format(etag=etag)}

    response = getattr(client, method)("/test/books/1", json=body, headers=headers)

    assert response.status_code == status


@pytest.mark.parametrize(
    "condition", ['"stale"', "W/{etag}", '"a", "b"'], ids=["stale", "weak", "list"]
)
@pytest.mark.parametrize(
    ("method", "body"),
    [("put", {"title": "B"}), ("patch", {"title": "B"}), ("delete", None)],
    ids=["put", "patch", "delete"],
)
def test_if_match_stale_returns_412_and_changes_nothing(
    client, assert_problem, etag, condition, method, body
):
    headers = {"If-Match": condition.format(etag=etag)}

    response = getattr(client, method)("/test/books/1", json=body, headers=headers)

    assert assert_problem(response, 412)["type"].endswith("/version-mismatch")
    current = client.get("/test/books/1")
    assert current.get_json() == {"id": 1, "title": "A"}
    assert current.headers["ETag"] == etag


@pytest.mark.parametrize(
    ("method", "body"),
    [("put", {"title": "B"}), ("patch", {"title": "B"}), ("delete", None)],
    ids=["put", "patch", "delete"],
)
def test_if_match_star_on_missing_document_returns_412(
    client, assert_problem, method, body
):
    headers = {"If-Match": "*"}

    response = getattr(client, method)("/test/books/9", json=body, headers=headers)

    assert_problem(response, 412)
    assert client.get("/test/books/9").status_code == 404


def test_if_none_match_star_on_put_creates_absent_document(client):
    response = client.put(
        "/test/books/2", json={"title": "B"}, headers={"If-None-Match": "*"}
    )

    assert response.status_code == 201
    assert response.headers["Location"] == "http://localhost/test/books/2"


def test_if_none_match_star_on_put_existing_returns_412(client, assert_problem, etag):
    response = client.put(
        "/test/books/1", json={"title": "B"}, headers={"If-None-Match": "*"}
    )

    assert_problem(response, 412)
    assert client.get("/test/books/1").get_json()["title"] == "A"


def test_read_modify_write_with_stale_etag_loses_no_update(client, etag):
    first = client.put(
        "/test/books/1", json={"title": "first"}, headers={"If-Match": etag}
    )
    second = client.put(
        "/test/books/1", json={"title": "second"}, headers={"If-Match": etag}
    )

    assert (first.status_code, second.status_code) == (200, 412)
    assert client.get("/test/books/1").get_json()["title"] == "first"
