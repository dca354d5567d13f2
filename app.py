"""The WSGI application for ``gunicorn app:app``, configured from the environment."""

from datasource import create_app

app = create_app()
