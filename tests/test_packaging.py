"""The deployment files agree with the package metadata."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirement_lines() -> list[str]:
    text = (ROOT / "requirements.txt").read_text()
    return [line.strip() for line in text.splitlines() if line.strip()[:1].isalpha()]


def test_requirements_txt_matches_pyproject_dependencies():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())

    assert _requirement_lines() == pyproject["project"]["dependencies"]


def test_procfile_serves_app_with_gunicorn_on_port():
    procfile = (ROOT / "Procfile").read_text().strip()

    assert procfile.startswith("web: gunicorn app:app")
    assert "$PORT" in procfile
