"""Where a running application keeps its settings and environments.

``create_app`` stores them once; views reach them only through the accessors
below, never through module globals, so several applications (one per test)
can live in one process.
"""

from __future__ import annotations

from flask import Flask, current_app

from datasource.config import Config
from datasource.environments import Environments
from datasource.storage import Store

__all__ = ["EXTENSION", "get_config", "get_environments", "get_store", "install"]

EXTENSION = "datasource"
_CONFIG_KEY = "DATASOURCE"


def install(app: Flask, config: Config, environments: Environments) -> None:
    """Attach the settings and the environment registry to an application."""
    app.config[_CONFIG_KEY] = config
    app.extensions[EXTENSION] = environments


def get_environments(app: Flask | None = None) -> Environments:
    """The environment registry of ``app`` (default: the current application)."""
    target = current_app if app is None else app
    environments: Environments = target.extensions[EXTENSION]
    return environments


def get_config(app: Flask | None = None) -> Config:
    """The settings of ``app`` (default: the current application)."""
    target = current_app if app is None else app
    config: Config = target.config[_CONFIG_KEY]
    return config


def get_store(environment: str) -> Store:
    """The store of an environment of the current application.

    :raises EnvironmentNotFound: when the environment is not configured.
    """
    return get_environments().store(environment)
