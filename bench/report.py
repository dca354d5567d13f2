"""The benchmark's output: a table for people and a JSON file for machines."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# The ceiling scenario each of ours is compared with (issue 6's targets).
TARGETS = {"get": 0.8, "post": 0.7, "patch": 0.7}
LIST_P50_TARGET_MS = 20.0

_HEADER = (
    f"{'server':<22}{'app':<12}{'scenario':<9}{'req/s':>9}{'p50 ms':>9}"
    f"{'p99 ms':>9}{'errors':>8}{'RSS MiB':>9}{'x ceiling':>11}{'x peer':>9}"
)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def write_json(results: dict[str, Any]) -> Path:
    """Write the results under bench/results/ and return the file's path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / time.strftime("bench-%Y%m%d-%H%M%S.json")
    text = json.dumps(results, indent=2) + "\n"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


def print_table(results: dict[str, Any]) -> None:
    """Print every size's figures, ours as ratios of the ceiling and of the peer."""
    settings, host = results["settings"], results["machine"]
    print(
        f"\nmachine: {host['cpus']} CPUs, {host['platform']}"
        f", Python {host['python']}; wrk {settings['threads']} threads,"
        f" {settings['connections']} connections, {settings['duration']} s per"
        f" scenario after {settings['warmup']} s warm-up; gunicorn"
        f" {settings['workers']} workers x {settings['threads_per_worker']} threads"
    )
    for size in results["sizes"]:
        _print_size(size)


def _print_size(size: dict[str, Any]) -> None:
    imported = size["import"]
    print(
        f"\n== {size['documents']:,} documents ({size['file_bytes'] / 2**20:.1f} MiB"
        f" file): import {imported['docs_per_s']:,.0f} docs/s"
        f" ({imported['seconds']:.2f} s)"
    )
    print(_HEADER)
    peer = _find_run(size, "json-server", "")
    for run in size["runs"]:
        ceiling = _find_run(size, "ceiling", run["server"])
        for scenario, figures in run["scenarios"].items():
            print(_row(run, scenario, figures, ceiling, peer))
    for run in size["runs"]:
        workers = ", ".join(f"{mib:.1f}" for mib in run["peak_rss_workers_mib"])
        label = f"{run['app']} on {run['server']}:"
        print(
            f"{label:<34}start-up to first answer {run['startup_s']:.2f} s;"
            f" peak RSS total {run['peak_rss_total_mib']:.1f} MiB, master"
            f" {run['peak_rss_master_mib']:.1f}, workers [{workers}]"
        )


def _row(
    run: dict[str, Any],
    scenario: str,
    figures: dict[str, Any],
    ceiling: dict[str, Any] | None,
    peer: dict[str, Any] | None,
) -> str:
    ratio = _ratio(run, scenario, ceiling)
    if scenario == "list" and run["app"] == "datasource":
        verdict = "met" if figures["p50_ms"] < LIST_P50_TARGET_MS else "MISSED"
        ratio = f"p50<{LIST_P50_TARGET_MS:.0f}ms {verdict}"
    return (
        f"{run['server']:<22}{run['app']:<12}{scenario:<9}{figures['rps']:>9.1f}"
        f"{figures['p50_ms']:>9.2f}{figures['p99_ms']:>9.2f}{figures['errors']:>8.0f}"
        f"{figures.get('peak_rss_mib', 0):>9.1f}{ratio:>11}"
        f"{_ratio(run, scenario, peer):>9}"
    )


def _ratio(run: dict[str, Any], scenario: str, other: dict[str, Any] | None) -> str:
    """Our rate over another's, marked when it misses issue 6's target."""
    if run["app"] != "datasource" or other is None:
        return ""
    theirs = other["scenarios"].get(scenario)
    if not theirs or not theirs["rps"]:
        return "-" if theirs is None else "inf"
    value = run["scenarios"][scenario]["rps"] / theirs["rps"]
    missed = other["app"] == "ceiling" and value < TARGETS.get(scenario, 0)
    return f"{value:.2f}{'!' if missed else ''}"


def _find_run(size: dict[str, Any], app: str, kind: str) -> dict[str, Any] | None:
    for run in size["runs"]:
        if run["app"] == app and (not kind or run["server"] == kind):
            return run
    return None
