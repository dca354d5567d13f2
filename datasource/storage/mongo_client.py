"""Connecting to MongoDB: the URL, one client per process, and driver errors.

The client is created on first use in each process (gunicorn forks after
loading the application) with timeouts derived from ``timeout_ms``, so that
an unreachable server gives ``StoreUnavailable`` within a few seconds. Each
call through the connection is timed for the DEBUG log, and a driver error
becomes the domain exception that says what to do about it. URLs and driver
messages reach logs and exceptions only with the password replaced by ``***``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, unquote_plus

import pymongo
from pymongo.errors import ConfigurationError as DriverConfigurationError
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from datasource.errors import (
    ConfigurationError,
    DatasourceError,
    InvalidQuery,
    StoreUnavailable,
)
from datasource.storage.base import Document

__all__ = ["MongoConnection", "database_name", "redact_url"]

logger = logging.getLogger(__name__)

_DATABASE_NAME = re.compile(r"[^/\\. \"$*<>:|?\x00]{1,63}")
_URL_USER = re.compile(r"^(mongodb(?:\+srv)?://)([^/?#]*)@")
_TIMEOUT_SETTINGS = re.compile(r" \(configured timeouts: [^)]*\)")

# Operations may take longer than finding a server; both stay well under
# gunicorn's 30-second worker timeout with the default of 3 s.
SOCKET_TIMEOUT_FACTOR = 4
# MongoDB's error codes for a regular expression it cannot compile, and for
# credentials it refuses.
_REGEX_ERRORS = frozenset({2, 51091})
_AUTH_ERRORS = frozenset({13, 18})


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (for logs and messages)."""

    def hide(match: re.Match[str]) -> str:
        user, has_password, _ = match[2].partition(":")
        return f"{match[1]}{user}:***@" if has_password else match[0]

    return _URL_USER.sub(hide, url, count=1)


def _password(url: str) -> str:
    match = _URL_USER.match(url)
    if match is None or ":" not in match[2]:
        return ""
    return match[2].partition(":")[2]


def database_name(url: str, environment: str, database: str | None = None) -> str:
    """The database a store uses: the URL's path, else ``database``, else
    ``datasource_<environment>``.

    :raises ConfigurationError: for a name MongoDB would refuse.
    """
    scheme_free = url.partition("://")[2]
    hosts_and_path = scheme_free.partition("?")[0]
    path = hosts_and_path.partition("/")[2] if "/" in hosts_and_path else ""
    name = (
        unquote_plus(path).partition(".")[0] or database or f"datasource_{environment}"
    )
    if not _DATABASE_NAME.fullmatch(name):
        raise ConfigurationError(
            f"The MongoDB database name {name!r} of environment {environment!r} is "
            'invalid: use up to 63 characters without / \\ . space " $ * < > : | ?.'
        )
    return name


class MongoConnection:
    """One environment's database on a MongoDB server, reached through a
    client of the current process (or a client given by the caller, which is
    used as it is in every process).

    :param on_fork: run when a call finds itself in a new process, before the
        new client exists, so the owner can drop its own per-process state.
    :raises ConfigurationError: for a URL of another scheme or a database
        name MongoDB would refuse.
    """

    def __init__(
        self,
        url: str,
        *,
        environment: str,
        database: str | None = None,
        timeout_ms: int = 3000,
        client: Any = None,
        on_fork: Callable[[], None] = lambda: None,
    ) -> None:
        if not url.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigurationError(
                f"The store URL {redact_url(url)!r} of environment {environment!r} "
                "must start with mongodb:// or mongodb+srv://."
            )
        self._url = url
        self._environment = environment
        self._database_name = database_name(url, environment, database)
        self._timeout_ms = max(1, timeout_ms)
        self._given_client = client
        self._on_fork = on_fork
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        """Forget the client: a new process starts from scratch."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._client: Any = None

    @property
    def database_name(self) -> str:
        return self._database_name

    def database(self) -> Any:
        """This process's database handle; the client is created on first use."""
        if self._given_client is not None:
            return self._given_client[self._database_name]
        if os.getpid() != self._pid:
            # A client must never cross a fork; the parent's stays the parent's.
            self._reset_process_state()
            self._on_fork()
        with self._lock:
            if self._client is None:
                self._client = self._new_client()
            return self._client[self._database_name]

    def close(self) -> None:
        """Close the client this process created (a given client stays open)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None and os.getpid() == self._pid:
            client.close()

    def _new_client(self) -> Any:
        with self.call("connect"):
            client: pymongo.MongoClient[Document] = pymongo.MongoClient(
                self._url,
                serverSelectionTimeoutMS=self._timeout_ms,
                connectTimeoutMS=self._timeout_ms,
                socketTimeoutMS=self._timeout_ms * SOCKET_TIMEOUT_FACTOR,
                retryWrites=True,
                appname="datasource",
            )
        logger.debug(
            "created a MongoDB client for %s in process %d",
            redact_url(self._url),
            os.getpid(),
        )
        return client

    @contextmanager
    def call(
        self, operation: str, collection: str = "", document_id: object = None
    ) -> Iterator[None]:
        """Time one storage call for the DEBUG log; translate driver errors."""
        started = time.perf_counter()
        failure = ""
        try:
            yield
        except PyMongoError as exc:
            failure = f" failed={type(exc).__name__}"
            raise self._translate(exc) from exc
        finally:
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "mongo %s collection=%s id=%s duration=%.3fms%s",
                    operation,
                    collection,
                    document_id,
                    (time.perf_counter() - started) * 1000,
                    failure,
                )

    def _translate(self, exc: PyMongoError) -> DatasourceError:
        """The domain exception for a driver error, with no password in it."""
        reason = self._scrub(_short_reason(str(exc)))
        where = f"The MongoDB store of environment {self._environment!r}"
        if isinstance(exc, ConnectionFailure | DriverConfigurationError):
            return StoreUnavailable(
                f"{where} at {redact_url(self._url)} cannot be reached ({reason}); "
                "check that the server runs and the URL is right, then retry."
            )
        code = exc.code if isinstance(exc, OperationFailure) else None
        if code in _REGEX_ERRORS and _is_about_regex(reason):
            return InvalidQuery(
                f"MongoDB cannot use the regular expression ({reason}); "
                "simplify the pattern."
            )
        if code in _AUTH_ERRORS:
            return StoreUnavailable(
                f"{where} refused the credentials or the access ({reason}); "
                "check the user, password and roles in the URL."
            )
        return DatasourceError(f"{where} failed ({reason}).")

    def _scrub(self, text: str) -> str:
        password = _password(self._url)
        for form in {password, unquote(password)} - {""}:
            text = text.replace(form, "***")
        return text


def _short_reason(text: str) -> str:
    """A driver message without its topology dump and timeout settings."""
    text = _TIMEOUT_SETTINGS.sub("", text.partition(", Timeout: ")[0])
    return text if len(text) <= 200 else text[:197] + "..."


def _is_about_regex(reason: str) -> bool:
    lowered = reason.lower()
    return "regular expression" in lowered or "$regex" in lowered
