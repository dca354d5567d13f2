"""One benchmark run: per size, generate, import, then load every server in turn."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import data, loadgen, peers
from bench.servers import Server
from datasource.config import load_config
from datasource.environments import Environments
from datasource.transfer import import_file

DATASOURCE_BASE = "/test/books"
JSON_SERVER_BASE = "/books"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class RunSettings:
    """Everything a run was asked to do."""

    sizes: tuple[int, ...]
    servers: tuple[str, ...]
    load: loadgen.LoadSettings
    json_server: bool
    work_dir: Path
    cache_dir: Path
    rounds: int = 1
    indexes: tuple[str, ...] = ()


# json-server loads its whole database into memory: past this size it needs
# more than a benchmark machine has.
JSON_SERVER_MAX_DOCUMENTS = 100_000


def run_size(settings: RunSettings, wrk: str, size: int) -> dict[str, Any]:
    """Measure every server on ``size`` documents; return the size's results."""
    directory = settings.work_dir / f"n{size}"
    (directory / "data").mkdir(parents=True)
    source = directory / "books.jsonl"
    result: dict[str, Any] = {"documents": size, "runs": []}

    print(f"\n== {size:,} documents: generating {source.name}", file=sys.stderr)
    result["file_bytes"] = data.write_documents(source, size)
    result["import"] = import_documents(
        source, directory / "data", size, settings.indexes
    )
    data.build_ceiling_database(source, directory / "ceiling.sqlite3")

    for server in settings.servers:
        subjects = [
            peers.ceiling_server(server, directory / "ceiling.sqlite3", directory),
            peers.datasource_server(
                server, directory / "data", directory, settings.indexes
            ),
        ]
        result["runs"] += measure(settings, wrk, subjects, size)

    if settings.json_server and size > JSON_SERVER_MAX_DOCUMENTS:
        print(
            f"   json-server skipped: it holds every document in memory, about"
            f" 5 GB per {JSON_SERVER_MAX_DOCUMENTS:,}",
            file=sys.stderr,
        )
    elif settings.json_server:
        try:
            result["runs"].append(measure_json_server(settings, wrk, source, size))
        except RuntimeError as exc:
            print(f"   json-server could not be measured: {exc}", file=sys.stderr)
    return result


def import_documents(
    source: Path, data_dir: Path, size: int, indexes: tuple[str, ...]
) -> dict[str, float]:
    """Import the file with the project's importer, then build the indexes.

    The import is what ``datasource import`` runs; the indexes are the ones
    the server is configured with, built once here and timed apart.
    """
    config = load_config({"DATASOURCE_DATA_DIR": str(data_dir)})
    environments = Environments(config)
    print(f"   importing into {config.store_url('test')}", file=sys.stderr)
    try:
        store = environments.store("test")
        began = time.perf_counter()
        count = import_file(store, "books", source)
        imported = time.perf_counter()
        for field in indexes:
            store.ensure_index("books", tuple(field.split(".")))
        indexed = time.perf_counter()
    finally:
        environments.close()
    if count != size:
        raise RuntimeError(f"The import created {count} documents, not {size}.")
    return {
        "seconds": round(imported - began, 3),
        "docs_per_s": round(size / (imported - began), 1),
        "index_seconds": round(indexed - imported, 3),
    }


def measure(
    settings: RunSettings, wrk: str, servers: list[Server], size: int
) -> list[dict[str, Any]]:
    """Start the servers, load them in turn scenario by scenario, stop them.

    Alternating the servers within each scenario keeps their ratios fair on
    a machine whose other load drifts during the run.
    """
    figures: dict[str, dict[str, Any]] = {server.name: {} for server in servers}
    try:
        for server in servers:
            print(f"   {server.name}: starting", file=sys.stderr)
            server.start(f"{_base(server)}/{data.document_id(0)}")
        for _ in range(settings.rounds):
            for scenario in loadgen.SCENARIOS:
                _load_in_turn(settings, wrk, servers, scenario, size, figures)
    finally:
        for server in servers:
            server.stop()
    return [_run_figures(server, figures[server.name]) for server in servers]


def _load_in_turn(
    settings: RunSettings,
    wrk: str,
    servers: list[Server],
    scenario: str,
    size: int,
    figures: dict[str, dict[str, Any]],
) -> None:
    """Load each server with one scenario; keep each server's best round."""
    for server in servers:
        if scenario not in _scenarios(server):
            continue
        result = load_scenario(settings, wrk, server, scenario, size)
        print(f"   {server.name}: {scenario} {result}", file=sys.stderr)
        best = figures[server.name].get(scenario)
        if best is None or result["rps"] > best["rps"]:
            figures[server.name][scenario] = result


def _run_figures(server: Server, scenarios: dict[str, Any]) -> dict[str, Any]:
    return {
        "app": server.app,
        "server": server.kind,
        "startup_s": round(server.startup_seconds, 3),
        **memory_figures(server),
        "scenarios": scenarios,
    }


def _scenarios(server: Server) -> tuple[str, ...]:
    """What a server is asked: the peers have no list query to compare."""
    return loadgen.SCENARIOS if server.app == "datasource" else ("get", "post", "patch")


def _base(server: Server) -> str:
    return JSON_SERVER_BASE if server.app == "json-server" else DATASOURCE_BASE


def load_scenario(
    settings: RunSettings, wrk: str, server: Server, scenario: str, size: int
) -> dict[str, Any]:
    """Warm up, then measure one scenario; a server that fails scores nothing."""
    patch_type = "application/json" if server.app == "json-server" else MERGE_PATCH
    script = loadgen.write_script(
        settings.work_dir, scenario, _base(server), size, patch_type
    )
    try:
        return _warm_and_measure(settings, wrk, server, script)
    except RuntimeError as exc:
        print(f"   {server.name}: {scenario} failed: {exc}", file=sys.stderr)
        return {**loadgen.NO_RESULT, "failure": str(exc), "log": server.log_tail()}


def _warm_and_measure(
    settings: RunSettings, wrk: str, server: Server, script: Path
) -> dict[str, Any]:
    """One scenario's figures, with the CPU time and peak memory it cost."""
    server.wait_until_idle()
    if settings.load.warmup > 0:
        loadgen.run_wrk(wrk, server.url, script, settings.load, settings.load.warmup)
        server.wait_until_idle()
    if server.sampler is not None:
        server.sampler.take_window()
    cpu_before = server.cpu_seconds()
    figures: dict[str, Any] = loadgen.run_wrk(
        wrk, server.url, script, settings.load, settings.load.duration
    )
    cpu = server.cpu_seconds() - cpu_before
    figures["cpu_ms_per_request"] = round(1000 * cpu / max(1, figures["requests"]), 3)
    if server.sampler is not None:
        figures["peak_rss_mib"] = _mib(server.sampler.take_window())
    return figures


def memory_figures(server: Server) -> dict[str, Any]:
    """Peak memory of a stopped server: whole tree, master and each worker."""
    if server.sampler is None or server.process is None:
        return {}
    peaks = server.sampler.peak_by_pid
    master = server.process.pid
    workers = [_mib(peak) for pid, peak in sorted(peaks.items()) if pid != master]
    return {
        "peak_rss_total_mib": _mib(server.sampler.peak_total_kib),
        "peak_rss_master_mib": _mib(peaks.get(master, 0)),
        "peak_rss_workers_mib": workers,
    }


def measure_json_server(
    settings: RunSettings, wrk: str, source: Path, size: int
) -> dict[str, Any]:
    """json-server 0.17.4 on the same documents, for GET, POST and PATCH."""
    database = source.with_name("json-server-db.json")
    data.write_json_server_database(source, database)
    server = peers.json_server(database, source.parent, settings.cache_dir)
    # Its writes take seconds at large sizes: wait for them rather than
    # counting every one as a timeout.
    patient = replace(settings.load, timeout=max(settings.load.timeout, 30.0))
    return measure(replace(settings, load=patient), wrk, [server], size)[0]


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)
