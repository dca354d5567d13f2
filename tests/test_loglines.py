"""The buffered log handler: lines in batches, warnings at once, all written at exit."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import time

import pytest

from datasource.loglines import BufferedLineHandler, LineFormatter


class _CountingStream(io.StringIO):
    """A text stream that counts how often it was flushed."""

    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


@pytest.fixture
def stream():
    return _CountingStream()


@pytest.fixture
def logger(request):
    logger = logging.getLogger(f"datasource.tests.{request.node.name}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def test_info_lines_are_written_in_order_without_a_flush_each(logger, stream):
    handler = BufferedLineHandler(stream, interval=60)
    logger.addHandler(handler)

    for number in range(100):
        logger.info("request %d", number)

    assert stream.flushes == 0
    handler.flush()
    assert stream.getvalue().splitlines() == [f"request {n}" for n in range(100)]


def test_a_warning_flushes_itself_and_every_line_before_it(logger, stream):
    handler = BufferedLineHandler(stream, interval=60)
    logger.addHandler(handler)

    logger.info("first")
    logger.warning("second")

    assert stream.flushes == 1
    assert stream.getvalue() == "first\nsecond\n"


def test_lines_are_flushed_within_the_interval(logger, stream):
    logger.addHandler(BufferedLineHandler(stream, interval=0.05))

    logger.info("quiet server's last line")
    deadline = time.monotonic() + 10
    while stream.flushes == 0 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert stream.flushes >= 1
    assert stream.getvalue() == "quiet server's last line\n"


def test_lines_from_many_threads_are_all_written_whole(logger, stream):
    handler = BufferedLineHandler(stream, interval=0.01)
    logger.addHandler(handler)

    def log_lines(thread: int) -> None:
        for number in range(200):
            logger.info("thread %d line %d", thread, number)

    threads = [threading.Thread(target=log_lines, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    handler.flush()

    lines = stream.getvalue().splitlines()
    expected = {f"thread {t} line {n}" for t in range(8) for n in range(200)}
    assert len(lines) == len(expected)
    assert set(lines) == expected


def test_a_process_exiting_normally_writes_every_line(tmp_path):
    script = (
        "import logging, sys\n"
        "from datasource.loglines import BufferedLineHandler\n"
        "logger = logging.getLogger('datasource.exit')\n"
        "logger.setLevel(logging.INFO)\n"
        "logger.addHandler(BufferedLineHandler(sys.stderr, interval=60))\n"
        "for n in range(1000):\n"
        "    logger.info('line %d', n)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )

    assert result.returncode == 0
    assert result.stderr.splitlines() == [f"line {n}" for n in range(1000)]


def test_the_flushing_thread_restarts_in_a_forked_child(tmp_path):
    script = (
        "import logging, os, sys, time\n"
        "from datasource.loglines import BufferedLineHandler\n"
        "logger = logging.getLogger('datasource.fork')\n"
        "logger.setLevel(logging.INFO)\n"
        "logger.addHandler(BufferedLineHandler(sys.stderr, interval=0.05))\n"
        "logger.info('parent')\n"
        "time.sleep(0.3)\n"
        "if os.fork() == 0:\n"
        "    logger.info('child')\n"
        "    time.sleep(0.5)\n"
        "    os._exit(0)\n"  # no exit handlers: only the thread can have flushed
        "os.wait()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )

    assert result.stderr.splitlines() == ["parent", "child"]


LINE_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"


@pytest.mark.parametrize(
    "created",
    # Within one second, across a second and a minute, and back in time.
    [[1000.1, 1000.9, 1001.0, 1059.99, 1060.0, 999.5]],
)
def test_line_formatter_writes_what_the_standard_formatter_writes(created):
    standard = logging.Formatter(LINE_FORMAT, DATE_FORMAT)
    cached = LineFormatter(LINE_FORMAT, DATE_FORMAT)

    for moment in created:
        record = logging.makeLogRecord(
            {"msg": "GET %s", "args": ("/x",), "levelname": "INFO", "name": "t"}
        )
        record.created = moment

        assert cached.format(record) == standard.format(record)


def test_line_formatter_other_date_format_is_not_cached():
    formatter = LineFormatter(LINE_FORMAT, DATE_FORMAT)
    record = logging.makeLogRecord({"msg": "x"})
    record.created, record.msecs = 1000.25, 250.0

    assert formatter.formatTime(record, DATE_FORMAT) != formatter.formatTime(record)
    assert formatter.formatTime(record).endswith(",250")
