"""Command line of the benchmark: ``python -m bench [options]`` (``make bench``).

Examples: ``make bench`` (1,000 and 100,000 documents, 10 s per scenario);
``make bench BENCH_ARGS="--million --json-server --granian --rounds 3"``.

Progress goes to stderr; the table to stdout; the JSON results to
bench/results/ (git-ignored). Ratios compare servers measured in the same
run, alternately, so that they hold on a machine with other load; the CPU
time per request (of the server's processes) is the figure least disturbed
by such load.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench import data, loadgen, peers, report, runner
from bench.runner import RunSettings


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The options: what to measure, how hard, and against which peers."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark datasource under gunicorn against the stack's ceiling.",
    )
    _add_load_options(parser)
    _add_peer_options(parser)
    return parser.parse_args(argv)


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        default="1000,100000",
        help="Comma-separated document counts (default: 1000,100000).",
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="Also measure 1,000,000 documents (about 1.3 GB of data).",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds each.")
    parser.add_argument("--warmup", type=float, default=2.0, help="Seconds before.")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="Measure every scenario this many times and keep the best (default 1).",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections.")
    parser.add_argument(
        "--indexes",
        default="pageCount,title",
        help="Fields of books the server is configured to index, built after the "
        "import (default: pageCount,title, the list query's; empty for none).",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the working directory (data, logs, scripts) and print its path.",
    )


def _add_peer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--granian",
        action="store_true",
        help="Also serve both apps with granian (same workers and threads).",
    )
    parser.add_argument(
        "--json-server",
        action="store_true",
        help="Also measure json-server 0.17.4 from npm on the same documents"
        " (up to 100,000 of them).",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path.home() / ".cache" / "datasource-bench",
        help="Where --json-server installs its npm package.",
    )


def build_settings(arguments: argparse.Namespace, work_dir: Path) -> RunSettings:
    """The run the command line asks for."""
    sizes = tuple(int(text) for text in arguments.sizes.split(",") if text)
    return RunSettings(
        sizes=sizes + ((1_000_000,) if arguments.million else ()),
        servers=("gunicorn", "granian") if arguments.granian else ("gunicorn",),
        load=loadgen.LoadSettings(
            duration=arguments.duration,
            warmup=arguments.warmup,
            threads=arguments.threads,
            connections=arguments.connections,
        ),
        json_server=arguments.json_server,
        work_dir=work_dir,
        cache_dir=arguments.cache_dir,
        rounds=max(1, arguments.rounds),
        indexes=tuple(field for field in arguments.indexes.split(",") if field),
    )


def main(argv: list[str] | None = None) -> None:
    """Run every requested size and print and save the results."""
    arguments = parse_arguments(argv)
    if not data.BOOKS.is_file():
        raise SystemExit(
            f"The benchmark replicates {data.BOOKS}, which is not there: it reads "
            "the shared data beside the checkout, ../shared/data/books.json."
        )
    wrk = loadgen.ensure_wrk()
    if arguments.granian:
        peers.ensure_granian()
    workers, threads = peers.worker_settings()
    settings = build_settings(
        arguments, Path(tempfile.mkdtemp(prefix="datasource-bench-"))
    )

    try:
        results = {
            "machine": report.machine(),
            "settings": {
                **asdict(settings.load),
                "rounds": settings.rounds,
                "indexes": list(settings.indexes),
                "workers": workers,
                "threads_per_worker": threads,
            },
            "sizes": [runner.run_size(settings, wrk, size) for size in settings.sizes],
        }
    finally:
        if arguments.keep:
            print(f"working directory kept: {settings.work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(settings.work_dir, ignore_errors=True)

    report.print_table(results)
    print(f"\nresults: {report.write_json(results)}")


if __name__ == "__main__":
    main()
