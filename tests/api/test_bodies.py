"""Hostile and malformed request bodies: every one a 4xx problem, none a 500."""

from __future__ import annotations

import io

import pytest

from datasource.api.context import get_config

MIB = 1024 * 1024


class UnreadableStream(io.BytesIO):
    """A body whose bytes fail the test if the server reads any of them.

    The test client measures it by seeking, so it is a real buffer; only
    reading is refused.
    """

    def read(self, size=-1):
        raise AssertionError("the server read a body it should have refused")

    readinto = read


class UnsizedStream(io.BytesIO):
    """A body of unknown length, as a chunked request delivers it."""


def post_raw(client, data, content_type="application/json", path="/test/books"):
    return client.post(path, data=data, content_type=content_type)


def test_body_over_limit_returns_413_before_reading(client, assert_problem):
    response = client.post(
        "/test/books",
        input_stream=UnreadableStream(b"{" + b" " * (2 * MIB) + b"}"),
        content_type="application/json",
    )

    problem = assert_problem(response, 413)
    assert "1048576 bytes" in problem["detail"]


def test_body_over_limit_with_real_bytes_returns_413(client, assert_problem):
    body = b'{"x": "' + b"a" * (2 * MIB) + b'"}'

    assert_problem(post_raw(client, body), 413)


def test_chunked_body_over_limit_returns_413(client, assert_problem):
    body = b'{"x": "' + b"a" * MIB + b'"}'

    response = client.post(
        "/test/books",
        input_stream=UnsizedStream(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )

    assert_problem(response, 413)


def test_chunked_body_under_limit_is_accepted(client):
    response = client.post(
        "/test/books",
        input_stream=UnsizedStream(b'{"id": 1}'),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
    )

    assert response.status_code == 201


def test_body_at_limit_is_accepted(client):
    padding = 1 * MIB - len(b'{"id":1,"x":""}')
    body = b'{"id":1,"x":"' + b"a" * padding + b'"}'

    assert len(body) == MIB
    assert post_raw(client, body).status_code == 201


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "multipart/form-data",
        "application/jsonx",
        "application/json; charset=latin-1",
        None,
    ],
    ids=["text", "xml", "form", "near-miss", "latin-1", "missing"],
)
def test_post_non_json_media_type_returns_415(client, assert_problem, content_type):
    response = post_raw(client, b'{"a": 1}', content_type=content_type)

    assert assert_problem(response, 415)["type"].endswith("/unsupported-media-type")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/ld+json",
        "APPLICATION/JSON",
    ],
    ids=["json", "charset", "suffix", "upper-case"],
)
def test_post_json_media_types_are_accepted(client, content_type):
    assert post_raw(client, b'{"a": 1}', content_type=content_type).status_code == 201


def test_post_without_body_returns_400(client, assert_problem):
    problem = assert_problem(client.post("/test/books"), 400)

    assert "needs a JSON body" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"a": 1,}', "line 1, column 9"),
        (b'{"a":\n  tru}', "line 2, column 3"),
        (b'{"a": 1} {"b": 2}', "Extra data at line 1, column 10"),
        (b"", "needs a JSON body"),
        (b"   ", "Expecting value"),
        (b"{'a': 1}", "property name enclosed in double quotes"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": -Infinity}', "-Infinity"),
        (b'{"a": 1e999}', "1e999"),
        (b'{"a": 1, "a": 2}', "repeats the key 'a'"),
        (b'{"o": {"k": 1, "k": 1}}', "repeats the key 'k'"),
        (b'{"a": "\xff"}', "not valid UTF-8: byte 0xff at offset 7"),
        (b'{"a": "\xed\xa0\x80"}', "not valid UTF-8"),
        (b'{"a": "\\ud800"}', "lone surrogate"),
        (b'{"a": ["\\udc00x"]}', "lone surrogate"),
        (b'{"\\ud83d": 1}', "lone surrogate"),
        (b'\xef\xbb\xbf{"a": 1}', "byte order mark"),
        (b'{"a": 18446744073709551616}', "outside the signed 64-bit range"),
        (b'{"a": 9223372036854775808}', "outside the signed 64-bit range"),
        (b'{"a": -9223372036854775809}', "outside the signed 64-bit range"),
        (b'{"a": ' + b"9" * 5000 + b"}", "outside the signed 64-bit range"),
        (b"[" * 65 + b"]" * 65, "65 levels deep; at most 64"),
        (b'{"a":' * 100_000, "100000 levels deep"),
        (b"[" * 200_000, "200000 levels deep"),
    ],
    ids=[
        "trailing-comma",
        "bad-literal",
        "trailing-garbage",
        "empty",
        "blank",
        "single-quotes",
        "nan",
        "infinity",
        "negative-infinity",
        "float-overflow",
        "duplicate-key",
        "nested-duplicate-key",
        "invalid-utf8",
        "encoded-surrogate",
        "lone-high-surrogate",
        "lone-low-surrogate-in-array",
        "lone-surrogate-in-key",
        "bom",
        "2**64",
        "2**63",
        "below-int64",
        "5000-digits",
        "depth-65",
        "depth-100000-objects",
        "depth-200000-unclosed",
    ],
)
def test_post_malformed_json_returns_400_saying_what(
    client, assert_problem, body, fragment
):
    problem = assert_problem(post_raw(client, body), 400)

    assert fragment in problem["detail"]


@pytest.mark.parametrize(
    ("body", "number"),
    [
        (b'{"n": 9007199254740993}', 9007199254740993),
        (b'{"n": 9223372036854775807}', 2**63 - 1),
        (b'{"n": -9223372036854775808}', -(2**63)),
    ],
    ids=["2**53+1", "int64-max", "int64-min"],
)
def test_post_64_bit_integers_round_trip_exactly(client, body, number):
    created = post_raw(client, body).get_json()

    stored = client.get(f"/test/books/{created['id']}").get_json()

    assert stored["n"] == number
    assert type(stored["n"]) is int


def test_post_depth_at_limit_is_accepted(client):
    body = b'{"a":' + b"[" * 63 + b"]" * 63 + b"}"

    assert post_raw(client, body).status_code == 201


def test_post_brackets_inside_strings_do_not_count_as_depth(client):
    body = b'{"a": "' + b"[{" * 100 + b'", "b": "\\"[["}'

    assert post_raw(client, body).status_code == 201


def test_post_escaped_surrogate_pair_is_one_character(client):
    created = post_raw(client, b'{"e": "\\ud83d\\ude00", "k": "\\\\ud800"}')

    assert created.status_code == 201
    assert created.get_json()["e"] == "\U0001f600"
    assert created.get_json()["k"] == "\\ud800"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/test/books", b'"text"'),
        ("post", "/test/books", b"42"),
        ("post", "/test/books", b"null"),
        ("post", "/test/books", b"true"),
        ("put", "/test/books/1", b"[]"),
        ("put", "/test/books/1", b'[{"id": 1}]'),
        ("put", "/test/books/1", b'"text"'),
    ],
    ids=[
        "post-string",
        "post-number",
        "post-null",
        "post-bool",
        "put-array",
        "put-array-of-objects",
        "put-string",
    ],
)
def test_body_of_wrong_shape_returns_400(client, assert_problem, method, path, body):
    response = client.open(
        path, method=method.upper(), data=body, content_type="application/json"
    )

    problem = assert_problem(response, 400)
    assert "takes an object" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/test/ids/\xed\xa0\x80", ""),
        ("/test/ids/\xfe", ""),
        ("/test/ids", "title=%ED%A0%80"),
    ],
    ids=["lone-surrogate-in-path", "invalid-byte-in-path", "invalid-in-query"],
)
def test_url_that_is_not_utf8_returns_400(client, path, query):
    # PATH_INFO holds the percent-decoded bytes as latin-1 text (PEP 3333).
    response = client.get(
        "/", environ_overrides={"PATH_INFO": path, "QUERY_STRING": query}
    )

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "not valid UTF-8" in response.get_json()["detail"]


@pytest.mark.parametrize("document_id", ["a\nb", "tab\there", "nul\x00"])
def test_create_with_control_character_id_returns_400(client, document_id):
    response = client.post("/test/ids", json={"id": document_id})

    assert response.status_code == 400
    assert "control character" in response.get_json()["detail"]


def test_body_shorter_than_content_length_returns_400(client):
    response = client.post(
        "/test/short",
        input_stream=io.BytesIO(b'{"a":1}'),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": "100", "wsgi.input_terminated": True},
    )

    assert response.status_code == 400
    assert "ended after 7 of the 100 bytes" in response.get_json()["detail"]


def test_body_of_exactly_the_limit_is_accepted(app, client):
    limit = get_config(app).max_body_bytes
    prefix, suffix = b'{"s":"', b'"}'
    body = prefix + b"x" * (limit - len(prefix) - len(suffix)) + suffix

    response = client.post(
        "/test/big", data=body, headers={"Content-Type": "application/json"}
    )

    assert len(body) == limit
    assert response.status_code == 201


def test_delete_response_has_no_content_type(client):
    client.post("/test/ct", json={"id": 1})

    response = client.delete("/test/ct/1")

    assert response.status_code == 204
    assert "Content-Type" not in response.headers
