"""The app's own 400 page: one sentence saying what was wrong with the request, never Django's bare page."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from facetoanimals.slow_bodies import BodyTooSlow


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
