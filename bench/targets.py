"""Issue 6's targets, checked against one benchmark run's results.

Each target gives one line: what it asks, what the run measured, and
whether it was met. A target whose figures the run did not measure (a size
or a peer left out) says so instead of passing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SCENARIOS = ("get", "list", "post", "patch")
CEILING_RATIOS = {"get": 0.8, "post": 0.7, "patch": 0.7}
LIST_P50_MS = 20.0
GROWTH_LIMIT = 1.5
WORKER_RSS_MIB = 150.0
STARTUP_SECONDS = 2.0
IMPORT_DOCS_PER_S = 10_000.0
PEER_RATIOS = {"get": 20.0, "post": 100.0, "patch": 100.0}

_REFERENCE_SIZE = 100_000
_LARGE_SIZE = 1_000_000


@dataclass(frozen=True)
class Check:
    """One target and how the run did against it (None: not measured)."""

    target: str
    measured: str
    is_met: bool | None

    @property
    def verdict(self) -> str:
        if self.is_met is None:
            return "not measured"
        return "met" if self.is_met else "MISSED"


def check_all(results: dict[str, Any]) -> list[Check]:
    """Every target, in the order the issue lists them."""
    sizes = {size["documents"]: size for size in results["sizes"]}
    reference, large = sizes.get(_REFERENCE_SIZE), sizes.get(_LARGE_SIZE)
    return [
        *_ceiling_checks(reference),
        *_growth_checks(reference, large),
        *_large_checks(large),
        *_import_checks(sizes),
        *_peer_checks(reference),
    ]


def _ceiling_checks(size: dict[str, Any] | None) -> Iterator[Check]:
    ours, ceiling = _run(size, "datasource"), _run(size, "ceiling")
    for scenario, minimum in CEILING_RATIOS.items():
        target = f"100k {scenario}: at least {minimum}x the ceiling's req/s"
        ratio = _rate_ratio(ours, ceiling, scenario)
        yield _at_least(target, ratio, minimum, "x")
    p50 = _figure(ours, "list", "p50_ms")
    target = f"100k list: p50 under {LIST_P50_MS:.0f} ms"
    yield _at_most(target, p50, LIST_P50_MS, " ms", strict=True)


def _growth_checks(
    reference: dict[str, Any] | None, large: dict[str, Any] | None
) -> Iterator[Check]:
    before, after = _run(reference, "datasource"), _run(large, "datasource")
    for scenario in SCENARIOS:
        target = f"1M {scenario}: p50 within {GROWTH_LIMIT}x of 100k's"
        small = _figure(before, scenario, "p50_ms")
        big = _figure(after, scenario, "p50_ms")
        growth = _growth(small, big)
        yield _at_most(target, growth, GROWTH_LIMIT, "x")


def _growth(small: float | None, big: float | None) -> float | None:
    """How many times longer the large size took; infinite when either failed."""
    if small is None or big is None:
        return None
    if math.isinf(small) or math.isinf(big) or not small:
        return math.inf
    return big / small


def _large_checks(large: dict[str, Any] | None) -> Iterator[Check]:
    ours = _run(large, "datasource")
    workers = None if ours is None else max(ours["peak_rss_workers_mib"], default=0)
    target = f"1M: each worker's peak RSS under {WORKER_RSS_MIB:.0f} MiB"
    yield _at_most(target, workers, WORKER_RSS_MIB, " MiB", strict=True)
    startup = None if ours is None else ours["startup_s"]
    target = f"1M: start-up to first answer under {STARTUP_SECONDS:.0f} s"
    yield _at_most(target, startup, STARTUP_SECONDS, " s", strict=True)


def _import_checks(sizes: dict[int, dict[str, Any]]) -> Iterator[Check]:
    for documents, size in sorted(sizes.items()):
        target = f"import {documents:,}: at least {IMPORT_DOCS_PER_S:,.0f} docs/s"
        rate = size["import"]["docs_per_s"]
        yield _at_least(target, rate, IMPORT_DOCS_PER_S, " docs/s")


def _peer_checks(size: dict[str, Any] | None) -> Iterator[Check]:
    ours, peer = _run(size, "datasource"), _run(size, "json-server")
    for scenario, minimum in PEER_RATIOS.items():
        target = f"100k {scenario}: at least {minimum:.0f}x json-server's req/s"
        yield _at_least(target, _rate_ratio(ours, peer, scenario), minimum, "x")


def _at_least(target: str, value: float | None, minimum: float, unit: str) -> Check:
    if value is None:
        return Check(target, "-", None)
    return Check(target, f"{value:,.2f}{unit}", value >= minimum)


def _at_most(
    target: str, value: float | None, maximum: float, unit: str, strict: bool = False
) -> Check:
    if value is None:
        return Check(target, "-", None)
    is_met = value < maximum if strict else value <= maximum
    return Check(target, f"{value:,.2f}{unit}", is_met)


def _run(size: dict[str, Any] | None, app: str) -> dict[str, Any] | None:
    """The gunicorn run of an app (json-server has its own server)."""
    if size is None:
        return None
    for run in size["runs"]:
        if run["app"] == app and run["server"] in ("gunicorn", "node"):
            return run
    return None


def _figure(run: dict[str, Any] | None, scenario: str, key: str) -> float | None:
    """One figure of a scenario; a scenario with failed requests has none.

    Requests that failed (timeouts, errors) say nothing about the speed of
    the ones that did not, so they fail the scenario's targets outright.
    """
    if run is None or scenario not in run["scenarios"]:
        return None
    figures = run["scenarios"][scenario]
    if not figures.get("requests") or figures.get("errors"):
        return math.inf if key == "p50_ms" else 0.0
    value: float = figures[key]
    return value


def _rate_ratio(
    ours: dict[str, Any] | None, theirs: dict[str, Any] | None, scenario: str
) -> float | None:
    """Our requests/s over theirs; a peer that answered nothing counts as 0.1."""
    mine = _figure(ours, scenario, "rps")
    if mine is None or theirs is None or scenario not in theirs["scenarios"]:
        return None
    other = theirs["scenarios"][scenario].get("rps") or 0.1
    return mine / other
