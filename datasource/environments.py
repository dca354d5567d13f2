"""The environments of one process and their stores, opened on first use.

Stores are opened lazily and per process: gunicorn forks its workers after
loading the application, and a database connection or a MongoDB client must
never cross a fork.
"""

from __future__ import annotations

import logging
import os
import threading

from datasource.config import Config
from datasource.errors import EnvironmentNotFound
from datasource.storage import Store, open_store

logger = logging.getLogger(__name__)


class Environments:
    """Map each configured environment name to its store."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._stores: dict[str, Store] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @property
    def names(self) -> tuple[str, ...]:
        return self._config.environments

    def store(self, name: str) -> Store:
        """The store of an environment, opened on first use in this process.

        :raises EnvironmentNotFound: when the name is not configured.
        """
        if name not in self._config.environments:
            raise EnvironmentNotFound(
                f"There is no environment named {name!r}; the environments are "
                f"{', '.join(self._config.environments)}."
            )
        self._forget_stores_of_parent()
        store = self._stores.get(name)
        if store is None:
            store = self._open(name)
        return store

    def close(self) -> None:
        """Close every store opened by this process."""
        with self._lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()

    def _open(self, name: str) -> Store:
        with self._lock:
            if name not in self._stores:
                url = self._config.store_url(name)
                self._stores[name] = open_store(url, self._config, name)
                logger.info("opened the store of environment %s", name)
            return self._stores[name]

    def _forget_stores_of_parent(self) -> None:
        if os.getpid() != self._pid:
            self._stores = {}
            self._lock = threading.Lock()
            self._pid = os.getpid()
