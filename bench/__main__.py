"""Command line of the benchmark: ``python -m bench [options]`` (``make bench``).

Progress goes to stderr; the table to stdout; the JSON results to
bench/results/ (git-ignored).
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench import loadgen, peers, report, runner


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark datasource under gunicorn against the stack's ceiling.",
    )
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
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections.")
    parser.add_argument(
        "--granian",
        action="store_true",
        help="Also serve both apps with granian (same workers and threads).",
    )
    parser.add_argument(
        "--json-server",
        action="store_true",
        help="Also measure json-server 0.17.4 from npm on the same documents.",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path.home() / ".cache" / "datasource-bench",
        help="Where --json-server installs its npm package.",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run every requested size and print and save the results."""
    arguments = parse_arguments(argv)
    sizes = tuple(int(text) for text in arguments.sizes.split(",") if text)
    sizes += (1_000_000,) if arguments.million else ()
    load = loadgen.LoadSettings(
        duration=arguments.duration,
        warmup=arguments.warmup,
        threads=arguments.threads,
        connections=arguments.connections,
    )
    wrk = loadgen.ensure_wrk()
    workers, threads = peers.worker_settings()

    with tempfile.TemporaryDirectory(prefix="datasource-bench-") as work_dir:
        settings = runner.RunSettings(
            sizes=sizes,
            servers=("gunicorn", "granian") if arguments.granian else ("gunicorn",),
            load=load,
            json_server=arguments.json_server,
            work_dir=Path(work_dir),
            cache_dir=arguments.cache_dir,
        )
        results = {
            "machine": report.machine(),
            "settings": {
                **asdict(load),
                "workers": workers,
                "threads_per_worker": threads,
            },
            "sizes": [runner.run_size(settings, wrk, size) for size in sizes],
        }

    report.print_table(results)
    print(f"\nresults: {report.write_json(results)}")


if __name__ == "__main__":
    main()
