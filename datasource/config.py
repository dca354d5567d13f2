"""Settings: each declared once, with its type, default and help.

Precedence, lowest first: the defaults below, a TOML file named by
``DATASOURCE_CONFIG``, the process environment, then explicit overrides
(command-line flags). Unknown keys and values of the wrong type stop startup
with a message naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasource.errors import ConfigurationError

ENVIRONMENT_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
STORE_URL_SCHEMES = ("sqlite:///", "mongodb://", "mongodb+srv://")


@dataclass(frozen=True)
class Setting:
    """One configuration key: its environment variable, type, default and help."""

    name: str
    env: str
    parse: Callable[[str], Any]
    default: str
    help: str


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _parse_indexes(text: str) -> tuple[str, ...]:
    entries = _parse_list(text)
    for entry in entries:
        collection, _, field = entry.partition(".")
        if not collection or not all(field.split(".")):
            raise ValueError(
                f"expected collection.field entries, such as books.title; got {entry!r}"
            )
    return entries


def _parse_synchronous(text: str) -> str:
    value = text.strip().upper()
    if value not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"expected OFF, NORMAL, FULL or EXTRA, got {text!r}")
    return value


def _parse_positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected a number of zero or more, got {text!r}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting("port", "PORT", int, "5000", "Port to listen on."),
    Setting(
        "data_dir",
        "DATASOURCE_DATA_DIR",
        str,
        "./data",
        "Directory of the embedded store: one SQLite file per environment.",
    ),
    Setting(
        "environments",
        "DATASOURCE_ENVIRONMENTS",
        _parse_list,
        "production,test",
        "Comma-separated environment names.",
    ),
    Setting(
        "max_body_bytes",
        "DATASOURCE_MAX_BODY_BYTES",
        _parse_positive_int,
        "1048576",
        "Largest request body accepted, in bytes (413 above it).",
    ),
    Setting(
        "max_depth",
        "DATASOURCE_MAX_DEPTH",
        _parse_positive_int,
        "64",
        "Deepest nesting of objects and arrays accepted in a request body.",
    ),
    Setting(
        "sqlite_synchronous",
        "DATASOURCE_SQLITE_SYNCHRONOUS",
        _parse_synchronous,
        "NORMAL",
        "SQLite synchronous mode: NORMAL survives a process crash, "
        "FULL also survives a power cut.",
    ),
    Setting(
        "indexes",
        "DATASOURCE_INDEXES",
        _parse_indexes,
        "",
        "Fields to index, as collection.field (field may be dotted), comma-separated.",
    ),
    Setting(
        "auto_index_after",
        "DATASOURCE_AUTO_INDEX_AFTER",
        _parse_positive_int,
        "20",
        "Index a field once this many list queries filtered or sorted on it "
        "(0 turns automatic indexes off).",
    ),
    Setting(
        "mongodb_timeout_ms",
        "DATASOURCE_MONGODB_TIMEOUT_MS",
        _parse_positive_int,
        "3000",
        "How long a MongoDB request may wait for a reachable server, in ms.",
    ),
    Setting(
        "mongodb_database",
        "DATASOURCE_MONGODB_DATABASE",
        str,
        "",
        "MongoDB database to use when the URL names none "
        "(default: datasource_<environment>).",
    ),
    Setting(
        "cors_origins",
        "DATASOURCE_CORS_ORIGINS",
        _parse_list,
        "*",
        "Origins allowed to call the API from a browser, comma-separated.",
    ),
    Setting(
        "log_level",
        "DATASOURCE_LOG_LEVEL",
        str,
        "INFO",
        "Level of the datasource loggers.",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class Config:
    """The resolved settings of one application."""

    port: int
    data_dir: str
    environments: tuple[str, ...]
    max_body_bytes: int
    max_depth: int
    sqlite_synchronous: str
    indexes: tuple[str, ...]
    auto_index_after: int
    mongodb_timeout_ms: int
    mongodb_database: str
    cors_origins: tuple[str, ...]
    log_level: str
    store_urls: dict[str, str] = field(default_factory=dict)

    def store_url(self, environment: str) -> str:
        """The store URL of an environment: its own setting or SQLite in data_dir."""
        if environment in self.store_urls:
            return self.store_urls[environment]
        path = Path(self.data_dir) / f"{environment}.sqlite3"
        return f"sqlite:///{path}"

    def indexed_fields(self, collection: str) -> tuple[str, ...]:
        """The configured index fields of one collection."""
        prefix = f"{collection}."
        return tuple(
            entry[len(prefix) :] for entry in self.indexes if entry.startswith(prefix)
        )


def load_config(environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Resolve every setting from defaults, file, environment and overrides.

    :raises ConfigurationError: naming the key that is unknown or malformed.
    """
    environ = os.environ if environ is None else environ
    raw = {setting.name: setting.default for setting in SETTINGS}
    raw.update(_read_file(environ.get("DATASOURCE_CONFIG")))
    raw.update(_read_environ(environ))

    values = {name: _convert(name, text) for name, text in raw.items()}
    values.update(_check_overrides(overrides))
    _check_environment_names(values["environments"])

    store_urls = _read_store_urls(environ, values["environments"])
    return Config(**values, store_urls=store_urls)


def _read_file(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"Cannot read the configuration file {path!r}: {exc}."
        ) from None
    unknown = sorted(set(data) - set(_BY_NAME))
    if unknown:
        raise ConfigurationError(
            f"Unknown setting {unknown[0]!r} in {path}; known settings are "
            f"{', '.join(sorted(_BY_NAME))}."
        )
    return {name: _as_text(value) for name, value in data.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_environ(environ: Mapping[str, str]) -> dict[str, str]:
    return {
        setting.name: environ[setting.env]
        for setting in SETTINGS
        if setting.env in environ
    }


def _convert(name: str, text: str) -> Any:
    setting = _BY_NAME[name]
    try:
        return setting.parse(text)
    except ValueError as exc:
        raise ConfigurationError(
            f"Setting {setting.env} has the invalid value {text!r} ({exc})."
        ) from None


def _check_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(_BY_NAME))
    if unknown:
        raise ConfigurationError(f"Unknown setting {unknown[0]!r}.")
    return {name: value for name, value in overrides.items() if value is not None}


def _check_environment_names(names: tuple[str, ...]) -> None:
    if not names:
        raise ConfigurationError("DATASOURCE_ENVIRONMENTS names no environment.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigurationError(
            f"DATASOURCE_ENVIRONMENTS names {repeated[0]!r} more than once; "
            "list each environment once."
        )
    for name in names:
        if not ENVIRONMENT_NAME.fullmatch(name):
            raise ConfigurationError(
                f"Environment name {name!r} in DATASOURCE_ENVIRONMENTS is invalid: "
                "use a lower-case letter, then up to 63 of a-z, 0-9, _ and -."
            )


def _read_store_urls(
    environ: Mapping[str, str], environments: tuple[str, ...]
) -> dict[str, str]:
    urls = {}
    for name in environments:
        variable = f"DATASOURCE_ENV_{name.upper().replace('-', '_')}_URL"
        if environ.get(variable):
            urls[name] = _check_store_url(variable, environ[variable])
    return urls


def _check_store_url(variable: str, url: str) -> str:
    if not url.startswith(STORE_URL_SCHEMES):
        scheme = url.partition(":")[0]
        raise ConfigurationError(
            f"Setting {variable} names a store of scheme {scheme!r}; use a URL "
            "starting with sqlite:///, mongodb:// or mongodb+srv://."
        )
    return url


def setting_help() -> list[tuple[str, str, str]]:
    """(variable, default, help) for every setting, for the CLI and the README."""
    return [(setting.env, setting.default, setting.help) for setting in SETTINGS]
