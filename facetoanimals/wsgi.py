"""The WSGI application (gunicorn facetoanimals.wsgi).

A WSGI server runs no system checks, so this runs them as manage.py does before its commands. A bad
setting or a failed check stops start-up with its lines on stderr and status 4, gunicorn's "app
failed to load": gunicorn then stops, where any other status would have it start workers forever.
With --preload (Procfile, docs/DEPLOYMENT.md) the lines come once, before gunicorn's own.
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

from facetoanimals.checks import refuse_start_up_on_errors
from facetoanimals.env import StartUpRefused
from gallery.slow_bodies import guard_slow_bodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facetoanimals.settings")
GUNICORN_APP_LOAD_ERROR = 4

try:
    application = guard_slow_bodies(get_wsgi_application())
    refuse_start_up_on_errors()
except StartUpRefused as refusal:
    sys.stderr.write(f"{refusal.code}\n")
    sys.stderr.flush()
    raise SystemExit(GUNICORN_APP_LOAD_ERROR) from None
