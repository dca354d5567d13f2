"""datasource: a REST backend giving CRUD over JSON document collections.

Start with ``create_app(load_config())``; everything else a host application
or a test needs is listed in ``__all__``.
"""

from __future__ import annotations

from datasource.app import create_app
from datasource.config import Config, load_config
from datasource.errors import (
    ConfigurationError,
    DatasourceError,
    DocumentNotFound,
    DuplicateDocument,
    EnvironmentNotFound,
    ErrorDetail,
    InvalidDocument,
    InvalidQuery,
    InvalidRequest,
    NotSupported,
    PayloadTooLarge,
    StoreUnavailable,
    UnsupportedMediaType,
    VersionMismatch,
)
from datasource.query import Query
from datasource.storage import Store

__all__ = [
    "Config",
    "ConfigurationError",
    "DatasourceError",
    "DocumentNotFound",
    "DuplicateDocument",
    "EnvironmentNotFound",
    "ErrorDetail",
    "InvalidDocument",
    "InvalidQuery",
    "InvalidRequest",
    "NotSupported",
    "PayloadTooLarge",
    "Query",
    "Store",
    "StoreUnavailable",
    "UnsupportedMediaType",
    "VersionMismatch",
    "create_app",
    "load_config",
]
