"""How each server under test is started: datasource, the ceiling app, json-server.

Datasource and the ceiling both run under gunicorn with the repository's
gunicorn.conf.py (``gunicorn app:app`` as deployed, bound to loopback), or
under granian with the same numbers of workers and threads.
"""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

from bench.servers import ROOT, Server, free_port

BIN = Path(sys.executable).parent
JSON_SERVER_VERSION = "0.17.4"
GRANIAN = "granian>=2.0,<3"


def worker_settings() -> tuple[int, int]:
    """The workers and threads per worker that gunicorn.conf.py chooses here."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return int(settings["workers"]), int(settings["threads"])


def ensure_granian() -> None:
    """Install granian into this environment when it is missing (--granian)."""
    if (BIN / "granian").exists():
        return
    command = [sys.executable, "-m", "pip", "install", "--quiet", GRANIAN]
    print(f"granian is missing: running {' '.join(command)}", file=sys.stderr)
    subprocess.run(command, check=True)


def wsgi_command(server: str, target: str, port: int) -> list[str]:
    """The command serving a WSGI ``module:app`` under gunicorn or granian."""
    if server == "gunicorn":
        return [str(BIN / "gunicorn"), target, "--bind", f"127.0.0.1:{port}"]
    workers, threads = worker_settings()
    return [
        str(BIN / "granian"),
        "--interface=wsgi",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        f"--blocking-threads={threads}",
        "--no-ws",
        target,
    ]


def datasource_server(
    server: str, data_dir: Path, log_dir: Path, indexes: tuple[str, ...]
) -> Server:
    """Datasource on its embedded store, configured to index ``indexes`` of books."""
    port = free_port()
    declared = ",".join(f"books.{field}" for field in indexes)
    return Server(
        name=f"datasource on {server}",
        command=wsgi_command(server, "app:app", port),
        port=port,
        env={"DATASOURCE_DATA_DIR": str(data_dir), "DATASOURCE_INDEXES": declared},
        log_path=log_dir / f"datasource-{server}.log",
        app="datasource",
        kind=server,
    )


def ceiling_server(server: str, database: Path, log_dir: Path) -> Server:
    """The minimal Flask app of bench.ceiling_app on ``database``."""
    port = free_port()
    return Server(
        name=f"ceiling on {server}",
        command=wsgi_command(server, "bench.ceiling_app:app", port),
        port=port,
        env={"BENCH_CEILING_DATABASE": str(database)},
        log_path=log_dir / f"ceiling-{server}.log",
        app="ceiling",
        kind=server,
    )


def json_server(database: Path, log_dir: Path, cache_dir: Path) -> Server:
    """json-server 0.17.4 from npm, installed into ``cache_dir`` on first use."""
    executable = cache_dir / "node_modules" / ".bin" / "json-server"
    if not executable.exists():
        _install_json_server(cache_dir)
    port = free_port()
    return Server(
        name=f"json-server {JSON_SERVER_VERSION}",
        command=[
            str(executable),
            "--quiet",
            "--host=127.0.0.1",
            f"--port={port}",
            str(database),
        ],
        port=port,
        # It holds every document in memory, several times over while it
        # rewrites its file: give node the heap that needs (about 4 GB at
        # 100,000 documents) instead of its default limit.
        env={"NODE_OPTIONS": "--max-old-space-size=8192"},
        log_path=log_dir / "json-server.log",
        app="json-server",
        kind="node",
    )


def _install_json_server(cache_dir: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("--json-server needs node and npm: apt-get install -y npm.")
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(cache_dir),
        f"json-server@{JSON_SERVER_VERSION}",
    ]
    print(f"installing json-server: {' '.join(command)}", file=sys.stderr)
    subprocess.run(command, check=True, stdout=sys.stderr)
