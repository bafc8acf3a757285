"""Gunicorn settings for both faces (``gunicorn -c config/gunicorn.py …``).

No access log, on purpose: an access log is a list of client addresses, user agents and
exact times, which is what an adversary would need to unmask a reporter. The error log
stays at ERROR: gunicorn logs "Invalid request from ip=…" at WARNING, and the test
tests/intake/test_no_client_identity_logged.py catches any address that slips through.
"""

import os

accesslog = None
disable_redirect_access_to_syslog = True
loglevel = "error"
errorlog = "-"
workers = int(os.environ.get("LIEMCHINH_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("LIEMCHINH_THREADS", "4"))
# Large uploads on slow (Tor) connections take a while; encrypted streaming keeps memory flat.
timeout = 300
graceful_timeout = 30
# Behind a reverse proxy, never trust forwarded client addresses (we do not want them).
forwarded_allow_ips = ""
proxy_allow_ips = ""
