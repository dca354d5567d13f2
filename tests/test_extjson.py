"""Decoding MongoDB Extended JSON (v2 canonical and relaxed, and shell style).

Expected values come from the Extended JSON specification's test corpus
(mongodb/specifications, source/bson-corpus) or from ../shared/data.
"""

from __future__ import annotations

import copy

import pytest

from datasource.extjson import ExtendedJSONError, decode_document, decode_value

OID = "57e193d7a9cc81b4027498b5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param({"$oid": OID}, OID, id="oid"),
        pytest.param({"$oid": OID.upper()}, OID, id="oid-upper-case"),
        pytest.param({"$numberInt": "-2147483648"}, -(2**31), id="int32-min"),
        pytest.param({"$numberInt": "2147483647"}, 2**31 - 1, id="int32-max"),
        pytest.param({"$numberLong": "-9223372036854775808"}, -(2**63), id="int64-min"),
        pytest.param({"$numberLong": "9223372036854775807"}, 2**63 - 1, id="int64-max"),
        pytest.param({"$numberLong": 42}, 42, id="int64-legacy-number"),
        pytest.param({"$numberDouble": "1.0"}, 1.0, id="double-one"),
        pytest.param(
            {"$numberDouble": "-1.0001220703125"}, -1.0001220703125, id="double"
        ),
        pytest.param(
            {"$numberDouble": "1.2345678921232E+18"},
            1.2345678921232e18,
            id="double-exp",
        ),
        pytest.param(
            {"$numberDecimal": "1.2345678901234567890123456789012345E+6144"},
            "1.2345678901234567890123456789012345E+6144",
            id="decimal",
        ),
        pytest.param({"$numberDecimal": "NaN"}, "NaN", id="decimal-nan-is-text"),
        pytest.param(
            {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "04"}},
            "73ffd264-44b3-4c69-90e8-e7d1dfc035d4",
            id="binary-uuid",
        ),
        pytest.param(
            {"$binary": {"base64": "//8=", "subType": "00"}},
            "//8=",
            id="binary-generic",
        ),
        pytest.param(
            {"$binary": {"base64": "", "subType": "80"}}, "", id="binary-user-empty"
        ),
        pytest.param({"$binary": "//8=", "$type": "00"}, "//8=", id="binary-legacy"),
        pytest.param(
            {"$type": "0", "$binary": "//8="}, "//8=", id="binary-legacy-key-order"
        ),
        pytest.param(
            {"$uuid": "73FFD264-44B3-4C69-90E8-E7D1DFC035D4"},
            "73ffd264-44b3-4c69-90e8-e7d1dfc035d4",
            id="uuid",
        ),
        pytest.param(
            {"$timestamp": {"t": 123456789, "i": 42}},
            {"t": 123456789, "i": 42},
            id="timestamp",
        ),
        pytest.param(
            {"$timestamp": {"t": 4294967295, "i": 4294967295}},
            {"t": 4294967295, "i": 4294967295},
            id="timestamp-max",
        ),
        pytest.param(
            {"$regularExpression": {"pattern": "abc", "options": "im"}},
            "/abc/im",
            id="regex",
        ),
        pytest.param(
            {"$regularExpression": {"pattern": "", "options": ""}},
            "//",
            id="regex-empty",
        ),
        pytest.param({"$symbol": "value"}, "value", id="symbol"),
        pytest.param({"$code": "function() {}"}, "function() {}", id="code"),
        pytest.param(
            {"$code": "x", "$scope": {"x": {"$numberInt": "1"}}},
            {"code": "x", "scope": {"x": 1}},
            id="code-with-scope",
        ),
        pytest.param(
            {"$dbPointer": {"$ref": "db.c", "$id": {"$oid": OID}}},
            {"$ref": "db.c", "$id": OID},
            id="db-pointer",
        ),
        pytest.param({"$undefined": True}, None, id="undefined"),
    ],
)
def test_decode_value_wrapper_gives_plain_json(value, expected):
    assert decode_value(value) == expected


def test_decode_value_double_negative_zero_keeps_sign():
    assert str(decode_value({"$numberDouble": "-0.0"})) == "-0.0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"$date": {"$numberLong": "0"}},
            "1970-01-01T00:00:00.000Z",
            id="canonical-epoch",
        ),
        pytest.param(
            {"$date": "1970-01-01T00:00:00Z"},
            "1970-01-01T00:00:00.000Z",
            id="relaxed-epoch",
        ),
        pytest.param(
            {"$date": {"$numberLong": "1356351330501"}},
            "2012-12-24T12:15:30.501Z",
            id="canonical-positive",
        ),
        pytest.param(
            {"$date": "2012-12-24T12:15:30.501Z"},
            "2012-12-24T12:15:30.501Z",
            id="relaxed-positive",
        ),
        pytest.param(
            {"$date": {"$numberLong": "-284643869501"}},
            "1960-12-24T12:15:30.499Z",
            id="canonical-negative",
        ),
        pytest.param(
            {"$date": {"$numberLong": "1356351330001"}},
            "2012-12-24T12:15:30.001Z",
            id="leading-zero-ms",
        ),
        pytest.param(
            {"$date": 1356351330501},
            "2012-12-24T12:15:30.501Z",
            id="legacy-milliseconds",
        ),
        pytest.param(
            {"$date": {"$numberLong": "253402300799999"}},
            "9999-12-31T23:59:59.999Z",
            id="last-millisecond-of-9999",
        ),
        pytest.param(
            {"$date": {"$numberLong": "-62135596800000"}},
            "0001-01-01T00:00:00.000Z",
            id="first-instant-of-year-1",
        ),
        pytest.param(
            {"$date": "2009-04-01T00:00:00.000-0700"},
            "2009-04-01T07:00:00.000Z",
            id="books-id-1-offset-0700",
        ),
        pytest.param(
            {"$date": "2002-03-01T00:00:00.000-0800"},
            "2002-03-01T08:00:00.000Z",
            id="books-offset-0800",
        ),
        pytest.param(
            {"$date": "2009-04-01T02:00:00+05:30"},
            "2009-03-31T20:30:00.000Z",
            id="offset-with-colon-crosses-day",
        ),
        pytest.param(
            {"$date": "2009-04-01T00:00:00.123456Z"},
            "2009-04-01T00:00:00.123Z",
            id="microseconds-truncated",
        ),
        pytest.param(
            {"$date": "2009-04-01T00:00:00"},
            "2009-04-01T00:00:00.000Z",
            id="no-offset-is-utc",
        ),
    ],
)
def test_decode_value_date_gives_utc_iso_with_milliseconds(value, expected):
    assert decode_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"$foo": 1}, id="unknown-dollar-key"),
        pytest.param({"$oid": OID, "other": 1}, id="wrapper-key-plus-another"),
        pytest.param(
            {"$date": "2009-04-01T00:00:00Z", "$tz": "UTC"}, id="date-plus-dollar-key"
        ),
        pytest.param({"$regex": "^a", "$options": "i"}, id="legacy-regex-kept"),
        pytest.param({"$minKey": 1}, id="min-key"),
        pytest.param({"$maxKey": 1}, id="max-key"),
        pytest.param({"$numberInt": "1", "$numberLong": "1"}, id="two-wrapper-keys"),
        pytest.param({}, id="empty-object"),
        pytest.param({"oid": OID}, id="no-dollar"),
    ],
)
def test_decode_value_object_not_exactly_a_wrapper_is_kept(value):
    assert decode_value(value) == value


def test_decode_value_dbref_keeps_shape_and_decodes_inside():
    value = {"$ref": "authors", "$id": {"$oid": OID}, "$db": "library"}

    assert decode_value(value) == {"$ref": "authors", "$id": OID, "$db": "library"}


def test_decode_value_wrappers_nested_in_arrays_and_objects_are_decoded():
    value = {
        "history": [
            {"at": {"$date": {"$numberLong": "0"}}, "by": {"$oid": OID}},
            [{"$numberLong": "5"}, {"$numberDouble": "2.5"}],
        ],
        "meta": {"$foo": {"count": {"$numberInt": "3"}}},
    }

    assert decode_value(value) == {
        "history": [
            {"at": "1970-01-01T00:00:00.000Z", "by": OID},
            [5, 2.5],
        ],
        "meta": {"$foo": {"count": 3}},
    }


def test_decode_value_input_is_left_unchanged():
    value = {"a": [{"$oid": OID}], "_id": {"$numberLong": "1"}}
    before = copy.deepcopy(value)

    decode_value(value)
    decode_document(value)

    assert value == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            {"$oid": "xyz"},
            "$oid needs a string of 24 hexadecimal digits, not 'xyz'",
            id="oid-short",
        ),
        pytest.param(
            {"$oid": 5},
            "$oid needs a string of 24 hexadecimal digits, not 5",
            id="oid-number",
        ),
        pytest.param(
            {"$numberInt": "2147483648"},
            "$numberInt 2147483648 is outside the range -2147483648 to 2147483647",
            id="int32-overflow",
        ),
        pytest.param(
            {"$numberInt": "1.5"},
            "$numberInt needs an integer as text, not '1.5'",
            id="int32-fraction",
        ),
        pytest.param(
            {"$numberLong": "9223372036854775808"},
            "$numberLong 9223372036854775808 is outside the range "
            "-9223372036854775808 to 9223372036854775807",
            id="int64-overflow",
        ),
        pytest.param(
            {"$numberLong": True},
            "$numberLong needs an integer as text, not True",
            id="int64-boolean",
        ),
        pytest.param(
            {"$numberDouble": "Infinity"},
            "$numberDouble 'Infinity' has no JSON equivalent; replace it with a "
            "number or null",
            id="double-infinity",
        ),
        pytest.param(
            {"$numberDouble": "-Infinity"},
            "$numberDouble '-Infinity' has no JSON equivalent; replace it with a "
            "number or null",
            id="double-minus-infinity",
        ),
        pytest.param(
            {"$numberDouble": "NaN"},
            "$numberDouble 'NaN' has no JSON equivalent; replace it with a number or "
            "null",
            id="double-nan",
        ),
        pytest.param(
            {"$numberDouble": "1e999"},
            "$numberDouble '1e999' is too large for a double",
            id="double-overflow",
        ),
        pytest.param(
            {"$numberDouble": "1_0"},
            "$numberDouble needs a decimal number as text, not '1_0'",
            id="double-underscore",
        ),
        pytest.param(
            {"$numberDecimal": 1},
            "$numberDecimal needs a string, not 1",
            id="decimal-number",
        ),
        pytest.param(
            {"$date": "yesterday"},
            "$date 'yesterday' is not an ISO-8601 date between the years 1 and 9999",
            id="date-text",
        ),
        pytest.param(
            {"$date": {"$numberLong": "253402300800000"}},
            "$date 253402300800000 ms is outside the years 1 to 9999",
            id="date-year-10000",
        ),
        pytest.param(
            {"$date": "0001-01-01T00:00:00+01:00"},
            "$date '0001-01-01T00:00:00+01:00' is not an ISO-8601 date between the "
            "years 1 and 9999",
            id="date-before-year-1-in-utc",
        ),
        pytest.param(
            {"$date": 1.5},
            '$date needs an ISO-8601 string, {"$numberLong": milliseconds} or '
            "milliseconds since 1970, not 1.5",
            id="date-float",
        ),
        pytest.param(
            {"$binary": {"base64": "%%%", "subType": "00"}},
            "$binary needs base64 text, not '%%%'",
            id="binary-bad-base64",
        ),
        pytest.param(
            {"$binary": {"base64": "", "subType": "100"}},
            "$binary needs a subtype of one or two hex digits, not '100'",
            id="binary-bad-subtype",
        ),
        pytest.param(
            {"$binary": "//8="},
            '$binary needs {"base64": text, "subType": hex}, not \'//8=\'',
            id="binary-v2-without-type",
        ),
        pytest.param(
            {"$uuid": "73ffd26444b34c6990e8e7d1dfc035d4"},
            "$uuid needs the 36-character form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, "
            "not '73ffd26444b34c6990e8e7d1dfc035d4'",
            id="uuid-without-hyphens",
        ),
        pytest.param(
            {"$timestamp": {"t": -1, "i": 0}},
            "$timestamp t -1 is outside the range 0 to 4294967295",
            id="timestamp-negative",
        ),
        pytest.param(
            {"$timestamp": {"t": "1", "i": 0}},
            "$timestamp needs integers, not {'t': '1', 'i': 0}",
            id="timestamp-text",
        ),
        pytest.param(
            {"$regularExpression": {"pattern": "a"}},
            '$regularExpression needs {"pattern": text, "options": text}, not '
            "{'pattern': 'a'}",
            id="regex-missing-options",
        ),
        pytest.param(
            {"$symbol": 1}, "$symbol needs a string, not 1", id="symbol-number"
        ),
        pytest.param(
            {"$code": "x", "$scope": 1},
            "$scope needs an object, not 1",
            id="scope-number",
        ),
        pytest.param(
            {"$undefined": False},
            "$undefined needs the value true, not False",
            id="undefined-false",
        ),
    ],
)
def test_decode_value_malformed_wrapper_raises(value, message):
    with pytest.raises(ExtendedJSONError) as caught:
        decode_value(value)

    assert str(caught.value) == message


def test_decode_value_malformed_wrapper_error_names_field_path():
    value = {"orders": [{"at": {"$date": "soon"}}]}

    with pytest.raises(ExtendedJSONError) as caught:
        decode_value(value)

    assert str(caught.value) == (
        "field orders.0.at: $date 'soon' is not an ISO-8601 date between the "
        "years 1 and 9999"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"_id": {"$oid": OID}, "a": 1}, {"id": OID, "a": 1}, id="object-id"
        ),
        pytest.param({"_id": 1, "a": 1}, {"id": 1, "a": 1}, id="integer-id"),
        pytest.param({"_id": {"$numberLong": "7"}}, {"id": 7}, id="canonical-long-id"),
        pytest.param({"_id": "isbn-1"}, {"id": "isbn-1"}, id="string-id"),
        pytest.param({"id": 3, "a": 1}, {"id": 3, "a": 1}, id="plain-id-kept"),
        pytest.param({"a": 1}, {"a": 1}, id="no-id"),
        pytest.param(
            {"a": {"_id": 1}}, {"a": {"_id": 1}}, id="nested-underscore-id-kept"
        ),
    ],
)
def test_decode_document_id_is_renamed_and_decoded(value, expected):
    assert decode_document(value) == expected


def test_decode_document_keeps_field_order_with_id_in_place():
    value = {"URL": "u", "_id": {"$oid": OID}, "address line 2": "Cardiff"}

    assert list(decode_document(value)) == ["URL", "id", "address line 2"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param([1], "a document must be a JSON object, not an array", id="array"),
        pytest.param(
            "x", "a document must be a JSON object, not a string", id="string"
        ),
        pytest.param(None, "a document must be a JSON object, not null", id="null"),
        pytest.param(
            {"_id": 1, "id": 2},
            "the document has both _id and id; keep only one of them "
            "(_id becomes id on import)",
            id="both-ids",
        ),
        pytest.param(
            {"_id": 1.5},
            "field _id: an id must be a string, an integer or an ObjectId, "
            "not a number",
            id="float-id",
        ),
        pytest.param(
            {"id": True},
            "field id: an id must be a string, an integer or an ObjectId, "
            "not true or false",
            id="boolean-id",
        ),
        pytest.param(
            {"_id": {"a": 1}},
            "field _id: an id must be a string, an integer or an ObjectId, "
            "not an object",
            id="object-id-not-wrapper",
        ),
        pytest.param(
            {"_id": {"$oid": "nope"}},
            "field _id: $oid needs a string of 24 hexadecimal digits, not 'nope'",
            id="bad-object-id",
        ),
    ],
)
def test_decode_document_invalid_raises(value, message):
    with pytest.raises(ExtendedJSONError) as caught:
        decode_document(value)

    assert str(caught.value) == message
