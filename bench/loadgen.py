"""Load generation with wrk: its Lua scripts, its installation and its results.

Each scenario is a Lua script written to a temporary directory. Scripts pick
random existing ids (see ``bench.data.document_id``), and a ``done`` hook
prints one machine-readable line with the request count, latency percentiles
and error counts, so nothing depends on wrk's human-readable report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

from bench.data import ID_PREFIX

RESULT_MARK = "BENCH-RESULT "

_COMMON = Template(
    """
local base = "$base"
local count = $count
local prefix = "$prefix"

local function random_id()
  return prefix .. string.format("%08x", math.random(0, count - 1))
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '$mark{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,'
    .. '"mean_us":%.1f,"max_us":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read,
    e.write, e.status, e.timeout))
end
"""
)

# One book as a client would send it: plain JSON, no id.
_POST_BODY = (
    '{"title":"Unlocking Android","isbn":"1933988673","pageCount":416,'
    '"publishedDate":"2009-04-01T07:00:00Z","thumbnailUrl":"https://example.org/'
    'ableson.jpg","shortDescription":"Unlocking Android: A Developer\'s Guide '
    "provides concise, hands-on instruction for the Android operating system and "
    'development tools.","status":"PUBLISH","authors":["W. Frank Ableson",'
    '"Charlie Collins","Robi Sen"],"categories":["Open Source","Mobile"]}'
)

_SCENARIOS = {
    "get": """
function request()
  return wrk.format("GET", base .. "/" .. random_id())
end
""",
    "list": """
wrk.path = base .. "?pageCount%5Bgt%5D=300&sort=title&limit=20"
""",
    "post": """
wrk.method = "POST"
wrk.path = base
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[$post_body]==]
""",
    "patch": """
local patch_type = "$patch_type"
function request()
  return wrk.format("PATCH", base .. "/" .. random_id(),
    {["Content-Type"] = patch_type},
    '{"pageCount":' .. math.random(1, 2000) .. '}')
end
""",
}

SCENARIOS = tuple(_SCENARIOS)

# The figures of a scenario the server could not answer at all.
NO_RESULT: dict[str, float] = {
    "requests": 0,
    "seconds": 0.0,
    "rps": 0.0,
    "p50_ms": 0.0,
    "p99_ms": 0.0,
    "mean_ms": 0.0,
    "max_ms": 0.0,
    "http_errors": 0,
    "socket_errors": 0,
    "errors": 0,
}


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long wrk drives one scenario."""

    duration: float = 10.0
    warmup: float = 2.0
    threads: int = 2
    connections: int = 16
    timeout: float = 5.0


def write_script(
    directory: Path, scenario: str, base: str, count: int, patch_type: str
) -> Path:
    """Write the Lua script of one scenario against ``base`` and return its path."""
    values = {
        "base": base,
        "count": count,
        "prefix": ID_PREFIX,
        "mark": RESULT_MARK,
        "post_body": _POST_BODY,
        "patch_type": patch_type,
    }
    text = _COMMON.substitute(values) + Template(_SCENARIOS[scenario]).substitute(
        values
    )
    path = directory / f"{scenario}-{base.strip('/').replace('/', '-')}.lua"
    path.write_text(text)
    return path


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: running apt-get install -y wrk", file=sys.stderr)
    apt = ["apt-get", "-qq"]
    if subprocess.run([*apt, "install", "-y", "wrk"], check=False).returncode:
        print("apt-get install failed: running apt-get update first", file=sys.stderr)
        subprocess.run([*apt, "update"], check=True)
        subprocess.run([*apt, "install", "-y", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is still missing after apt-get; install it by hand.")
    return found


def run_wrk(
    wrk: str, url: str, script: Path, settings: LoadSettings, duration: float
) -> dict[str, float]:
    """Run wrk once and return its result line, with rates and errors added."""
    command = [
        wrk,
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={max(1, round(settings.timeout))}s",
        "-s",
        str(script),
        url,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return _summarise(json.loads(line.removeprefix(RESULT_MARK)))
    raise RuntimeError(
        f"wrk printed no result (exit {completed.returncode}): "
        f"{completed.stderr.strip() or completed.stdout.strip()}"
    )


def _summarise(raw: dict[str, float]) -> dict[str, float]:
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 3),
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 3),
        "max_ms": raw["max_us"] / 1000,
        "http_errors": raw["status"],
        "socket_errors": socket_errors,
        "errors": raw["status"] + socket_errors,
    }
