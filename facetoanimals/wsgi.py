import os

from django.core.wsgi import get_wsgi_application

from facetoanimals.slow_bodies import guard_slow_bodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "facetoanimals.settings")

application = guard_slow_bodies(get_wsgi_application())
