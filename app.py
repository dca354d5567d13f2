"""The WSGI application for ``gunicorn app:app``, configured from the environment.

Other WSGI servers (``granian --interface wsgi app:app``) serve it as well;
under any of them the application's lines go to stderr, as under gunicorn.
"""

from datasource import create_app
from datasource.loglines import log_server_lines_to_stderr

log_server_lines_to_stderr()
app = create_app()
