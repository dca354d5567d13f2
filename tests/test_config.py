"""Settings: defaults, the TOML file, the environment, overrides, and errors."""

from __future__ import annotations

import pytest

from datasource.config import SETTINGS, Config, load_config, setting_help
from datasource.errors import ConfigurationError


def write_toml(tmp_path, text):
    path = tmp_path / "datasource.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_config_empty_environment_gives_contract_defaults():
    config = load_config({})

    assert config.port == 5000
    assert config.data_dir == "./data"
    assert config.environments == ("production", "test")
    assert config.max_body_bytes == 1024 * 1024
    assert config.max_depth == 64
    assert config.cors_origins == ("*",)
    assert config.store_urls == {}


def test_load_config_reads_fixed_variable_names():
    config = load_config(
        {
            "PORT": "8080",
            "DATASOURCE_DATA_DIR": "/srv/data",
            "DATASOURCE_ENVIRONMENTS": " dev , qa ,",
            "DATASOURCE_MAX_BODY_BYTES": "2048",
            "DATASOURCE_CORS_ORIGINS": "https://a.example,https://b.example",
        }
    )

    assert config.port == 8080
    assert config.data_dir == "/srv/data"
    assert config.environments == ("dev", "qa")
    assert config.max_body_bytes == 2048
    assert config.cors_origins == ("https://a.example", "https://b.example")


def test_store_url_defaults_to_sqlite_file_in_data_dir():
    config = load_config({"DATASOURCE_DATA_DIR": "/srv/data"})

    assert config.store_url("test") == "sqlite:////srv/data/test.sqlite3"


def test_store_url_per_environment_variable_wins():
    config = load_config(
        {
            "DATASOURCE_ENVIRONMENTS": "production,load-test",
            "DATASOURCE_ENV_PRODUCTION_URL": "mongodb://db.example/prod",
            "DATASOURCE_ENV_LOAD_TEST_URL": "sqlite:///tmp/load.sqlite3",
            "DATASOURCE_ENV_OTHER_URL": "mongodb://ignored/",
        }
    )

    assert config.store_url("production") == "mongodb://db.example/prod"
    assert config.store_url("load-test") == "sqlite:///tmp/load.sqlite3"
    assert config.store_urls.keys() == {"production", "load-test"}


def test_file_adds_to_defaults_and_environment_wins(tmp_path):
    path = write_toml(
        tmp_path,
        'port = 7000\nmax_depth = 10\nenvironments = ["a", "b"]\n'
        "sqlite_synchronous = 'full'\n",
    )

    config = load_config({"DATASOURCE_CONFIG": path, "PORT": "9000"})

    assert config.port == 9000
    assert config.max_depth == 10
    assert config.environments == ("a", "b")
    assert config.sqlite_synchronous == "FULL"


def test_overrides_win_over_environment_and_none_is_ignored():
    config = load_config({"PORT": "9000"}, port=1234, data_dir=None)

    assert config.port == 1234
    assert config.data_dir == "./data"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "http"}, "PORT has the invalid value 'http'"),
        ({"DATASOURCE_MAX_BODY_BYTES": "-1"}, "DATASOURCE_MAX_BODY_BYTES"),
        ({"DATASOURCE_MAX_DEPTH": "deep"}, "DATASOURCE_MAX_DEPTH"),
        ({"DATASOURCE_SQLITE_SYNCHRONOUS": "sometimes"}, "OFF, NORMAL, FULL or EXTRA"),
        ({"DATASOURCE_ENVIRONMENTS": " , "}, "names no environment"),
        ({"DATASOURCE_ENVIRONMENTS": "Prod"}, "'Prod' in DATASOURCE_ENVIRONMENTS"),
        ({"DATASOURCE_ENVIRONMENTS": "-x"}, "'-x'"),
        ({"DATASOURCE_ENVIRONMENTS": "a" * 65}, "is invalid"),
        ({"DATASOURCE_ENVIRONMENTS": "x,x"}, "names 'x' more than once"),
        (
            {"DATASOURCE_ENV_TEST_URL": "postgres://db/x"},
            "DATASOURCE_ENV_TEST_URL names a store of scheme 'postgres'",
        ),
    ],
    ids=[
        "port-not-number",
        "negative-body-limit",
        "depth-not-number",
        "unknown-sync-mode",
        "no-environment",
        "upper-case-environment",
        "leading-dash-environment",
        "environment-too-long",
        "repeated-environment",
        "unknown-store-scheme",
    ],
)
def test_load_config_invalid_value_raises_naming_it(environ, message):
    with pytest.raises(ConfigurationError, match=message):
        load_config(environ)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'blue'\n", "Unknown setting 'colour'"),
        ("port = [\n", "Cannot read the configuration file"),
        ("max_depth = 'x'\n", "DATASOURCE_MAX_DEPTH"),
    ],
    ids=["unknown-key", "bad-toml", "wrong-type"],
)
def test_load_config_bad_file_raises_naming_problem(tmp_path, text, message):
    path = write_toml(tmp_path, text)

    with pytest.raises(ConfigurationError, match=message):
        load_config({"DATASOURCE_CONFIG": path})


def test_load_config_missing_file_raises_naming_path(tmp_path):
    path = str(tmp_path / "absent.toml")

    with pytest.raises(ConfigurationError, match="absent.toml"):
        load_config({"DATASOURCE_CONFIG": path})


def test_load_config_unknown_override_raises():
    with pytest.raises(ConfigurationError, match="Unknown setting 'colour'"):
        load_config({}, colour="blue")


def test_indexed_fields_selects_one_collection():
    config = load_config(
        {"DATASOURCE_INDEXES": "books.title,books.author.name,authors.name"}
    )

    assert config.indexed_fields("books") == ("title", "author.name")
    assert config.indexed_fields("films") == ()


def test_every_setting_has_variable_default_and_help():
    rows = setting_help()

    assert len(rows) == len(SETTINGS)
    for variable, default, text in rows:
        assert variable == "PORT" or variable.startswith("DATASOURCE_")
        assert isinstance(default, str)
        assert text.endswith(".")


def test_every_setting_is_a_config_field():
    fields = set(Config.__dataclass_fields__)

    assert {setting.name for setting in SETTINGS} <= fields


@pytest.mark.parametrize("entry", ["title", ".title", "books.", "books..title", "."])
def test_index_entry_without_collection_and_field_is_refused(entry):
    with pytest.raises(ConfigurationError, match="DATASOURCE_INDEXES") as raised:
        load_config({"DATASOURCE_INDEXES": f"books.pageCount,{entry}"})

    assert repr(entry) in str(raised.value)
