"""WAL checkpoints off the request path.

SQLite copies its write-ahead log back into the database file (a checkpoint)
inside whichever COMMIT pushes the log past ``wal_autocheckpoint`` pages; on a
slow disk that one request then waits for hundreds of milliseconds. Instead, a
background thread in each process checkpoints every second (PASSIVE: it never
blocks readers or writers), and the automatic checkpoint stays as a safety net
at a higher threshold. Durability is unchanged: a commit is in the log before
it is acknowledged, whenever the log is copied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

__all__ = ["AUTOCHECKPOINT_PAGES", "Checkpointer"]

logger = logging.getLogger(__name__)

# The automatic checkpoint of request connections, for when the background
# thread falls behind: ten times SQLite's default of 1,000 pages.
AUTOCHECKPOINT_PAGES = 10_000
CHECKPOINT_INTERVAL_SECONDS = 1.0


class Checkpointer:
    """A daemon thread that checkpoints one database file at an interval."""

    def __init__(
        self, path: str, interval: float = CHECKPOINT_INTERVAL_SECONDS
    ) -> None:
        self._path = path
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="datasource-sqlite-checkpoint", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to finish and wait briefly for it."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, timeout=1, isolation_level=None)
        except sqlite3.Error as exc:
            logger.warning("cannot checkpoint %s: %s", self._path, exc)
            return
        try:
            while not self._stopped.wait(self._interval):
                self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            _busy, log_pages, copied = connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        except sqlite3.Error as exc:
            logger.debug("checkpoint of %s skipped: %s", self._path, exc)
            return
        if copied:
            logger.debug("checkpointed %d of %d pages", copied, log_pages)
