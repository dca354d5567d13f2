"""The query-string grammar of the Listing section (../shared/API.md), parsed
into the query model of ``datasource.query``."""

from __future__ import annotations

import pytest

from datasource.errors import ErrorDetail, InvalidQuery
from datasource.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    And,
    Comparison,
    Not,
    Or,
    Query,
    Regex,
    Search,
    SortKey,
)
from datasource.queryparse import parse_query
from datasource.whereparse import parse_filter


def eq(path, value):
    return Comparison(tuple(path.split(".")), "eq", value)


def cmp(path, op, value):
    return Comparison(tuple(path.split(".")), op, value)


def only_filter(pairs):
    return parse_query(pairs).filter


def test_parse_query_no_parameters_gives_defaults():
    assert parse_query([]) == Query(
        filter=None, sort=(), limit=DEFAULT_LIMIT, offset=0, fields=None
    )


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        pytest.param([("title", "Android")], eq("title", "Android"), id="plain-text"),
        pytest.param(
            [("pageCount", "5")],
            Or((eq("pageCount", "5"), eq("pageCount", 5))),
            id="integer-spelling",
        ),
        pytest.param(
            [("rating", "4.5")],
            Or((eq("rating", "4.5"), eq("rating", 4.5))),
            id="float-spelling",
        ),
        pytest.param(
            [("n", "-0")], Or((eq("n", "-0"), eq("n", 0))), id="negative-zero-int"
        ),
        pytest.param(
            [("n", "1e3")], Or((eq("n", "1e3"), eq("n", 1000.0))), id="exponent-float"
        ),
        pytest.param(
            [("n", "9223372036854775808")],
            Or((eq("n", "9223372036854775808"), eq("n", 9.223372036854775808e18))),
            id="beyond-int64-becomes-float",
        ),
        pytest.param(
            [("flag", "true")],
            Or((eq("flag", "true"), eq("flag", True))),
            id="true-spelling",
        ),
        pytest.param(
            [("flag", "false")],
            Or((eq("flag", "false"), eq("flag", False))),
            id="false-spelling",
        ),
        pytest.param(
            [("x", "null")], Or((eq("x", "null"), eq("x", None))), id="null-spelling"
        ),
        pytest.param([("x", "True")], eq("x", "True"), id="capitalised-is-text"),
        pytest.param([("x", "NaN")], eq("x", "NaN"), id="nan-is-text"),
        pytest.param([("x", "Infinity")], eq("x", "Infinity"), id="infinity-is-text"),
        pytest.param([("x", "1e999")], eq("x", "1e999"), id="overflow-is-text"),
        pytest.param([("x", "01")], eq("x", "01"), id="leading-zero-is-text"),
        pytest.param([("x", " 5")], eq("x", " 5"), id="space-is-text"),
        pytest.param([("x", "5.")], eq("x", "5."), id="bare-point-is-text"),
        pytest.param([("x", "")], eq("x", ""), id="empty-text"),
        pytest.param(
            [("author.name", "Ann")], eq("author.name", "Ann"), id="dotted-path"
        ),
        pytest.param(
            [("address line 2", "Cardiff")],
            eq("address line 2", "Cardiff"),
            id="path-with-spaces",
        ),
        pytest.param(
            [("x[eq]", "5")], Or((eq("x", "5"), eq("x", 5))), id="explicit-eq"
        ),
        pytest.param(
            [("x[ne]", "5")],
            And((cmp("x", "ne", "5"), cmp("x", "ne", 5))),
            id="ne-excludes-every-spelling",
        ),
        pytest.param([("x[ne]", "abc")], cmp("x", "ne", "abc"), id="ne-text"),
        pytest.param(
            [("x[in]", "a,5,null")],
            cmp("x", "in", ("a", "5", 5, "null", None)),
            id="in-expands-items",
        ),
        pytest.param(
            [("x[nin]", "true,b")],
            cmp("x", "nin", ("true", True, "b")),
            id="nin-expands-items",
        ),
        pytest.param([("x[in]", "")], cmp("x", "in", ("",)), id="in-empty-item"),
        pytest.param([("x[gt]", "500")], cmp("x", "gt", 500), id="gt-number"),
        pytest.param([("x[gte]", "4.5")], cmp("x", "gte", 4.5), id="gte-float"),
        pytest.param([("x[lt]", "m")], cmp("x", "lt", "m"), id="lt-text"),
        pytest.param([("x[lte]", "true")], cmp("x", "lte", "true"), id="lte-bool-text"),
        pytest.param(
            [("x[exists]", "true")], cmp("x", "exists", True), id="exists-true"
        ),
        pytest.param(
            [("x[exists]", "false")], cmp("x", "exists", False), id="exists-false"
        ),
        pytest.param(
            [("x[contains]", "5")], cmp("x", "contains", "5"), id="contains-text-only"
        ),
        pytest.param(
            [("x[startswith]", "Un")],
            cmp("x", "startswith", "Un"),
            id="startswith-text",
        ),
        pytest.param([("q", "android")], Search("android"), id="search"),
        pytest.param([("q", "")], None, id="empty-search-ignored"),
        pytest.param(
            [("a", "x"), ("b[gt]", "1")],
            And((eq("a", "x"), cmp("b", "gt", 1))),
            id="filters-and-together",
        ),
        pytest.param(
            [("a[gt]", "1"), ("a[lt]", "9")],
            And((cmp("a", "gt", 1), cmp("a", "lt", 9))),
            id="repeated-field-and-together",
        ),
        pytest.param(
            [("q", "x"), ("where", '{"a": 1}'), ("b", "y")],
            And((eq("b", "y"), eq("a", 1), Search("x"))),
            id="field-where-search",
        ),
        pytest.param([("where", "{}")], None, id="empty-where-ignored"),
    ],
)
def test_parse_query_filter_parameters_build_filter(pairs, expected):
    assert only_filter(pairs) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("title", (SortKey(("title",)),), id="one-key"),
        pytest.param(
            "a,-b.c",
            (SortKey(("a",)), SortKey(("b", "c"), descending=True)),
            id="two-keys-descending",
        ),
        pytest.param(
            "-address line 2",
            (SortKey(("address line 2",), descending=True),),
            id="name-with-spaces",
        ),
        pytest.param(
            " title, -pageCount",
            (SortKey(("title",)), SortKey(("pageCount",), descending=True)),
            id="spaces-around-names",
        ),
        pytest.param("+title", (SortKey(("title",)),), id="explicit-ascending"),
    ],
)
def test_parse_query_sort_builds_sort_keys(text, expected):
    assert parse_query([("sort", text)]).sort == expected


@pytest.mark.parametrize(
    ("pairs", "limit", "offset"),
    [
        pytest.param([("limit", "0")], 0, 0, id="limit-zero"),
        pytest.param([("limit", str(MAX_LIMIT))], MAX_LIMIT, 0, id="limit-max"),
        pytest.param([("offset", "40")], DEFAULT_LIMIT, 40, id="offset"),
        pytest.param(
            [("limit", "20"), ("offset", "0")], 20, 0, id="limit-and-zero-offset"
        ),
    ],
)
def test_parse_query_page_parameters_set_limit_and_offset(pairs, limit, offset):
    query = parse_query(pairs)
    assert (query.limit, query.offset) == (limit, offset)


def test_parse_query_fields_builds_projection_paths():
    assert parse_query([("fields", "title,author.name")]).fields == (
        ("title",),
        ("author", "name"),
    )


@pytest.mark.parametrize(
    ("filter_object", "expected"),
    [
        pytest.param({}, And(()), id="empty-matches-all"),
        pytest.param({"status": "MEAP"}, eq("status", "MEAP"), id="plain-value"),
        pytest.param({"n": "5"}, eq("n", "5"), id="no-string-coercion"),
        pytest.param({"n": 5}, eq("n", 5), id="typed-number"),
        pytest.param({"n": None}, eq("n", None), id="null"),
        pytest.param({"tags": ["a", "b"]}, eq("tags", ["a", "b"]), id="array-deep"),
        pytest.param({"o": {"k": 1}}, eq("o", {"k": 1}), id="object-deep"),
        pytest.param({"o": {}}, eq("o", {}), id="empty-object-value"),
        pytest.param({"a.b": 1}, eq("a.b", 1), id="dotted-key"),
        pytest.param(
            {"a": 1, "b": 2}, And((eq("a", 1), eq("b", 2))), id="keys-and-together"
        ),
        pytest.param({"n": {"$eq": [1]}}, eq("n", [1]), id="eq-operator"),
        pytest.param({"n": {"$ne": "x"}}, cmp("n", "ne", "x"), id="ne-operator"),
        pytest.param({"n": {"$gt": 1.5}}, cmp("n", "gt", 1.5), id="gt-float"),
        pytest.param({"n": {"$gte": "m"}}, cmp("n", "gte", "m"), id="gte-text"),
        pytest.param(
            {"n": {"$gte": 1, "$lt": 5}},
            And((cmp("n", "gte", 1), cmp("n", "lt", 5))),
            id="range",
        ),
        pytest.param({"n": {"$in": [1, "1"]}}, cmp("n", "in", (1, "1")), id="in"),
        pytest.param({"n": {"$nin": []}}, cmp("n", "nin", ()), id="nin-empty"),
        pytest.param({"n": {"$exists": False}}, cmp("n", "exists", False), id="exists"),
        pytest.param(
            {"t": {"$regex": "^un"}}, cmp("t", "regex", Regex("^un")), id="regex"
        ),
        pytest.param(
            {"t": {"$regex": "^un", "$options": "i"}},
            cmp("t", "regex", Regex("^un", ignore_case=True)),
            id="regex-ignore-case",
        ),
        pytest.param(
            {"t": {"$options": "", "$regex": "x"}},
            cmp("t", "regex", Regex("x")),
            id="regex-empty-options-first",
        ),
        pytest.param(
            {"n": {"$not": {"$gt": 5}}}, Not(cmp("n", "gt", 5)), id="field-not"
        ),
        pytest.param(
            {"t": {"$not": {"$regex": "a", "$options": "i"}}},
            Not(cmp("t", "regex", Regex("a", ignore_case=True))),
            id="field-not-regex",
        ),
        pytest.param(
            {"$or": [{"status": "MEAP"}, {"pageCount": {"$lt": 100}}]},
            Or((eq("status", "MEAP"), cmp("pageCount", "lt", 100))),
            id="or",
        ),
        pytest.param({"$and": [{"a": 1}]}, And((eq("a", 1),)), id="and-single"),
        pytest.param(
            {"$nor": [{"a": 1}, {"b": 2}]},
            Not(Or((eq("a", 1), eq("b", 2)))),
            id="nor",
        ),
        pytest.param({"$not": {"a": 1}}, Not(eq("a", 1)), id="top-not"),
        pytest.param({"$or": [{}]}, Or((And(()),)), id="or-of-empty-object"),
    ],
)
def test_parse_filter_mongodb_filter_builds_tree(filter_object, expected):
    assert parse_filter(filter_object) == expected


def test_parse_query_where_keeps_json_types():
    text = '{"a": 5, "b": 2.0, "c": true, "d": null, "e": "5"}'
    assert only_filter([("where", text)]) == And(
        (eq("a", 5), eq("b", 2.0), eq("c", True), eq("d", None), eq("e", "5"))
    )


def test_parse_query_where_surrogate_pair_is_one_character():
    assert only_filter([("where", '{"a": "\\ud83d\\ude00"}')]) == eq("a", "😀")


def test_parse_query_where_integer_beyond_int64_becomes_float():
    assert only_filter([("where", '{"a": 18446744073709551616}')]) == eq(
        "a", 18446744073709551616.0
    )


def _where(value):
    return [("where", value)]


# Each case: the query-string pairs, the parameter the error names, and the
# exact detail (which the single error entry repeats).
ERROR_CASES = [
    pytest.param(
        [("limit", "1"), ("limit", "2")],
        "limit",
        "The query parameter 'limit' was given more than once ('1' and '2'); "
        "give it once.",
        id="repeated-limit",
    ),
    pytest.param(
        [("where", "{}"), ("where", "{}")],
        "where",
        "The query parameter 'where' was given more than once ('{}' and '{}'); "
        "give it once.",
        id="repeated-where",
    ),
    pytest.param(
        [("limit", "1001")],
        "limit",
        "The parameter 'limit' must be a whole number from 0 to 1000, not '1001'; "
        "for example limit=20.",
        id="limit-too-large",
    ),
    pytest.param(
        [("limit", "-1")],
        "limit",
        "The parameter 'limit' must be a whole number from 0 to 1000, not '-1'; "
        "for example limit=20.",
        id="limit-negative",
    ),
    pytest.param(
        [("limit", "ten")],
        "limit",
        "The parameter 'limit' must be a whole number from 0 to 1000, not 'ten'; "
        "for example limit=20.",
        id="limit-not-number",
    ),
    pytest.param(
        [("limit", "2.0")],
        "limit",
        "The parameter 'limit' must be a whole number from 0 to 1000, not '2.0'; "
        "for example limit=20.",
        id="limit-float",
    ),
    pytest.param(
        [("limit", "")],
        "limit",
        "The parameter 'limit' must be a whole number from 0 to 1000, not ''; "
        "for example limit=20.",
        id="limit-empty",
    ),
    pytest.param(
        [("offset", "-5")],
        "offset",
        "The parameter 'offset' must be a whole number from 0 to "
        "9223372036854775807, not '-5'; for example offset=20.",
        id="offset-negative",
    ),
    pytest.param(
        [("offset", "9223372036854775808")],
        "offset",
        "The parameter 'offset' must be a whole number from 0 to "
        "9223372036854775807, not '9223372036854775808'; for example offset=20.",
        id="offset-beyond-int64",
    ),
    pytest.param(
        [("a..b", "1")],
        "a..b",
        "The field path 'a..b' in the parameter 'a..b' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="path-double-dot",
    ),
    pytest.param(
        [(".a[gt]", "1")],
        ".a[gt]",
        "The field path '.a' in the parameter '.a[gt]' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="path-leading-dot",
    ),
    pytest.param(
        [("a.", "1")],
        "a.",
        "The field path 'a.' in the parameter 'a.' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="path-trailing-dot",
    ),
    pytest.param(
        [("[gt]", "1")],
        "[gt]",
        "The field path '' in the parameter '[gt]' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="path-empty",
    ),
    pytest.param(
        [("a[regex]", "x")],
        "a[regex]",
        "The operator 'regex' in the query parameter 'a[regex]' is unknown; use "
        "one of eq, ne, gt, gte, lt, lte, in, nin, exists, contains, startswith.",
        id="unknown-operator",
    ),
    pytest.param(
        [("a[]", "x")],
        "a[]",
        "The operator '' in the query parameter 'a[]' is unknown; use "
        "one of eq, ne, gt, gte, lt, lte, in, nin, exists, contains, startswith.",
        id="empty-operator",
    ),
    pytest.param(
        [("a[gt", "1")],
        "a[gt",
        "The query parameter 'a[gt' is not a field filter; write field=value or "
        "field[op]=value, for example pageCount[gt]=500.",
        id="unclosed-bracket",
    ),
    pytest.param(
        [("a[gt][lt]", "1")],
        "a[gt][lt]",
        "The query parameter 'a[gt][lt]' is not a field filter; write field=value "
        "or field[op]=value, for example pageCount[gt]=500.",
        id="two-operators",
    ),
    pytest.param(
        [("a[exists]", "yes")],
        "a[exists]",
        "The query parameter 'a[exists]' takes true or false, not 'yes'; write "
        "a[exists]=true or a[exists]=false.",
        id="exists-not-boolean",
    ),
    pytest.param(
        [("sort", "a,,b")],
        "sort",
        "The parameter 'sort' has an empty field name in 'a,,b'; list field names "
        "separated by commas, with - for descending, such as sort=title,-pageCount.",
        id="sort-empty-item",
    ),
    pytest.param(
        [("sort", "-")],
        "sort",
        "The parameter 'sort' has an empty field name in '-'; list field names "
        "separated by commas, with - for descending, such as sort=title,-pageCount.",
        id="sort-bare-minus",
    ),
    pytest.param(
        [("sort", "a..b")],
        "sort",
        "The field path 'a..b' in the parameter 'sort' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="sort-empty-segment",
    ),
    pytest.param(
        [("fields", "")],
        "fields",
        "The parameter 'fields' has an empty field name in ''; list field names "
        "separated by commas, such as fields=title,author.name.",
        id="fields-empty",
    ),
    pytest.param(
        [("fields", "a.")],
        "fields",
        "The field path 'a.' in the parameter 'fields' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="fields-empty-segment",
    ),
    pytest.param(
        _where("{bad"),
        "where",
        "The parameter 'where' is not valid JSON (Expecting property name enclosed "
        'in double quotes: line 1 column 2 (char 1)): "{bad"; send a JSON object '
        'such as {"status": "MEAP"}.',
        id="where-malformed",
    ),
    pytest.param(
        _where('{"a": NaN}'),
        "where",
        "The parameter 'where' is not valid JSON (NaN is not a JSON number): "
        '"{\\"a\\": NaN}"; send a JSON object such as {"status": "MEAP"}.',
        id="where-nan",
    ),
    pytest.param(
        _where('{"a": 1e999}'),
        "where",
        "The parameter 'where' is not valid JSON (the number 1e999 is too large): "
        '"{\\"a\\": 1e999}"; send a JSON object such as {"status": "MEAP"}.',
        id="where-overflow",
    ),
    pytest.param(
        _where('{"a": 1, "a": 2}'),
        "where",
        "The parameter 'where' is not valid JSON (the key 'a' appears twice in one "
        'object): "{\\"a\\": 1, \\"a\\": 2}"; send a JSON object such as '
        '{"status": "MEAP"}.',
        id="where-duplicate-key",
    ),
    pytest.param(
        _where("[" * 40 + "]" * 40),
        "where",
        "The parameter 'where' nests arrays and objects more than 32 levels deep; "
        "flatten the filter.",
        id="where-too-deep",
    ),
    pytest.param(
        _where("[" * 100000 + "]" * 100000),
        "where",
        "The parameter 'where' is not valid JSON (nested too deeply): "
        '"' + "[" * 57 + '..."; send a JSON object such as {"status": "MEAP"}.',
        id="where-recursion",
    ),
    pytest.param(
        [("title", "a\ud800")],
        "title",
        "The query parameter 'title' holds a lone surrogate, which is not text; "
        "send the name and value as UTF-8.",
        id="lone-surrogate-value",
    ),
    pytest.param(
        [("ti\udc80tle", "a")],
        "ti\\udc80tle",
        "The query parameter 'ti\\\\udc80tle' holds a lone surrogate, which is "
        "not text; send the name and value as UTF-8.",
        id="lone-surrogate-name",
    ),
    pytest.param(
        _where('{"title": {"$in": ["\\ud800"]}}'),
        "where",
        "The parameter 'where' holds a lone surrogate escape such as \\ud800, "
        "which is not text; write each character as itself or as a valid pair.",
        id="where-lone-surrogate",
    ),
    pytest.param(
        _where('{"\\udfff": 1}'),
        "where",
        "The parameter 'where' holds a lone surrogate escape such as \\ud800, "
        "which is not text; write each character as itself or as a valid pair.",
        id="where-lone-surrogate-key",
    ),
    pytest.param(
        _where('["MEAP"]'),
        "where",
        "The filter in parameter 'where' must be a JSON object, not [\"MEAP\"]; "
        'write one such as {"status": "MEAP"}.',
        id="where-not-object",
    ),
    pytest.param(
        _where('{"$or": []}'),
        "where",
        "The filter in parameter 'where' at /$or must be a non-empty array of "
        'filter objects, such as [{"status": "MEAP"}, {"pageCount": {"$lt": 100}}].',
        id="or-empty",
    ),
    pytest.param(
        _where('{"$and": {"a": 1}}'),
        "where",
        "The filter in parameter 'where' at /$and must be a non-empty array of "
        'filter objects, such as [{"status": "MEAP"}, {"pageCount": {"$lt": 100}}].',
        id="and-not-array",
    ),
    pytest.param(
        _where('{"$or": [{"a": 1}, 5]}'),
        "where",
        "The filter in parameter 'where' at /$or/1 must be a JSON object, not 5; "
        'write one such as {"status": "MEAP"}.',
        id="or-item-not-object",
    ),
    pytest.param(
        _where('{"$not": [1]}'),
        "where",
        "The filter in parameter 'where' at /$not must be a JSON object, not [1]; "
        'write one such as {"status": "MEAP"}.',
        id="top-not-not-object",
    ),
    pytest.param(
        _where('{"$where": "1"}'),
        "where",
        "The filter in parameter 'where' at /$where uses the unknown operator "
        "'$where'; at the top of a filter use $and, $or, $nor, $not or a field name.",
        id="top-unknown-operator",
    ),
    pytest.param(
        _where('{"a": {"$size": 1}}'),
        "where",
        "The filter in parameter 'where' at /a/$size uses the unknown operator "
        "'$size'; use one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, "
        "$regex, $options, $not.",
        id="field-unknown-operator",
    ),
    pytest.param(
        _where('{"a": {"$gt": 1, "b": 2}}'),
        "where",
        "The filter in parameter 'where' at /a mixes operators with field names; "
        'use only operators such as {"$gte": 1, "$lt": 5} or only a value to '
        "compare with.",
        id="mixed-operator-object",
    ),
    pytest.param(
        _where('{"a..b": 1}'),
        "where",
        "The field path 'a..b' in the parameter 'where' has an empty segment; "
        "write field names joined by single dots, such as author.name.",
        id="where-empty-segment",
    ),
    pytest.param(
        _where('{"a": {"$gt": null}}'),
        "where",
        "The filter in parameter 'where' at /a/$gt needs a number or a string, "
        "not null; change the value.",
        id="gt-null",
    ),
    pytest.param(
        _where('{"a": {"$lte": true}}'),
        "where",
        "The filter in parameter 'where' at /a/$lte needs a number or a string, "
        "not true; change the value.",
        id="lte-boolean",
    ),
    pytest.param(
        _where('{"a": {"$lt": [1]}}'),
        "where",
        "The filter in parameter 'where' at /a/$lt needs a number or a string, "
        "not [1]; change the value.",
        id="lt-array",
    ),
    pytest.param(
        _where('{"a": {"$in": 1}}'),
        "where",
        "The filter in parameter 'where' at /a/$in needs an array of values, "
        "not 1; change the value.",
        id="in-not-array",
    ),
    pytest.param(
        _where('{"a": {"$exists": 1}}'),
        "where",
        "The filter in parameter 'where' at /a/$exists needs true or false, "
        "not 1; change the value.",
        id="exists-number",
    ),
    pytest.param(
        _where('{"a": {"$regex": "("}}'),
        "where",
        "The filter in parameter 'where' at /a/$regex has a pattern '(' that does "
        "not compile (missing ), unterminated subpattern at position 0); fix the "
        "regular expression.",
        id="regex-does-not-compile",
    ),
    pytest.param(
        _where('{"a": {"$regex": 5}}'),
        "where",
        "The filter in parameter 'where' at /a/$regex needs a pattern string, "
        "not 5; change the value.",
        id="regex-not-string",
    ),
    pytest.param(
        _where('{"a": {"$regex": "x", "$options": "m"}}'),
        "where",
        "The filter in parameter 'where' at /a/$options supports only the option "
        '"i", not "m"; write "$options": "i" or leave it out.',
        id="regex-unsupported-option",
    ),
    pytest.param(
        _where('{"a": {"$options": "i"}}'),
        "where",
        "The filter in parameter 'where' at /a has $options without $regex; "
        'write {"$regex": "^a", "$options": "i"}.',
        id="options-without-regex",
    ),
    pytest.param(
        _where('{"a": {"$not": 5}}'),
        "where",
        "The filter in parameter 'where' at /a/$not must be an operator object, "
        'not 5; write for example {"$not": {"$gt": 5}} or '
        '{"$not": {"$regex": "^a"}}.',
        id="not-operand-value",
    ),
    pytest.param(
        _where('{"a/b~c": {"$foo": 1}}'),
        "where",
        "The filter in parameter 'where' at /a~1b~0c/$foo uses the unknown "
        "operator '$foo'; use one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, "
        "$exists, $regex, $options, $not.",
        id="pointer-escapes-key",
    ),
]


@pytest.mark.parametrize(("pairs", "parameter", "detail"), ERROR_CASES)
def test_parse_query_bad_parameter_raises_invalid_query(pairs, parameter, detail):
    with pytest.raises(InvalidQuery) as caught:
        parse_query(pairs)

    assert caught.value.detail == detail
    assert caught.value.errors == [ErrorDetail(path=parameter, message=detail)]
    assert caught.value.status == 400


def test_parse_filter_deep_python_object_raises_invalid_query():
    nested: dict = {"a": 1}
    for _ in range(200):
        nested = {"$not": nested}

    with pytest.raises(InvalidQuery) as caught:
        parse_filter(nested)

    assert caught.value.errors[0].path == "where"
    assert caught.value.detail.endswith("is nested too deeply; flatten it.")


def test_parse_query_sort_with_too_many_keys_is_invalid():
    with pytest.raises(InvalidQuery, match="lists 33 fields; sort by at most 32"):
        parse_query([("sort", ",".join(["a"] * 33))])
