"""Helpers shared by the HTTP tests: the problem+json check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PROBLEM_MEMBERS = {"type", "title", "status", "detail"}


def check_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert PROBLEM_MEMBERS <= set(problem)
    assert problem["status"] == status
    assert isinstance(problem["type"], str) and problem["type"]
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"].endswith(".")
    assert "Traceback" not in response.get_data(as_text=True)
    for error in problem.get("errors", []):
        assert set(error) == {"path", "message"}
    return problem


@pytest.fixture
def assert_problem() -> Callable[[Any, int], dict[str, Any]]:
    return check_problem
