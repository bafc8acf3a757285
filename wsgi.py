"""WSGI entry points: ``gunicorn wsgi:intake_app`` and ``gunicorn wsgi:review_app``.

Run them as two processes on two ports (``make run`` does). Both read the same
``LIEMCHINH_*`` settings; see config/settings.py.
"""

from app.factory import create_intake_app, create_review_app

intake_app = create_intake_app()
review_app = create_review_app()
