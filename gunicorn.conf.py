"""Gunicorn settings for ``gunicorn app:app``, read from the repository root.

Workers and threads suit a small machine: one worker process per CPU core
(``WEB_CONCURRENCY`` overrides it, as platforms such as Heroku set it), each
with a few threads so that a request waiting on SQLite's write lock or on
MongoDB does not idle its core. Python holds one core per process at most, so
more processes than cores only add memory; the threads cover the waits.

Any gunicorn flag still wins over this file, on the command line or in
``GUNICORN_CMD_ARGS`` (for example ``GUNICORN_CMD_ARGS="--threads 8"``).
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from datasource.loglines import log_server_lines_to_stderr


def _cpu_count() -> int:
    """Cores this process may run on (the affinity mask, as containers limit it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _positive_int(variable: str, default: int) -> int:
    """An environment variable read as a count of one or more."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    value = int(text)
    if value < 1:
        raise ValueError(f"{variable} must be 1 or more, got {text!r}.")
    return value


bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"

workers = _positive_int("WEB_CONCURRENCY", _cpu_count())
worker_class = "gthread"
threads = 4

# The application is built once in the master and shared by the forked
# workers: start-up is faster and memory pages are shared. Stores open lazily
# in each worker (datasource.environments), so no connection crosses a fork.
preload_app = True

# Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel
# spreads new connections across them. On one shared socket, the worker that
# wakes first can take a whole burst of new connections (a load balancer or a
# client pool opening its keep-alive connections), and the other workers then
# idle for as long as those connections live: at 16 connections on two
# workers, one start in three served at half speed. on_starting, below, keeps
# a busy port an error.
reuse_port = True

# A request is bounded by the store's own timeouts; 30 s only catches a hung
# worker. Keep-alive covers a client (or a platform router) reusing
# connections between requests.
timeout = 30
graceful_timeout = 10
keepalive = 5

# Long where filters travel in the URL: allow request lines of up to 8190
# bytes (gunicorn's largest finite limit; its default is 4094). Longer ones get
# gunicorn's own 414 page.
limit_request_line = 8190

# Heartbeat files on a memory file system, so a slow disk never looks like a
# hung worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# No control socket (gunicorn 24+ opens one at $HOME/.gunicorn/gunicorn.ctl by
# default): every server on a machine would take over that one path, and the
# platform, not a socket, manages these processes. Older gunicorns ignore it.
control_socket_disable = True

# The application logs one line per request itself (logger datasource.*);
# gunicorn's access log would repeat it. Errors go to stderr.
accesslog = None
errorlog = "-"


def on_starting(server: Any) -> None:
    """Refuse a port another server listens on, and share no ephemeral port.

    Sockets with SO_REUSEPORT may bind a port that another server of the same
    user holds with it, so a second server would split the first one's
    traffic instead of failing; each address is tried here once without it.
    Port 0 would give each worker a port of its own, so it keeps one socket.
    """
    addresses = [address for address in server.cfg.address if _is_tcp(address)]
    if any(port == 0 for _host, port in addresses):
        server.cfg.set("reuse_port", False)
        return
    for address in addresses:
        _check_port_free(address)
    shown = ", ".join(f"http://{host}:{port}" for host, port in addresses)
    server.log.info("Workers will listen at: %s, on a socket each", shown)


def _is_tcp(address: object) -> bool:
    return isinstance(address, tuple) and len(address) == 2


def _check_port_free(address: tuple[str, int]) -> None:
    """Bind and release the address as a plain listener would.

    :raises SystemExit: when something already listens there, or the address
        cannot be bound at all (not this machine's, or a privileged port).
    """
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SystemExit(
                    f"Another server already listens on {address[0]}:{address[1]}; "
                    "stop it or set PORT to another port."
                ) from None
            raise SystemExit(
                f"Cannot listen on {address[0]}:{address[1]}: {exc.strerror}."
            ) from None


# The package adds no log handlers (the host decides where logs go): give the
# datasource loggers stderr, as gunicorn's own have, before the application
# loads, so start-up lines show too.
log_server_lines_to_stderr()
