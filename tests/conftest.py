"""Fixtures every test module may use: an application and its test client.

Each test gets an application of its own over a fresh data directory, with the
default environments (``production`` and ``test``) on the embedded store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from datasource import create_app, load_config
from datasource.api.context import get_environments


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    application = create_app(load_config({"DATASOURCE_DATA_DIR": str(tmp_path)}))
    yield application
    get_environments(application).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
