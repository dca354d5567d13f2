"""The benchmark's target check, on made-up results either side of each target."""

from __future__ import annotations

from typing import Any

from bench.targets import check_all


def _scenarios(rps: float, p50_ms: float) -> dict[str, Any]:
    return {
        name: {"requests": 1000, "rps": rps, "p50_ms": p50_ms}
        for name in ("get", "list", "post", "patch")
    }


def _run(app: str, rps: float, p50_ms: float, **memory: Any) -> dict[str, Any]:
    server = "node" if app == "json-server" else "gunicorn"
    figures = {"startup_s": 0.5, "peak_rss_workers_mib": [40.0, 41.0], **memory}
    return {"app": app, "server": server, "scenarios": _scenarios(rps, p50_ms)} | (
        figures
    )


def _size(documents: int, runs: list[dict[str, Any]], rate: float) -> dict[str, Any]:
    return {"documents": documents, "runs": runs, "import": {"docs_per_s": rate}}


def _verdicts(results: dict[str, Any]) -> dict[str, str]:
    return {check.target: check.verdict for check in check_all(results)}


def test_a_run_meeting_every_target_is_met_throughout():
    reference = _size(
        100_000,
        [
            _run("ceiling", 1000, 5.0),
            _run("datasource", 800, 15.0),
            _run("json-server", 5, 500.0),
        ],
        12_000,
    )
    large = _size(1_000_000, [_run("datasource", 700, 22.5)], 11_000)

    verdicts = _verdicts({"sizes": [reference, large]})

    assert set(verdicts.values()) == {"met"}
    assert len(verdicts) == 15


def test_each_target_missed_by_a_little_is_missed():
    reference = _size(
        100_000,
        [
            _run("ceiling", 1000, 5.0),
            _run("datasource", 690, 20.0),
            _run("json-server", 34.5, 500.0),
        ],
        9_999,
    )
    large = _size(
        1_000_000,
        [
            _run(
                "datasource",
                600,
                30.1,
                startup_s=2.0,
                peak_rss_workers_mib=[100.0, 150.0],
            )
        ],
        10_000,
    )

    verdicts = _verdicts({"sizes": [reference, large]})

    assert verdicts["100k get: at least 0.8x the ceiling's req/s"] == "MISSED"
    assert verdicts["100k post: at least 0.7x the ceiling's req/s"] == "MISSED"
    assert verdicts["100k list: p50 under 20 ms"] == "MISSED"
    assert verdicts["1M get: p50 within 1.5x of 100k's"] == "MISSED"
    assert verdicts["1M: each worker's peak RSS under 150 MiB"] == "MISSED"
    assert verdicts["1M: start-up to first answer under 2 s"] == "MISSED"
    assert verdicts["import 100,000: at least 10,000 docs/s"] == "MISSED"
    assert verdicts["import 1,000,000: at least 10,000 docs/s"] == "met"
    assert verdicts["100k get: at least 20x json-server's req/s"] == "met"
    assert verdicts["100k post: at least 100x json-server's req/s"] == "MISSED"


def test_targets_of_sizes_and_peers_not_run_are_not_measured():
    reference = _size(
        100_000, [_run("ceiling", 1000, 5.0), _run("datasource", 900, 10.0)], 12_000
    )

    verdicts = _verdicts({"sizes": [reference]})

    assert verdicts["1M patch: p50 within 1.5x of 100k's"] == "not measured"
    assert verdicts["1M: start-up to first answer under 2 s"] == "not measured"
    assert verdicts["100k patch: at least 100x json-server's req/s"] == "not measured"
    assert verdicts["100k get: at least 0.8x the ceiling's req/s"] == "met"


def test_a_scenario_with_failed_requests_misses_its_targets():
    reference = _size(
        100_000, [_run("ceiling", 1000, 5.0), _run("datasource", 900, 10.0)], 12_000
    )
    reference["runs"][1]["scenarios"]["list"].update(errors=824, p50_ms=0.0)
    large = _size(1_000_000, [_run("datasource", 900, 10.0)], 12_000)
    large["runs"][0]["scenarios"]["get"].update(errors=3)

    verdicts = _verdicts({"sizes": [reference, large]})

    assert verdicts["100k list: p50 under 20 ms"] == "MISSED"
    assert verdicts["1M list: p50 within 1.5x of 100k's"] == "MISSED"
    assert verdicts["1M get: p50 within 1.5x of 100k's"] == "MISSED"
    assert verdicts["1M post: p50 within 1.5x of 100k's"] == "met"
