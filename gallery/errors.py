"""The app's own error pages: one sentence saying what went wrong, never Django's bare page.

400: what was wrong with the request. 500: Django's page, except when the database is away (a restart,
or a hang past its bound, FTA_DB_TIMEOUT): then 503 with one sentence and Retry-After, as JSON for the
endpoints scripts read (static/js/progress.js polls status.json), so a client waits and asks again.
"""

import sys

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from .slow_bodies import BodyTooSlow

# Seconds a client should wait before asking again while the database is away (a restart takes a few).
DATABASE_RETRY_AFTER = 5


def bad_request(request, exception):
    if isinstance(exception, BodyTooSlow):
        sentence = _("Your connection sent that too slowly; please try again.")
    elif isinstance(exception, TooManyFilesSent):
        sentence = _("That was too many files at once; please send one photo at a time.")
    elif isinstance(exception, TooManyFieldsSent):
        sentence = _("That form had too many fields to read; please send it again from our page.")
    elif isinstance(exception, RequestDataTooBig):
        sentence = _("That form was too large to read; please send it again from our page.")
    elif isinstance(exception, MultiPartParserError):
        sentence = _("That upload could not be read; please choose the file again, with a shorter name if it has a long one.")
    else:
        sentence = _("We could not read that request; please go back and try again.")
    return render(request, "400.html", {"sentence": sentence}, status=400)


def server_error(request):
    """Called by Django for an exception nothing handled; sys.exc_info() holds it."""
    if not isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return defaults.server_error(request)
    sentence = _("The database is briefly unavailable. Please try again in a few seconds.")
    if request.path.endswith(".json") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": sentence}, status=503)
    else:
        # Rendered without the request: its user and session would need the database.
        response = HttpResponse(loader.render_to_string("503.html", {"sentence": sentence}), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
