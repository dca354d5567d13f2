"""Every error a client can cause, checked against one problem+json shape.

Each row is one error path of the HTTP contract: the request, the status, and
the problem type (``about:blank`` for errors of HTTP itself, otherwise a
datasource problem type ending in the error's slug).
"""

from __future__ import annotations

import pytest

BASE = "https://datasource.dev/problems/"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# RFC 9110, section 15.
REASON_PHRASES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
}

ERROR_CASES = [
    (
        "POST",
        "/test/books",
        {"data": b"{", "content_type": "application/json"},
        400,
        BASE + "invalid-request",
    ),
    ("POST", "/test/books", {"json": "text"}, 400, BASE + "invalid-request"),
    ("POST", "/test/books", {"json": []}, 400, BASE + "invalid-request"),
    ("POST", "/test/books", {"json": [{"id": 2}, 3]}, 400, BASE + "invalid-document"),
    ("POST", "/test/books", {"json": {"id": "a/b"}}, 400, BASE + "invalid-document"),
    ("POST", "/test/books", {"json": {"id": 1.5}}, 400, BASE + "invalid-document"),
    ("PUT", "/test/books/1", {"json": {"id": 2}}, 400, BASE + "invalid-document"),
    ("PUT", "/test/books/a%2Fb", {"json": {}}, 400, BASE + "invalid-document"),
    ("PUT", "/test/books/1", {"json": [1]}, 400, BASE + "invalid-request"),
    ("PATCH", "/test/books/1", {"json": {"id": 3}}, 400, BASE + "invalid-document"),
    (
        "PATCH",
        "/test/books/1",
        {"data": b"{}", "content_type": JSON_PATCH},
        400,
        BASE + "invalid-patch",
    ),
    (
        "PATCH",
        "/test/books/1",
        {"data": b"[1]", "content_type": MERGE},
        400,
        BASE + "invalid-patch",
    ),
    ("GET", "/test/books?limit=many", {}, 400, BASE + "invalid-query"),
    ("GET", "/test/books?where=[", {}, 400, BASE + "invalid-query"),
    ("GET", "/test/bad name", {}, 400, BASE + "invalid-request"),
    ("GET", "/staging", {}, 404, BASE + "environment-not-found"),
    ("DELETE", "/staging", {}, 404, BASE + "environment-not-found"),
    ("POST", "/staging/books", {"json": {}}, 404, BASE + "environment-not-found"),
    ("GET", "/test/books/2", {}, 404, BASE + "document-not-found"),
    ("DELETE", "/test/books/2", {}, 404, BASE + "document-not-found"),
    ("PATCH", "/test/books/2", {"json": {}}, 404, BASE + "document-not-found"),
    ("GET", "/-/nothing", {}, 404, "about:blank"),
    ("POST", "/test/books/1", {"json": {}}, 405, "about:blank"),
    ("PUT", "/test", {"json": {}}, 405, "about:blank"),
    ("POST", "/test/books", {"json": {"id": 1}}, 409, BASE + "duplicate-document"),
    (
        "POST",
        "/test/books",
        {"json": [{"id": 5}, {"id": "1"}]},
        409,
        BASE + "duplicate-document",
    ),
    (
        "PATCH",
        "/test/books/1",
        {
            "data": b'[{"op": "test", "path": "/title", "value": "B"}]',
            "content_type": JSON_PATCH,
        },
        409,
        BASE + "patch-test-failed",
    ),
    (
        "PATCH",
        "/test/books/1",
        {"data": b'[{"op": "remove", "path": "/nothing"}]', "content_type": JSON_PATCH},
        409,
        BASE + "patch-conflict",
    ),
    (
        "PUT",
        "/test/books/1",
        {"json": {}, "headers": {"If-Match": '"old"'}},
        412,
        BASE + "version-mismatch",
    ),
    (
        "PATCH",
        "/test/books/1",
        {"json": {}, "headers": {"If-Match": '"old"'}},
        412,
        BASE + "version-mismatch",
    ),
    (
        "DELETE",
        "/test/books/1",
        {"headers": {"If-Match": '"old"'}},
        412,
        BASE + "version-mismatch",
    ),
    (
        "DELETE",
        "/test/books/2",
        {"headers": {"If-Match": "*"}},
        412,
        BASE + "version-mismatch",
    ),
    (
        "PUT",
        "/test/books/1",
        {"json": {}, "headers": {"If-None-Match": "*"}},
        412,
        BASE + "version-mismatch",
    ),
    (
        "POST",
        "/test/books",
        {"data": b"[" + b"0," * 600_000 + b"0]", "content_type": "application/json"},
        413,
        BASE + "payload-too-large",
    ),
    (
        "POST",
        "/test/books",
        {"data": b"{}", "content_type": "text/plain"},
        415,
        BASE + "unsupported-media-type",
    ),
    ("PUT", "/test/books/1", {"data": b"{}"}, 415, BASE + "unsupported-media-type"),
    (
        "PATCH",
        "/test/books/1",
        {"data": b"{}", "content_type": "application/xml"},
        415,
        BASE + "unsupported-media-type",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "options", "status", "problem_type"),
    ERROR_CASES,
    ids=[
        "malformed-json",
        "body-not-object",
        "empty-array",
        "array-element-not-object",
        "id-with-slash",
        "id-float",
        "put-id-differs",
        "put-encoded-slash",
        "put-array",
        "patch-changes-id",
        "json-patch-not-array",
        "merge-patch-not-object",
        "bad-limit",
        "bad-where",
        "bad-collection-name",
        "unknown-environment",
        "reset-unknown-environment",
        "post-unknown-environment",
        "missing-document",
        "delete-missing-document",
        "patch-missing-document",
        "unknown-server-path",
        "post-on-document",
        "put-on-environment",
        "duplicate-id",
        "duplicate-id-in-array",
        "patch-test-fails",
        "patch-conflict",
        "put-stale-if-match",
        "patch-stale-if-match",
        "delete-stale-if-match",
        "delete-if-match-missing",
        "put-create-only-existing",
        "body-too-large",
        "text-body",
        "no-content-type",
        "patch-xml",
    ],
)
def test_error_response_is_problem_of_its_type(
    client, assert_problem, method, path, options, status, problem_type
):
    client.put("/test/books/1", json={"title": "A"})

    response = client.open(path, method=method, **options)

    problem = assert_problem(response, status)
    assert problem["type"] == problem_type
    assert problem["title"] == REASON_PHRASES[status]
    assert response.headers["X-Request-Id"]
    assert client.get("/test/books/1").get_json() == {"id": 1, "title": "A"}
