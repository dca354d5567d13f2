"""The ``datasource`` command line, through click's CliRunner, with exact output."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from datasource import cli
from datasource.app import create_app
from datasource.cli import main
from datasource.config import load_config, setting_help

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def environ(tmp_path, monkeypatch) -> dict[str, str]:
    """A process environment with no stray settings and a fresh data directory."""
    for name in list(os.environ):
        if name.startswith("DATASOURCE_") or name == "PORT":
            monkeypatch.delenv(name)
    values = {
        "DATASOURCE_DATA_DIR": str(tmp_path / "data"),
        "DATASOURCE_SQLITE_SYNCHRONOUS": "OFF",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def runner(environ) -> CliRunner:
    return CliRunner()


@pytest.fixture
def client(environ):
    app = create_app(load_config())
    return app.test_client()


def _data_file(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not there: the shared data sits next to the clone")
    return path


def test_import_books_prints_count_and_serves_them(runner, client):
    result = runner.invoke(
        main, ["import", "test", "books", str(_data_file("books.json"))]
    )

    first = client.get("/test/books/1").get_json()
    assert (result.exit_code, result.output) == (
        0,
        "Imported 431 documents into test/books.\n",
    )
    assert first["id"] == 1
    assert first["title"] == "Unlocking Android"
    assert first["publishedDate"] == "2009-04-01T07:00:00.000Z"
    assert client.get("/test/books/53c2ae8528d75d572c06ad9d").status_code == 200
    assert client.get("/production").get_json()["collections"] == []


def test_import_restaurants_prints_count_and_keeps_spaced_field(runner, client):
    result = runner.invoke(
        main, ["import", "test", "restaurants", str(_data_file("restaurant.json"))]
    )

    first = client.get("/test/restaurants/55f14312c7447c3da7051b26").get_json()
    assert result.output == "Imported 2548 documents into test/restaurants.\n"
    assert first["address line 2"] == "Cardiff"


def test_import_one_document_says_document(runner, tmp_path):
    path = tmp_path / "one.json"
    path.write_bytes(b'[{"_id": 1}]')

    result = runner.invoke(main, ["import", "test", "one", str(path)])

    assert result.output == "Imported 1 document into test/one.\n"


def test_import_standard_input_reads_dash(runner, client):
    result = runner.invoke(
        main, ["import", "test", "notes", "-"], input=b'{"_id": "a", "n": 1}\n'
    )

    assert result.output == "Imported 1 document into test/notes.\n"
    assert client.get("/test/notes/a").get_json() == {"id": "a", "n": 1}


def test_import_on_terminal_shows_progress_bar(runner, monkeypatch):
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)

    result = runner.invoke(
        main, ["import", "test", "books", str(_data_file("books.json"))]
    )

    assert result.exit_code == 0
    assert "Importing" in result.output
    assert result.output.endswith("Imported 431 documents into test/books.\n")


def test_import_bad_line_300_fails_and_imports_nothing(runner, client, tmp_path):
    lines = _data_file("books.json").read_bytes().splitlines(keepends=True)
    lines[299] = b'{ "_id" : 300, "title" : }\n'
    path = tmp_path / "books.json"
    path.write_bytes(b"".join(lines))

    result = runner.invoke(main, ["import", "test", "books", str(path)])

    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}, line 300, column 26: invalid JSON (unexpected character, "
        "expected a JSON value). Nothing was imported into test/books; fix the "
        "file and import it again.\n",
    )
    assert client.get("/test/books").get_json() == []


def test_import_duplicate_id_fails_naming_line(runner, tmp_path):
    path = tmp_path / "things.json"
    path.write_bytes(b'{"_id": 1}\n{"_id": 1}\n')

    result = runner.invoke(main, ["import", "test", "things", str(path)])

    assert (result.exit_code, result.output) == (
        1,
        f"Error: {path}, line 2: A document with id 1 is already in collection "
        "'things' or earlier in the same batch; choose another id or replace "
        "that document. "
        "Nothing was imported into test/things; fix the file and import it again.\n",
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param(
            ["import", "staging", "books", "books.json"],
            "Error: There is no environment named 'staging'; the environments are "
            "production, test. Use one of them, or add 'staging' to "
            "DATASOURCE_ENVIRONMENTS.\n",
            id="import-unknown-environment",
        ),
        pytest.param(
            ["export", "staging", "books"],
            "Error: There is no environment named 'staging'; the environments are "
            "production, test. Use one of them, or add 'staging' to "
            "DATASOURCE_ENVIRONMENTS.\n",
            id="export-unknown-environment",
        ),
        pytest.param(
            ["import", "test", "books", "missing.json"],
            "Error: Cannot read missing.json: No such file or directory. Check the "
            "path and try again.\n",
            id="import-missing-file",
        ),
        pytest.param(
            ["export", "test", "books", "no/such/dir/books.jsonl"],
            "Error: Cannot write no/such/dir/books.jsonl: No such file or "
            "directory. Check the path and try again.\n",
            id="export-missing-directory",
        ),
        pytest.param(
            ["import", "test", "bad name", "-"],
            "Error: The collection name 'bad name' is invalid: use a letter, digit "
            "or underscore, then up to 63 letters, digits, '_', '.' or '-'. "
            "Nothing was imported into test/bad name.\n",
            id="import-bad-collection-name",
        ),
    ],
)
def test_command_user_error_names_remedy(
    runner, tmp_path, monkeypatch, arguments, message
):
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(main, arguments, input=b'{"a": 1}\n')

    assert (result.exit_code, result.output) == (1, message)


def test_command_invalid_setting_names_it(runner, monkeypatch):
    monkeypatch.setenv("DATASOURCE_MAX_DEPTH", "deep")

    result = runner.invoke(main, ["environments"])

    assert (result.exit_code, result.output) == (
        1,
        "Error: Setting DATASOURCE_MAX_DEPTH has the invalid value 'deep' "
        "(invalid literal for int() with base 10: 'deep'). Fix the setting "
        "(see `datasource settings`) and try again.\n",
    )


def test_import_batch_size_zero_is_a_usage_error(runner):
    result = runner.invoke(main, ["import", "test", "books", "-", "--batch-size", "0"])

    assert result.exit_code == 2
    assert "Invalid value for '--batch-size': 0 is not in the range x>=1." in (
        result.output
    )


@pytest.fixture
def letters(runner, tmp_path) -> bytes:
    """An imported collection of three documents; returns its JSON lines."""
    path = tmp_path / "letters.json"
    path.write_bytes(b'[{"_id": 2, "a": "b"}, {"_id": 1, "a": "a"}, {"_id": "c"}]')
    runner.invoke(main, ["import", "test", "letters", str(path)])
    return b'{"id":1,"a":"a"}\n{"id":2,"a":"b"}\n{"id":"c"}\n'


def test_export_without_file_writes_standard_output(runner, letters):
    result = runner.invoke(main, ["export", "test", "letters"])

    assert result.exit_code == 0
    assert result.stdout_bytes == letters
    assert (
        result.stderr == "Exported 3 documents from test/letters to standard output.\n"
    )


def test_export_dash_array_writes_standard_output(runner, letters):
    result = runner.invoke(
        main, ["export", "test", "letters", "-", "--format", "array"]
    )

    assert (
        result.stdout_bytes
        == b"[\n" + letters.rstrip(b"\n").replace(b"\n", b",\n") + b"\n]\n"
    )


def test_export_file_writes_file_and_reimports_identically(runner, letters, tmp_path):
    target = tmp_path / "letters.jsonl"

    exported = runner.invoke(main, ["export", "test", "letters", str(target)])
    imported = runner.invoke(main, ["import", "production", "letters", str(target)])
    again = runner.invoke(main, ["export", "production", "letters"])

    assert exported.output == f"Exported 3 documents from test/letters to {target}.\n"
    assert target.read_bytes() == letters
    assert imported.output == "Imported 3 documents into production/letters.\n"
    assert again.stdout_bytes == letters


def test_export_missing_collection_writes_nothing(runner):
    result = runner.invoke(main, ["export", "test", "never"])

    assert (result.stdout_bytes, result.stderr) == (
        b"",
        "Exported 0 documents from test/never to standard output.\n",
    )


def test_settings_lists_every_setting_with_default_and_help(runner):
    result = runner.invoke(main, ["settings"])

    expected = "".join(
        f"{variable}={default}\n    {text}\n"
        for variable, default, text in setting_help()
    )
    assert result.output == expected + (
        "DATASOURCE_ENV_<NAME>_URL=sqlite:///<data dir>/<name>.sqlite3\n"
        "    Store of environment NAME: sqlite:///path, mongodb://... or "
        "mongodb+srv://...\n"
    )


def test_environments_lists_store_urls_with_password_hidden(
    runner, environ, monkeypatch
):
    monkeypatch.setenv("DATASOURCE_ENVIRONMENTS", "production,test,qa")
    monkeypatch.setenv(
        "DATASOURCE_ENV_PRODUCTION_URL",
        "mongodb+srv://app:s3cret@cluster0.example.net/books?retryWrites=true",
    )
    monkeypatch.setenv("DATASOURCE_ENV_QA_URL", "mongodb://localhost:27017/qa")

    result = runner.invoke(main, ["environments", "--data-dir", "/srv/data"])

    assert result.output == (
        "production  mongodb+srv://app:***@cluster0.example.net/books"
        "?retryWrites=true\n"
        "test        sqlite:////srv/data/test.sqlite3\n"
        "qa          mongodb://localhost:27017/qa\n"
    )


@pytest.fixture
def served(monkeypatch) -> list[dict]:
    """Calls of Flask.run, recorded instead of starting a server."""
    calls: list[dict] = []

    def record(app: Flask, **options) -> None:
        calls.append({"app": app, **options})

    monkeypatch.setattr(Flask, "run", record)
    # serve logs to stderr; keep that handler out of the other tests.
    logger = logging.getLogger("datasource")
    monkeypatch.setattr(logger, "handlers", [])
    return calls


def test_serve_logs_datasource_lines_to_stderr(runner, served):
    runner.invoke(main, ["serve"])

    [handler] = logging.getLogger("datasource").handlers
    assert isinstance(handler, logging.StreamHandler)


@pytest.mark.parametrize(
    ("arguments", "port_variable", "expected"),
    [
        pytest.param([], None, ("127.0.0.1", 5000, False), id="defaults"),
        pytest.param(
            [], "8080", ("127.0.0.1", 8080, False), id="port-from-environment"
        ),
        pytest.param(
            ["--host", "0.0.0.0", "--port", "9000", "--debug"],
            "8080",
            ("0.0.0.0", 9000, True),
            id="flags-override-environment",
        ),
    ],
)
def test_serve_runs_application_factory(
    runner, served, monkeypatch, arguments, port_variable, expected
):
    if port_variable is not None:
        monkeypatch.setenv("PORT", port_variable)

    result = runner.invoke(main, ["serve", *arguments])

    assert result.exit_code == 0, result.output
    [call] = served
    assert (call["host"], call["port"], call["debug"]) == expected
    assert isinstance(call["app"], Flask)


def test_serve_data_dir_flag_reaches_the_store(runner, served, tmp_path):
    runner.invoke(main, ["serve", "--data-dir", str(tmp_path / "elsewhere")])

    client = served[0]["app"].test_client()
    client.post("/test/notes", json={"id": 1})
    assert (tmp_path / "elsewhere" / "test.sqlite3").exists()


def test_main_entry_point_is_the_command_group():
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    assert (
        result.output.splitlines()[0] == "Usage: datasource [OPTIONS] COMMAND [ARGS]..."
    )
    assert sorted(main.commands) == [
        "environments",
        "export",
        "import",
        "serve",
        "settings",
    ]
