"""The public API of the package is exactly ``datasource.__all__``."""

from __future__ import annotations

import pytest

import datasource

PUBLIC_NAMES = {
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
}


def test_all_lists_exactly_the_public_names():
    assert set(datasource.__all__) == PUBLIC_NAMES
    assert len(datasource.__all__) == len(PUBLIC_NAMES)


def test_every_public_name_is_importable():
    for name in datasource.__all__:
        assert getattr(datasource, name) is not None


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("InvalidRequest", 400),
        ("InvalidDocument", 400),
        ("InvalidQuery", 400),
        ("EnvironmentNotFound", 404),
        ("DocumentNotFound", 404),
        ("DuplicateDocument", 409),
        ("VersionMismatch", 412),
        ("PayloadTooLarge", 413),
        ("UnsupportedMediaType", 415),
        ("NotSupported", 501),
        ("StoreUnavailable", 503),
    ],
    ids=str,
)
def test_public_error_class_has_its_http_status(name, status):
    error = getattr(datasource, name)

    assert issubclass(error, datasource.DatasourceError)
    assert error.status == status


def test_create_app_builds_a_wsgi_application(tmp_path):
    config = datasource.load_config({"DATASOURCE_DATA_DIR": str(tmp_path)})

    app = datasource.create_app(config)

    assert callable(app.wsgi_app)
    assert app.test_client().get("/-/health").status_code == 200


def test_create_app_without_config_reads_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATASOURCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATASOURCE_ENVIRONMENTS", "only")

    client = datasource.create_app().test_client()

    assert client.get("/only").status_code == 200
    assert client.get("/test").status_code == 404
