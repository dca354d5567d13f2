"""Strict decoding of request bodies and encoding of responses."""

from __future__ import annotations

import pytest

from datasource.errors import InvalidRequest
from datasource.jsonio import INT64_MAX, INT64_MIN, decode_json, encode_json


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (
            b'{"a": 1, "b": [true, false, null], "c": 1.5}',
            {"a": 1, "b": [True, False, None], "c": 1.5},
        ),
        (b"[]", []),
        (b'"text"', "text"),
        (b"  42  ", 42),
        (b"9223372036854775807", INT64_MAX),
        (b"-9223372036854775808", INT64_MIN),
        (b"-0", 0),
        (b"1E+2", 100.0),
        (b'"\\u00e9\\ud83d\\ude00"', "\u00e9\U0001f600"),
        ('{"ключ": "значение"}'.encode(), {"ключ": "значение"}),
        (b'{"a": {"a": 1}}', {"a": {"a": 1}}),
    ],
    ids=[
        "object",
        "empty-array",
        "string",
        "whitespace",
        "int64-max",
        "int64-min",
        "negative-zero",
        "exponent",
        "escapes",
        "unicode",
        "same-key-other-object",
    ],
)
def test_decode_json_valid_input_gives_value(data, value):
    decoded = decode_json(data, max_depth=64)

    assert decoded == value
    assert type(decoded) is type(value)


@pytest.mark.parametrize(
    ("depth", "max_depth", "is_accepted"),
    [(3, 3, True), (4, 3, False), (0, 0, True), (1, 0, False), (64, 64, True)],
    ids=["at-limit", "over-limit", "scalar-at-zero", "array-at-zero", "default"],
)
def test_decode_json_depth_limit_counts_containers(depth, max_depth, is_accepted):
    data = b"[" * depth + b"1" + b"]" * depth

    if is_accepted:
        assert decode_json(data, max_depth=max_depth) is not None
    else:
        with pytest.raises(InvalidRequest, match=f"{depth} levels deep"):
            decode_json(data, max_depth=max_depth)


@pytest.mark.parametrize(
    "data",
    [
        b'{"s": "\\\\", "a": [[1]]}',
        b'{"s": "\\"[[[[", "a": [[1]]}',
        b'{"s": "]]]]]]", "a": [[1]]}',
    ],
    ids=["escaped-backslash", "escaped-quote-and-brackets", "closing-brackets"],
)
def test_decode_json_brackets_in_strings_do_not_count(data):
    assert decode_json(data, max_depth=3)["a"] == [[1]]


def test_decode_json_brackets_in_strings_cannot_hide_depth():
    data = b'{"s": "]]]]]]]]", "a": [[[[1]]]]}'

    with pytest.raises(InvalidRequest, match="5 levels deep"):
        decode_json(data, max_depth=4)


def test_encode_json_gives_compact_utf8():
    encoded = encode_json({"a": [1, 2.5, None], "é": "☕"})

    assert encoded == '{"a":[1,2.5,null],"é":"☕"}'.encode()


def test_encode_json_keeps_64_bit_integers_exact():
    assert encode_json([INT64_MAX, INT64_MIN, 9007199254740993]) == (
        b"[9223372036854775807,-9223372036854775808,9007199254740993]"
    )
