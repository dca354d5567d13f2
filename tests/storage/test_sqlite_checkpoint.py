"""Background WAL checkpoints of the SQLite store."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time

from datasource.storage.sqlite import SQLiteStore
from datasource.storage.sqlite_checkpoint import Checkpointer

THREAD_NAME = "datasource-sqlite-checkpoint"


def _write_to_log_only(path):
    """A WAL database whose new pages sit in the log, none checkpointed yet."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 500)
    return connection


def _wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_checkpointer_copies_the_log_into_the_database_file(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    writer = _write_to_log_only(path)
    size_before = os.path.getsize(path)
    checkpointer = Checkpointer(path, interval=0.05)

    checkpointer.start()
    try:
        grew = _wait_for(lambda: os.path.getsize(path) > size_before + 400_000)
    finally:
        checkpointer.stop()
        writer.close()

    assert grew


def _checkpoint_threads():
    return [thread for thread in threading.enumerate() if thread.name == THREAD_NAME]


def test_store_checkpoint_thread_ends_on_close(tmp_path):
    before = len(_checkpoint_threads())
    store = SQLiteStore(str(tmp_path / "s.sqlite3"))
    store.insert_one("things", {"id": 1})

    assert len(_checkpoint_threads()) == before + 1
    store.close()
    assert len(_checkpoint_threads()) == before


def test_store_checkpoint_thread_ends_when_store_is_collected(tmp_path):
    before = len(_checkpoint_threads())
    store = SQLiteStore(str(tmp_path / "s.sqlite3"))
    store.insert_one("things", {"id": 1})

    del store
    gc.collect()

    assert _wait_for(lambda: len(_checkpoint_threads()) == before)
