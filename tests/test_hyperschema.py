"""The root JSON Hyper-Schema: valid draft 2019-09, and every service a link.

jsonschema ships the 2019-09 core and validation metaschemas but not the
hyper-schema one, so the document is checked against the 2019-09 metaschema
and each link against a link description object schema written here from
the Hyper-Schema specification (draft-handrews-json-schema-hyperschema-02).
"""

import re

import pytest
from jsonschema import Draft201909Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

from datasource.api.context import get_config
from datasource.hyperschema import HYPER_SCHEMA_DIALECT, build_hyperschema

ENVIRONMENTS = ("production", "test")

# Section 6 of the specification. It allows unknown keywords; this project
# allows none, so that a misspelt keyword fails here instead of being ignored.
_SCHEMA_VALUE = {"type": ["object", "boolean"]}
_STRING = {"type": "string"}
LINK_DESCRIPTION_OBJECT = {
    "type": "object",
    "required": ["rel", "href"],
    "properties": {
        "anchor": _STRING,
        "anchorPointer": _STRING,
        "rel": {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": _STRING, "minItems": 1},
            ]
        },
        "href": _STRING,
        "hrefSchema": _SCHEMA_VALUE,
        "templatePointers": {"type": "object", "additionalProperties": _STRING},
        "templateRequired": {"type": "array", "items": _STRING, "uniqueItems": True},
        "title": _STRING,
        "description": _STRING,
        "targetSchema": _SCHEMA_VALUE,
        "targetMediaType": _STRING,
        # "keys SHOULD be lower-cased ... each value SHOULD be an array"
        "targetHints": {
            "type": "object",
            "propertyNames": {"pattern": "^[a-z0-9-]+$"},
            "additionalProperties": {"type": "array", "items": _STRING},
        },
        "headerSchema": _SCHEMA_VALUE,
        "submissionMediaType": _STRING,
        "submissionSchema": _SCHEMA_VALUE,
        "$comment": _STRING,
    },
    "additionalProperties": False,
}
HYPER_SCHEMA_KEYWORDS = {
    "type": "object",
    "properties": {
        "base": _STRING,
        "links": {"type": "array", "items": LINK_DESCRIPTION_OBJECT},
    },
}
REGISTERED_RELATIONS = {
    "self",
    "collection",
    "item",
    "service-desc",
    "service-doc",
    "status",
}
LINK_SCHEMA_KEYWORDS = (
    "hrefSchema",
    "targetSchema",
    "submissionSchema",
    "headerSchema",
)

# Every service of the contract: (method, href template without its query).
CONTRACT_SERVICES = {
    ("GET", "./"),
    ("GET", "-/openapi.json"),
    ("GET", "-/docs"),
    ("GET", "-/health"),
    ("GET", "{env}"),
    ("DELETE", "{env}"),
    ("GET", "{env}/{collection}"),
    ("HEAD", "{env}/{collection}"),
    ("POST", "{env}/{collection}"),
    ("DELETE", "{env}/{collection}"),
    ("GET", "{env}/{collection}/{id}"),
    ("HEAD", "{env}/{collection}/{id}"),
    ("PUT", "{env}/{collection}/{id}"),
    ("PATCH", "{env}/{collection}/{id}"),
    ("DELETE", "{env}/{collection}/{id}"),
}

_EXPRESSION = re.compile(r"\{([+#./;?&]?)([^}]+)\}")


@pytest.fixture(scope="module")
def hyperschema():
    return build_hyperschema(ENVIRONMENTS)


def _methods(link):
    return link.get("targetHints", {}).get("allow", ["GET"])


def _path_template(link):
    return link["href"].split("{?", 1)[0]


def _variables(template):
    """The variable names of an RFC 6570 template, without modifiers."""
    names = []
    for _, variable_list in _EXPRESSION.findall(template):
        names += [name.rstrip("*").split(":")[0] for name in variable_list.split(",")]
    return names


def _validator(hyperschema, schema):
    """A 2019-09 validator for a subschema whose $refs point into the document."""
    resource = Resource(contents=hyperschema, specification=DRAFT201909)
    registry = Registry().with_resource("urn:datasource:root", resource)
    return Draft201909Validator(schema, registry=registry)


def _resolved(hyperschema, schema):
    """A subschema with its local $refs made absolute for the registry."""
    if isinstance(schema, dict) and "$ref" in schema:
        return {"$ref": "urn:datasource:root" + schema["$ref"]}
    return schema


def _link(hyperschema, title):
    return next(link for link in hyperschema["links"] if link["title"] == title)


def test_hyperschema_declares_2019_09_hyper_schema_dialect(hyperschema):
    assert hyperschema["$schema"] == HYPER_SCHEMA_DIALECT
    assert HYPER_SCHEMA_DIALECT == "https://json-schema.org/draft/2019-09/hyper-schema"


def test_hyperschema_against_2019_09_metaschema_is_valid(hyperschema):
    Draft201909Validator.check_schema(hyperschema)


def test_hyperschema_keywords_against_link_description_schema_are_valid(hyperschema):
    Draft201909Validator(HYPER_SCHEMA_KEYWORDS).validate(hyperschema)


@pytest.mark.parametrize("keyword", LINK_SCHEMA_KEYWORDS)
def test_hyperschema_link_schemas_against_2019_09_metaschema_are_valid(
    hyperschema, keyword
):
    for link in hyperschema["links"]:
        if keyword in link:
            Draft201909Validator.check_schema(link[keyword])


def test_hyperschema_links_cover_every_contract_service(hyperschema):
    described = {
        (method, _path_template(link))
        for link in hyperschema["links"]
        for method in _methods(link)
    }

    assert described == CONTRACT_SERVICES


def test_hyperschema_links_other_than_get_state_their_method(hyperschema):
    for link in hyperschema["links"]:
        has_body = "submissionSchema" in link
        if has_body or link["title"].startswith(("Reset", "Drop", "Delete")):
            assert _methods(link) != ["GET"], link["title"]


def test_hyperschema_link_relations_are_registered(hyperschema):
    for link in hyperschema["links"]:
        assert link["rel"] in REGISTERED_RELATIONS


def test_hyperschema_link_titles_are_unique(hyperschema):
    titles = [link["title"] for link in hyperschema["links"]]

    assert len(titles) == len(set(titles))


def test_hyperschema_template_variables_match_href_schema(hyperschema):
    for link in hyperschema["links"]:
        variables = _variables(link["href"])
        properties = link.get("hrefSchema", {}).get("properties", {})

        assert set(variables) == set(properties), link["title"]
        assert set(link.get("templateRequired", [])) <= set(variables)
        assert set(link.get("hrefSchema", {}).get("required", [])) == set(
            link.get("templateRequired", [])
        )


def test_hyperschema_self_link_takes_no_input(hyperschema):
    self_link = next(link for link in hyperschema["links"] if link["rel"] == "self")

    assert "hrefSchema" not in self_link


def test_hyperschema_environment_variable_lists_configured_environments():
    hyperschema = build_hyperschema(("staging", "qa"))

    for link in hyperschema["links"]:
        if "hrefSchema" in link:
            assert link["hrefSchema"]["properties"]["env"]["enum"] == ["staging", "qa"]


@pytest.mark.parametrize(
    ("variable", "value", "is_valid"),
    [
        ("env", "production", True),
        ("env", "Production", False),
        ("env", "-production", False),
        ("collection", "books.v2", True),
        ("collection", "_private", True),
        ("collection", ".hidden", False),
        ("collection", "a" * 65, False),
        ("id", "507f1f77bcf86cd799439011", True),
        ("id", 1, True),
        ("id", "a/b", False),
    ],
    ids=lambda value: str(value)[:12],
)
def test_hyperschema_href_schema_checks_names_as_the_contract(
    hyperschema, variable, value, is_valid
):
    link = _link(hyperschema, "Read document")
    variable_schema = link["hrefSchema"]["properties"][variable]
    variable_schema = {
        key: val for key, val in variable_schema.items() if key != "enum"
    }

    assert Draft201909Validator(variable_schema).is_valid(value) is is_valid


@pytest.mark.parametrize(
    ("title", "keyword", "instance", "is_valid"),
    [
        ("Create documents", "submissionSchema", {"title": "Dune"}, True),
        ("Create documents", "submissionSchema", [{"id": 1}, {"id": "b"}], True),
        ("Create documents", "submissionSchema", "Dune", False),
        ("Create documents", "submissionSchema", [1, 2], False),
        ("Replace document", "submissionSchema", {"id": 7, "n": 1}, True),
        ("Replace document", "submissionSchema", [], False),
        ("Merge-patch document", "submissionSchema", {"title": None}, True),
        (
            "JSON-patch document",
            "submissionSchema",
            [{"op": "replace", "path": "/title", "value": "Dune"}],
            True,
        ),
        ("JSON-patch document", "submissionSchema", [{"op": "remove"}], False),
        ("JSON-patch document", "submissionSchema", {"title": "Dune"}, False),
        ("List documents", "targetSchema", [{"id": "a"}], True),
        ("List documents", "targetSchema", [{"title": "no id"}], False),
        (
            "Environment",
            "targetSchema",
            {"environment": "test", "collections": []},
            True,
        ),
        ("Health", "targetSchema", {"status": "ok"}, True),
    ],
)
def test_hyperschema_link_schemas_describe_contract_bodies(
    hyperschema, title, keyword, instance, is_valid
):
    schema = _resolved(hyperschema, _link(hyperschema, title)[keyword])

    assert _validator(hyperschema, schema).is_valid(instance) is is_valid


def test_hyperschema_patch_links_name_their_media_types(hyperschema):
    media_types = {
        link["submissionMediaType"]
        for link in hyperschema["links"]
        if "PATCH" in _methods(link)
    }

    assert media_types == {
        "application/merge-patch+json",
        "application/json-patch+json",
    }


def test_hyperschema_conditional_writes_describe_if_match(hyperschema):
    for title in ("Replace document", "Merge-patch document", "Delete document"):
        header_schema = _link(hyperschema, title)["headerSchema"]

        assert "if-match" in header_schema["properties"]


def test_hyperschema_route_serves_schema_json(app, client):
    response = client.get("/")

    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    assert response.get_json() == build_hyperschema(get_config(app).environments)
