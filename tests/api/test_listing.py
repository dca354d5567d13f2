"""Listing a collection: the array, X-Total-Count, Link (RFC 8288), HEAD."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.http import parse_list_header

from datasource.api.listing import page_offsets


def parse_links(header):
    """Map each rel of a Link header to (path, query pairs)."""
    links = {}
    for item in parse_list_header(header):
        target, _, parameters = item.partition(";")
        relation = parameters.strip().removeprefix('rel="').removesuffix('"')
        url = urlsplit(target.strip().removeprefix("<").removesuffix(">"))
        assert (url.scheme, url.netloc) == ("http", "localhost")
        links[relation] = (url.path, parse_qsl(url.query))
    return links


@pytest.fixture
def books(client):
    documents = [{"id": number, "pages": number * 100} for number in range(1, 8)]
    client.post("/test/books", json=documents)
    return documents


def test_list_never_written_collection_returns_empty_array(client):
    response = client.get("/test/nothing")

    assert response.status_code == 200
    assert response.get_json() == []
    assert response.headers["X-Total-Count"] == "0"


def test_list_returns_bare_array_with_total(client, books):
    response = client.get("/test/books")

    assert response.mimetype == "application/json"
    assert response.get_json() == books
    assert response.headers["X-Total-Count"] == "7"


def test_list_page_has_total_of_all_matches(client, books):
    response = client.get("/test/books?limit=2&offset=2")

    assert [document["id"] for document in response.get_json()] == [3, 4]
    assert response.headers["X-Total-Count"] == "7"


def test_list_link_header_names_all_pages_and_keeps_parameters(client, books):
    response = client.get("/test/books?pages[gte]=200&sort=-pages&limit=2&offset=2")

    links = parse_links(response.headers["Link"])

    kept = [("pages[gte]", "200"), ("sort", "-pages")]
    assert links == {
        "first": ("/test/books", [*kept, ("limit", "2"), ("offset", "0")]),
        "prev": ("/test/books", [*kept, ("limit", "2"), ("offset", "0")]),
        "next": ("/test/books", [*kept, ("limit", "2"), ("offset", "4")]),
        "last": ("/test/books", [*kept, ("limit", "2"), ("offset", "4")]),
    }
    assert response.headers["X-Total-Count"] == "6"


def test_list_links_followed_from_first_reach_every_document(client, books):
    seen = []
    path, query = "/test/books", [("limit", "3")]
    while True:
        response = client.get(path, query_string=query)
        seen.extend(document["id"] for document in response.get_json())
        links = parse_links(response.headers["Link"])
        if "next" not in links:
            break
        path, query = links["next"]

    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert links["last"] == (path, query)


@pytest.mark.parametrize(
    ("total", "limit", "offset", "pages"),
    [
        (0, 100, 0, {"first": 0, "last": 0}),
        (7, 100, 0, {"first": 0, "last": 0}),
        (7, 2, 0, {"first": 0, "next": 2, "last": 6}),
        (7, 2, 2, {"first": 0, "prev": 0, "next": 4, "last": 6}),
        (7, 2, 6, {"first": 0, "prev": 4, "last": 6}),
        (7, 2, 1, {"first": 0, "prev": 0, "next": 3, "last": 5}),
        (6, 2, 4, {"first": 0, "prev": 2, "last": 4}),
        (7, 2, 20, {"first": 0, "prev": 6, "last": 6}),
        (7, 0, 0, {"first": 0}),
    ],
    ids=[
        "empty",
        "one-page",
        "first-page",
        "middle-page",
        "last-page",
        "unaligned-offset",
        "exact-fit",
        "past-the-end",
        "limit-zero",
    ],
)
def test_page_offsets_give_each_existing_relation(total, limit, offset, pages):
    assert page_offsets(total, limit, offset) == pages


def test_head_list_returns_same_headers_without_body(client, books):
    get = client.get("/test/books?limit=3")

    head = client.head("/test/books?limit=3")

    assert head.status_code == 200
    assert head.data == b""
    for name in ("X-Total-Count", "Link", "Content-Type"):
        assert head.headers[name] == get.headers[name]


def test_list_fields_returns_only_id_and_fields(client):
    client.post("/test/books", json={"id": 1, "title": "A", "author": {"name": "N"}})

    response = client.get("/test/books?fields=title")

    assert response.get_json() == [{"id": 1, "title": "A"}]


def test_list_filter_and_sort_reach_the_store(client, books):
    response = client.get("/test/books?pages[gt]=400&sort=-pages")

    assert [document["id"] for document in response.get_json()] == [7, 6, 5]
    assert response.headers["X-Total-Count"] == "3"


@pytest.mark.parametrize(
    "query_string",
    ["limit=5000", "limit=-1", "offset=x", "pages[like]=3", "where={bad", "sort=a..b"],
    ids=[
        "limit-too-big",
        "negative-limit",
        "bad-offset",
        "unknown-operator",
        "bad-where",
        "bad-sort-path",
    ],
)
def test_list_bad_query_parameter_returns_400(client, assert_problem, query_string):
    response = client.get(f"/test/books?{query_string}")

    problem = assert_problem(response, 400)
    assert problem["type"].endswith("/invalid-query")


def test_list_links_use_the_requests_host_and_mount_point(client, books):
    response = client.get(
        "/test/books?limit=2", base_url="https://api.example.org/mounted"
    )

    for link in response.headers["Link"].split(", "):
        assert link.startswith("<https://api.example.org/mounted/test/books?limit=2&")
