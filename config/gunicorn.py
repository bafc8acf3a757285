"""Gunicorn settings for both faces (``gunicorn -c config/gunicorn.py …``).

No access log, on purpose: an access log is a list of client addresses, user agents and
exact times, which is what an adversary would need to unmask a reporter. The error log
stays at ERROR: gunicorn logs "Invalid request from ip=…" at WARNING, and the test
tests/intake/test_no_client_identity_logged.py catches any address that slips through.
"""

import sys

from config.settings import ConfigError, load_server_settings

try:
    _server = load_server_settings()
except ConfigError as exc:
    # Stop before gunicorn starts, naming the variable (gunicorn would print a traceback).
    sys.exit(f"error: {exc}")

accesslog = None
disable_redirect_access_to_syslog = True
loglevel = "error"
errorlog = "-"
workers = _server.workers
worker_class = "gthread"
threads = _server.threads
# Large uploads on slow (Tor) connections take a while; encrypted streaming keeps memory flat.
timeout = 300
graceful_timeout = 30
# Behind a reverse proxy, never trust forwarded client addresses (we do not want them).
forwarded_allow_ips = ""
proxy_allow_ips = ""
