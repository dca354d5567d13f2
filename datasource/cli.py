"""The ``datasource`` command: serve the API, import and export collections.

A thin layer over the application factory, the environments and
``datasource.transfer``: settings come from ``load_config`` (flags override
the environment), and every failure a user can fix ends as one
``ClickException`` naming the remedy.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from datasource.config import Config, load_config, setting_help
from datasource.environments import Environments
from datasource.errors import ConfigurationError, DatasourceError, EnvironmentNotFound
from datasource.storage import Store
from datasource.transfer import (
    ExportFormat,
    ProgressCallback,
    export_collection,
    export_file,
    import_file,
    import_stream,
)

__all__ = ["main"]

Decorated = TypeVar("Decorated", bound=Callable[..., Any])


def _help_of(variable: str) -> str:
    """The help text of a setting, from the one settings table."""
    for name, default, text in setting_help():
        if name == variable:
            return f"{text} [default: ${name} or {default}]"
    raise LookupError(f"No setting is read from {variable}.")


def environment_argument(command: Decorated) -> Decorated:
    """The ENV argument: a configured environment name."""
    return click.argument("environment", metavar="ENV")(command)


def collection_argument(command: Decorated) -> Decorated:
    """The COLLECTION argument: created on first import."""
    return click.argument("collection")(command)


def data_dir_option(command: Decorated) -> Decorated:
    """--data-dir, overriding DATASOURCE_DATA_DIR for this command."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help=_help_of("DATASOURCE_DATA_DIR"),
    )(command)


@click.group("datasource", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="datasource")
def main() -> None:
    """A REST backend for JSON document collections, one store per environment.

    Settings come from DATASOURCE_* environment variables (see `datasource
    settings`); the flags of each command override them.
    """


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; 0.0.0.0 listens on every one.",
)
@click.option("--port", type=click.IntRange(0, 65535), help=_help_of("PORT"))
@click.option(
    "--debug", is_flag=True, help="Reload on code changes and show tracebacks."
)
@data_dir_option
def serve(host: str, port: int | None, debug: bool, data_dir: str | None) -> None:
    """Run the development server; production uses `gunicorn app:app`."""
    config = _load_config(port=port, data_dir=data_dir)
    _log_to_stderr()

    # Imported here so that import and export work without the HTTP layer.
    from datasource.app import create_app

    create_app(config).run(host=host, port=config.port, debug=debug)


def _log_to_stderr() -> None:
    """Show the application's log, one line per request, instead of Werkzeug's."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.getLogger("datasource").addHandler(handler)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@main.command("import")
@environment_argument
@collection_argument
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Documents written per batch; the whole file is still one transaction.",
)
@data_dir_option
def import_command(
    environment: str,
    collection: str,
    file: str,
    batch_size: int,
    data_dir: str | None,
) -> None:
    """Import FILE into a collection: a JSON array, JSON lines or mongoexport.

    MongoDB Extended JSON is decoded (_id becomes id). The import is all or
    nothing: a bad document stops it, naming its line, and leaves the
    collection as it was. FILE "-" reads standard input.
    """
    config = _load_config(data_dir=data_dir)
    target = f"{environment}/{collection}"

    with _store(config, environment) as store, _progress_bar(file) as progress:
        try:
            count = _import(store, collection, file, progress, batch_size)
        except OSError as exc:
            raise click.ClickException(
                f"Cannot read {file}: {exc.strerror}. Check the path and try again."
            ) from None
        except DatasourceError as exc:
            raise _import_failure(exc, target) from None

    click.echo(f"Imported {_documents(count)} into {target}.")


@main.command("export")
@environment_argument
@collection_argument
@click.argument(
    "file",
    required=False,
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True),
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["lines", "array"]),
    default="lines",
    show_default=True,
    help="One document per line, or one JSON array.",
)
@data_dir_option
def export_command(
    environment: str,
    collection: str,
    file: str,
    output_format: ExportFormat,
    data_dir: str | None,
) -> None:
    """Export a collection, ordered by id, to FILE or standard output.

    The output imports back into identical documents. A FILE is replaced only
    once the export is complete.
    """
    config = _load_config(data_dir=data_dir)
    source = f"{environment}/{collection}"

    with _store(config, environment) as store:
        try:
            count = _export(store, collection, file, output_format)
        except OSError as exc:
            raise click.ClickException(
                f"Cannot write {file}: {exc.strerror}. Check the path and try again."
            ) from None
        except DatasourceError as exc:
            raise click.ClickException(str(exc)) from None

    destination = "standard output" if file == "-" else file
    message = f"Exported {_documents(count)} from {source} to {destination}."
    click.echo(message, err=file == "-")


@main.command()
def settings() -> None:
    """List the settings: environment variable, default and meaning."""
    for variable, default, text in setting_help():
        click.echo(f"{variable}={default}")
        click.echo(f"    {text}")
    click.echo("DATASOURCE_ENV_<NAME>_URL=sqlite:///<data dir>/<name>.sqlite3")
    click.echo(
        "    Store of environment NAME: sqlite:///path, mongodb://... or "
        "mongodb+srv://..."
    )


@main.command()
@data_dir_option
def environments(data_dir: str | None) -> None:
    """List the environments and the store URL of each (passwords hidden)."""
    config = _load_config(data_dir=data_dir)
    width = max(len(name) for name in config.environments)
    for name in config.environments:
        click.echo(f"{name:<{width}}  {_redacted(config.store_url(name))}")


def _load_config(**overrides: Any) -> Config:
    """The settings with the command's flags on top, or a usable error."""
    try:
        return load_config(**overrides)
    except ConfigurationError as exc:
        raise click.ClickException(
            f"{exc} Fix the setting (see `datasource settings`) and try again."
        ) from None


@contextmanager
def _store(config: Config, environment: str) -> Iterator[Store]:
    """The store of an environment, closed afterwards."""
    registry = Environments(config)
    try:
        store = registry.store(environment)
    except EnvironmentNotFound as exc:
        raise click.ClickException(
            f"{exc} Use one of them, or add {environment!r} to DATASOURCE_ENVIRONMENTS."
        ) from None
    except (ConfigurationError, DatasourceError) as exc:
        raise click.ClickException(
            f"Cannot open the store of environment {environment!r}: {exc}"
        ) from None
    try:
        yield store
    finally:
        registry.close()


def _import_failure(exc: DatasourceError, target: str) -> click.ClickException:
    """The error of a failed import; a bad document needs the file fixed."""
    remedy = "; fix the file and import it again" if "line" in exc.extra else ""
    return click.ClickException(f"{exc} Nothing was imported into {target}{remedy}.")


def _import(
    store: Store,
    collection: str,
    file: str,
    progress: ProgressCallback | None,
    batch_size: int,
) -> int:
    if file == "-":
        stdin = sys.stdin.buffer
        return import_stream(
            store, collection, stdin, "standard input", progress, batch_size
        )
    return import_file(store, collection, file, progress, batch_size)


def _export(
    store: Store, collection: str, file: str, output_format: ExportFormat
) -> int:
    if file == "-":
        stdout = sys.stdout.buffer
        count = export_collection(store, collection, stdout, output_format)
        stdout.flush()
        return count
    return export_file(store, collection, file, output_format)


def _is_terminal() -> bool:
    """Whether standard output is a terminal, where a progress bar belongs."""
    return sys.stdout.isatty()


@contextmanager
def _progress_bar(file: str) -> Iterator[ProgressCallback | None]:
    """A progress bar over the bytes of ``file``, on a terminal only."""
    total = _file_size(file)
    if total is None or not _is_terminal():
        yield None
        return

    columns = (
        TextColumn("Importing"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    console = Console(force_terminal=True)
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("import", total=total)
        yield lambda size: bar.advance(task, size)


def _file_size(file: str) -> int | None:
    """The size of a regular file; None for standard input or a missing file."""
    if file == "-":
        return None
    try:
        return os.stat(file).st_size
    except OSError:
        return None


def _documents(count: int) -> str:
    return "1 document" if count == 1 else f"{count} documents"


def _redacted(url: str) -> str:
    """The URL with its password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    credentials, _, hosts = parts.netloc.rpartition("@")
    netloc = f"{credentials.partition(':')[0]}:***@{hosts}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
