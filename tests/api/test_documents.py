"""Creating, reading, replacing and deleting documents through HTTP."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def test_post_object_without_id_returns_201_with_generated_id(client):
    response = client.post("/test/books", json={"title": "Unlocking Android"})

    assert response.status_code == 201
    document = response.get_json()
    assert OBJECT_ID.fullmatch(document["id"])
    assert document["title"] == "Unlocking Android"
    assert (
        response.headers["Location"] == f"http://localhost/test/books/{document['id']}"
    )
    assert response.headers["ETag"].startswith('"')


def test_post_object_with_integer_id_keeps_integer(client):
    response = client.post("/test/books", json={"id": 1, "title": "A"})

    assert response.status_code == 201
    assert client.get("/test/books/1").get_json() == {"id": 1, "title": "A"}


def test_post_object_with_string_id_found_by_its_text(client):
    client.post("/test/books", json={"id": "1", "title": "A"})

    assert client.get("/test/books/1").get_json()["id"] == "1"


def test_post_taken_id_returns_409(client, assert_problem):
    client.post("/test/books", json={"id": 1})

    response = client.post("/test/books", json={"id": "1"})

    assert assert_problem(response, 409)["type"].endswith("/duplicate-document")


def test_post_array_creates_all_and_returns_them(client):
    documents = [{"id": 1, "n": 1}, {"id": "two", "n": 2}, {"n": 3}]

    response = client.post("/test/books", json=documents)

    assert response.status_code == 201
    created = response.get_json()
    assert [document["n"] for document in created] == [1, 2, 3]
    assert created[:2] == documents[:2]
    assert client.get("/test/books").headers["X-Total-Count"] == "3"


def test_post_array_with_taken_id_creates_none_and_names_element(
    client, assert_problem
):
    client.post("/test/books", json={"id": 7})

    response = client.post("/test/books", json=[{"id": 5}, {"id": 6}, {"id": 7}])

    problem = assert_problem(response, 409)
    assert [error["path"] for error in problem["errors"]] == ["/2/id"]
    assert client.get("/test/books").get_json() == [{"id": 7}]


@pytest.mark.parametrize(
    ("documents", "paths"),
    [
        ([{"id": 1}, 2, {"id": 3}], ["/1"]),
        ([{"id": "a/b"}], ["/0/id"]),
        ([{}, {"id": True}, {"id": 1.5}], ["/1/id", "/2/id"]),
        ([{"id": ""}, "x"], ["/0/id", "/1"]),
    ],
    ids=["non-object", "slash-in-id", "wrong-id-types", "empty-id-and-string"],
)
def test_post_array_with_bad_elements_returns_400_naming_each(
    client, assert_problem, documents, paths
):
    response = client.post("/test/books", json=documents)

    problem = assert_problem(response, 400)
    assert [error["path"] for error in problem["errors"]] == paths
    assert client.get("/test/books").get_json() == []


def test_post_array_with_repeated_id_creates_none(client, assert_problem):
    response = client.post("/test/books", json=[{"id": 1}, {"id": 1}])

    assert_problem(response, 409)
    assert client.get("/test/books").get_json() == []


def test_post_empty_array_returns_400(client, assert_problem):
    problem = assert_problem(client.post("/test/books", json=[]), 400)

    assert "empty" in problem["detail"]


def test_get_missing_document_returns_404(client, assert_problem):
    problem = assert_problem(client.get("/test/books/nothing"), 404)

    assert problem["type"].endswith("/document-not-found")
    assert "'nothing'" in problem["detail"]


def test_head_document_returns_headers_without_body(client):
    created = client.post("/test/books", json={"id": 1, "title": "A"})

    response = client.head("/test/books/1")

    assert response.status_code == 200
    assert response.headers["ETag"] == created.headers["ETag"]
    assert response.data == b""


def test_put_absent_integer_id_creates_with_integer_id(client):
    response = client.put("/test/books/7", json={"title": "New"})

    assert response.status_code == 201
    assert response.get_json() == {"id": 7, "title": "New"}
    assert response.headers["Location"] == "http://localhost/test/books/7"
    assert "ETag" in response.headers


@pytest.mark.parametrize(
    "segment", ["007", "-0", "1.0", "abc", "99999999999999999999"], ids=str
)
def test_put_non_canonical_integer_segment_creates_string_id(client, segment):
    response = client.put(f"/test/books/{segment}", json={})

    assert response.status_code == 201
    assert response.get_json()["id"] == segment


def test_put_negative_integer_segment_creates_integer_id(client):
    assert client.put("/test/books/-5", json={}).get_json()["id"] == -5


def test_put_existing_document_replaces_it_whole(client):
    client.post("/test/books", json={"id": 1, "title": "Old", "pages": 10})

    response = client.put("/test/books/1", json={"title": "New"})

    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "title": "New"}
    assert client.get("/test/books/1").get_json() == {"id": 1, "title": "New"}


def test_put_existing_string_id_keeps_its_type(client):
    client.post("/test/books", json={"id": "1", "title": "Old"})

    response = client.put("/test/books/1", json={"id": 1, "title": "New"})

    assert response.get_json() == {"id": "1", "title": "New"}


@pytest.mark.parametrize(
    ("segment", "body_id"),
    [("1", 2), ("1", "01"), ("01", 1), ("true", True), ("1", 1.0), ("x", None)],
    ids=["other-int", "padded-string", "padded-segment", "bool", "float", "null"],
)
def test_put_body_id_differing_from_path_returns_400(
    client, assert_problem, segment, body_id
):
    response = client.put(f"/test/books/{segment}", json={"id": body_id})

    problem = assert_problem(response, 400)
    assert problem["errors"][0]["path"] == "/id"


def test_put_body_id_equal_to_path_is_accepted(client):
    response = client.put("/test/books/abc", json={"id": "abc", "n": 1})

    assert response.status_code == 201
    assert response.get_json() == {"id": "abc", "n": 1}


@pytest.mark.parametrize(
    ("path", "document_id"),
    [
        ("/test/books/a%20b", "a b"),
        ("/test/books/caf%C3%A9%20%E2%98%95", "café ☕"),
        ("/test/books/100%25", "100%"),
        ("/test/books/a+b", "a+b"),
        ("/test/books/%3F%23%26", "?#&"),
    ],
    ids=["space", "unicode", "percent", "plus", "reserved"],
)
def test_put_and_get_id_needing_encoding_round_trip(client, path, document_id):
    created = client.put(path, json={"n": 1})

    assert created.status_code == 201
    assert created.get_json()["id"] == document_id
    location = created.headers["Location"].removeprefix("http://localhost")
    assert unquote(location) == f"/test/books/{document_id}"
    assert client.get(location).get_json() == {"id": document_id, "n": 1}


@pytest.mark.parametrize(
    "path",
    ["/test/books/a%2Fb", "/test/books/a/b", "/test/books/a%2F"],
    ids=["encoded-slash", "literal-slash", "trailing-encoded-slash"],
)
@pytest.mark.parametrize(
    "headers", [{}, {"If-None-Match": "*"}], ids=["upsert", "create-only"]
)
def test_put_id_with_slash_returns_400(client, assert_problem, path, headers):
    problem = assert_problem(client.put(path, json={}, headers=headers), 400)

    assert "'/'" in problem["detail"]
    assert client.get("/test/books").get_json() == []


@pytest.mark.parametrize("segment", [".", ".."])
def test_put_dot_segment_id_returns_400(client, assert_problem, segment):
    problem = assert_problem(client.put(f"/test/books/{segment}", json={}), 400)

    assert "cannot be addressed in a URL" in problem["detail"]


def test_post_id_with_slash_returns_400(client, assert_problem):
    problem = assert_problem(client.post("/test/books", json={"id": "a/b"}), 400)

    assert "'/'" in problem["detail"]


def test_get_id_with_encoded_slash_returns_404(client, assert_problem):
    assert_problem(client.get("/test/books/a%2Fb"), 404)


def test_delete_document_returns_204_then_404(client, assert_problem):
    client.post("/test/books", json={"id": 1})

    assert client.delete("/test/books/1").status_code == 204
    assert_problem(client.get("/test/books/1"), 404)
    assert_problem(client.delete("/test/books/1"), 404)


def test_delete_collection_returns_204_and_empties_it(client):
    client.post("/test/books", json=[{"id": 1}, {"id": 2}])

    response = client.delete("/test/books")

    assert response.status_code == 204
    assert client.get("/test/books").get_json() == []


def test_delete_never_written_collection_returns_204(client):
    assert client.delete("/test/nothing").status_code == 204


@pytest.mark.parametrize(
    "document",
    [
        {"int": 1, "negative": -7, "float": 1.5, "whole_float": 2.0},
        {"big": 9007199254740993, "max": 2**63 - 1, "min": -(2**63)},
        {"text": "héllo ☕ 😀", "empty": "", "null": None, "flags": [True, False]},
        {"nested": {"a": [1, {"b": [[], {}]}], "c": {"d": None}}},
        {"a.b": 1, "with space": 2, "$leading": 3, "": 4, "ключ": 5},
    ],
    ids=["numbers", "64-bit", "strings", "nested", "field-names"],
)
def test_document_values_round_trip_exactly(client, document):
    created = client.put("/test/things/1", json=document)

    stored = client.get("/test/things/1")

    assert created.get_json() == stored.get_json() == {"id": 1, **document}
    for name, value in document.items():
        assert type(stored.get_json()[name]) is type(value)


def test_big_integer_reads_back_as_exact_digits(client):
    client.post(
        "/test/numbers",
        data=b'{"id": 1, "n": 9007199254740993}',
        content_type="application/json",
    )

    assert b'"n":9007199254740993' in client.get("/test/numbers/1").data


@pytest.mark.parametrize(
    ("base_url", "root"),
    [
        ("http://localhost", "http://localhost/"),
        ("https://api.example.org", "https://api.example.org/"),
        ("http://api.example.org:8080", "http://api.example.org:8080/"),
        ("https://api.example.org:443", "https://api.example.org/"),
        ("http://example.org/mounted/here", "http://example.org/mounted/here/"),
    ],
)
def test_location_follows_each_requests_scheme_host_and_mount_point(
    client, base_url, root
):
    # Alternating hosts checks that a URL built for one is never reused for another.
    for _ in range(2):
        response = client.post("/test/books", json={"title": "A"}, base_url=base_url)
        other = client.post("/test/books", json={"title": "B"})

        document_id = response.get_json()["id"]
        assert response.headers["Location"] == f"{root}test/books/{document_id}"
        assert other.headers["Location"].startswith("http://localhost/test/books/")
