"""A log handler that writes lines in batches, as busy servers' access logs do.

A server logs a line for every request, and writing each one on its own costs
a system call and a flush: a large share of what a small request costs. This
handler keeps formatted lines in memory and writes them together, from a
background thread, at most ``interval`` seconds later; a warning or an error
is written at once, with every line before it, and logging's shutdown at
exit writes the rest. A process killed outright loses at most the last
``interval`` seconds of lines below WARNING (nginx's ``access_log ...
buffer= flush=`` makes the same trade).
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TextIO

__all__ = ["BufferedLineHandler", "LineFormatter", "log_server_lines_to_stderr"]

SERVER_LINE_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
SERVER_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"

# Lines kept before a write even within the interval, to bound memory.
_MAX_PENDING_LINES = 1000


class LineFormatter(logging.Formatter):
    """A formatter that renders each second's timestamp once.

    A busy server logs hundreds of lines a second, and ``time.strftime``
    costs a good share of formatting each one; lines of the same second share
    one rendering. The output is exactly ``logging.Formatter``'s.
    """

    def __init__(self, fmt: str, datefmt: str) -> None:
        super().__init__(fmt, datefmt)
        self._cached: tuple[int, str] = (-1, "")

    def formatTime(  # noqa: N802 (logging's name)
        self, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
        """The record's time in ``datefmt``, rendered once per second.

        Only a date format of whole seconds is cached: the default one shows
        milliseconds.
        """
        if datefmt is None or datefmt != self.datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached_second, rendered = self._cached
        if second != cached_second:
            rendered = super().formatTime(record, datefmt)
            self._cached = (second, rendered)
        return rendered


class BufferedLineHandler(logging.StreamHandler[TextIO]):
    """Write formatted lines to ``stream`` in batches, ``interval`` seconds apart."""

    def __init__(self, stream: TextIO, interval: float = 1.0) -> None:
        super().__init__(stream)
        self.interval = interval
        self._pending: list[str] = []
        self._flusher: threading.Thread | None = None
        self._stopped = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the line; write now for a warning or worse, or a full batch.

        Runs under the handler's lock, as ``Handler.handle`` calls it.
        """
        try:
            self._pending.append(self.format(record) + self.terminator)
            is_urgent = record.levelno >= logging.WARNING
            if is_urgent or len(self._pending) >= _MAX_PENDING_LINES:
                self._write_pending()
            else:
                self._start_flusher()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        """Write every pending line and flush the stream."""
        self.acquire()
        try:
            self._write_pending()
        finally:
            self.release()

    def close(self) -> None:
        """Write what is pending and stop the background thread."""
        self._stopped.set()
        super().close()

    def _write_pending(self) -> None:
        if self._pending:
            self.stream.write("".join(self._pending))
            self._pending.clear()
        self.stream.flush()

    def _start_flusher(self) -> None:
        """Run the flushing thread of this process (a forked child has none)."""
        if self._flusher is not None and self._flusher.is_alive():
            return
        self._stopped = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_every_interval,
            args=(self._stopped,),
            name="datasource-log-flusher",
            daemon=True,
        )
        self._flusher.start()

    def _flush_every_interval(self, stopped: threading.Event) -> None:
        while not stopped.wait(self.interval):
            if self._pending:
                self.flush()


def log_server_lines_to_stderr() -> None:
    """Give the ``datasource`` loggers a batched stderr handler, once.

    For the server entry points (gunicorn.conf.py, app.py), never the
    package: lines look like gunicorn's own, request lines are written at
    most a second late, warnings and errors at once, and
    DATASOURCE_LOG_LEVEL=WARNING silences the request lines. It also skips
    the parts of a record no such line shows (thread, process name, calling
    function and line), which cost a good part of each request's line: the
    settings of the Python logging HOWTO's "Optimization" section.
    """
    logger = logging.getLogger("datasource")
    if logger.handlers:
        return
    handler = BufferedLineHandler(sys.stderr, interval=1.0)
    handler.setFormatter(LineFormatter(SERVER_LINE_FORMAT, SERVER_DATE_FORMAT))
    logger.addHandler(handler)
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None
