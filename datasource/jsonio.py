"""JSON for request and response bodies: strict decoding, fast encoding.

Request bodies are decoded with the standard library because it can be told
to refuse what JSON leaves ambiguous and orjson accepts or alters silently:
integers beyond 64 bits (orjson turns them into floats), NaN and Infinity,
duplicate keys in one object, lone surrogate escapes, and nesting so deep
that a recursive decoder would exhaust the stack. Responses are encoded with
orjson, which is several times faster.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from array import array
from itertools import accumulate
from typing import Any

import orjson

from datasource.errors import InvalidRequest

__all__ = ["INT64_MAX", "INT64_MIN", "decode_json", "encode_json"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in _BRACKETS)
_BRACKET_STEPS = bytes.maketrans(b"[{]}", bytes([1, 1, 255, 255]))
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PREVIEW_LENGTH = 40


def encode_json(value: Any) -> bytes:
    """Encode a JSON value as compact UTF-8 bytes."""
    return orjson.dumps(value)


def decode_json(data: bytes, *, max_depth: int) -> Any:
    """Decode a request body strictly, refusing anything JSON leaves ambiguous.

    :param max_depth: the deepest nesting of objects and arrays accepted.
    :raises InvalidRequest: naming what is wrong and, where the decoder knows,
        the line and column.
    """
    text = _decode_utf8(data)
    _check_depth(data, max_depth)

    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from None

    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value)
    return value


def _decode_utf8(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        raise InvalidRequest(
            "The body starts with a byte order mark; send JSON as UTF-8 without one."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"The body is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start} ({exc.reason}). Send JSON encoded as UTF-8."
        ) from None


def _check_depth(data: bytes, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` before the recursive decoder runs.

    Brackets are ASCII, so the UTF-8 bytes are scanned directly, with C-speed
    bytes operations: drop escaped backslashes and quotes, keep what lies
    outside string literals, keep only brackets, then take the highest running
    sum of +1 per opening and -1 per closing bracket.
    """
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    brackets = outside_strings.translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= max_depth:
        return

    steps = array("b", brackets.translate(_BRACKET_STEPS))
    depth = max(accumulate(steps))
    if depth > max_depth:
        raise InvalidRequest(
            f"The body nests objects and arrays {depth} levels deep; "
            f"at most {max_depth} are accepted."
        )


def _check_surrogates(value: Any) -> None:
    """Refuse strings holding a lone UTF-16 surrogate (from a ``\\ud800`` escape).

    Pairs of escapes decode to one character, so any surrogate left is alone.
    The walk uses an explicit stack: the depth is bounded but need not be small.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            raise InvalidRequest(
                "The body contains a lone surrogate escape (\\ud800 to \\udfff "
                "without its pair); strings must be valid Unicode."
            )
        if isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def _refuse_constant(name: str) -> Any:
    raise InvalidRequest(
        f"The body contains {name}, which JSON does not allow; send a finite "
        "number, a string or null."
    )


def _parse_int(text: str) -> int:
    digits = text.lstrip("-")
    value = int(text) if len(digits) <= 19 else None
    if value is None or not INT64_MIN <= value <= INT64_MAX:
        raise InvalidRequest(
            f"The integer {_shorten(text)} is outside the signed 64-bit range "
            f"({INT64_MIN} to {INT64_MAX}); send it as a string to keep it exact."
        )
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidRequest(
            f"The number {_shorten(text)} is too large for a 64-bit float; "
            "send it as a string."
        )
    return value


def _build_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise InvalidRequest(
            f"The body repeats the key {_preview(_first_repeated(pairs))} in one "
            "object; each key may appear only once."
        )
    return document


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _shorten(text: str) -> str:
    """A value short enough to show in a message."""
    if len(text) > _PREVIEW_LENGTH:
        return text[:_PREVIEW_LENGTH] + "..."
    return text


def _preview(text: str) -> str:
    """A string short enough to quote in a message."""
    return repr(_shorten(text))


_DECODER = json.JSONDecoder(
    object_pairs_hook=_build_object,
    parse_int=_parse_int,
    parse_float=_parse_float,
    parse_constant=_refuse_constant,
)
