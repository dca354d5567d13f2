"""The benchmark's output: a table for people and a JSON file for machines."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.targets import CEILING_RATIOS, LIST_P50_MS, check_all

RESULTS = Path(__file__).resolve().parent / "results"

_HEADER = (
    f"{'server':<10}{'app':<12}{'scenario':<9}{'req/s':>8}{'p50 ms':>8}"
    f"{'p99 ms':>8}{'errors':>7}{'CPU ms':>9}{'RSS MiB':>8}"
    f"{'x ceiling':>10}{'CPU x':>7}  {'target':<12}{'x peer':>8}"
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
    _print_targets(results)


def _print_targets(results: dict[str, Any]) -> None:
    """One line per target of issue 6, met or missed, for this whole run."""
    print("\n== targets")
    for check in check_all(results):
        print(f"{check.target:<52}{check.measured:>18}  {check.verdict}")


def _print_size(size: dict[str, Any]) -> None:
    imported = size["import"]
    print(
        f"\n== {size['documents']:,} documents ({size['file_bytes'] / 2**20:.1f} MiB"
        f" file): import {imported['docs_per_s']:,.0f} docs/s"
        f" ({imported['seconds']:.2f} s), then indexes built in"
        f" {imported.get('index_seconds', 0):.2f} s"
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
    ratio = _ratio(run, scenario, ceiling, "rps")
    # CPU per request of the ceiling over ours: how much of a core's work
    # ours spends beyond the minimum, independent of other load on the machine.
    cpu_ratio = _ratio(ceiling, scenario, run, "cpu_ms_per_request", run["app"])
    return (
        f"{run['server']:<10}{run['app']:<12}{scenario:<9}{figures['rps']:>8.0f}"
        f"{figures['p50_ms']:>8.2f}{figures['p99_ms']:>8.2f}{figures['errors']:>7.0f}"
        f"{figures.get('cpu_ms_per_request', 0):>9.2f}"
        f"{figures.get('peak_rss_mib', 0):>8.1f}{ratio:>10}{cpu_ratio:>7}"
        f"  {_verdict(run, scenario, figures, ratio):<12}"
        f"{_ratio(run, scenario, peer, 'rps'):>8}"
    )


def _ratio(
    run: dict[str, Any] | None,
    scenario: str,
    other: dict[str, Any] | None,
    key: str,
    app: str = "",
) -> str:
    """``run``'s figure over ``other``'s for one scenario, for datasource rows."""
    if run is None or other is None or (app or run["app"]) != "datasource":
        return ""
    ours, theirs = run["scenarios"].get(scenario), other["scenarios"].get(scenario)
    if ours is None or theirs is None:
        return "-"
    if not theirs.get(key):
        return "inf"
    return f"{ours.get(key, 0) / theirs[key]:.2f}"


def _verdict(
    run: dict[str, Any], scenario: str, figures: dict[str, Any], ratio: str
) -> str:
    """Issue 6's target for this row and whether this run met it."""
    if run["app"] != "datasource":
        return ""
    if not figures["requests"]:
        return "NO ANSWER"
    if figures["errors"]:
        return "ERRORS"
    if scenario == "list":
        is_met = figures["p50_ms"] < LIST_P50_MS
        return f"p50<{LIST_P50_MS:.0f} {'met' if is_met else 'MISSED'}"
    target = CEILING_RATIOS.get(scenario)
    if target is None or ratio in ("", "-"):
        return ""
    is_met = ratio == "inf" or float(ratio) >= target
    return f">={target} {'met' if is_met else 'MISSED'}"


def _find_run(size: dict[str, Any], app: str, kind: str) -> dict[str, Any] | None:
    for run in size["runs"]:
        if run["app"] == app and (not kind or run["server"] == kind):
            return run
    return None
