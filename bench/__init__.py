"""The benchmark of issue 6: datasource under gunicorn against the stack's ceiling.

``python -m bench`` (or ``make bench``) generates replicated books, imports
them, serves them with ``gunicorn app:app`` as deployed, drives the server
with wrk over loopback and prints rates, latencies, errors and memory next to
those of a minimal Flask + SQLite app (``bench.ceiling_app``) served the same
way. It prints numbers; it is not a test.
"""
