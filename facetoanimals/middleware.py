from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.middleware.gzip import GZipMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp with one exception: django-rq's staff-only dashboard ships inline scripts."""

    def process_response(self, request, response):
        if request.path.startswith("/admin/rq/") and not hasattr(response, "_csp_update"):
            response._csp_update = {"script-src": [UNSAFE_INLINE]}
        return super().process_response(request, response)


class TextGZipMiddleware(GZipMiddleware):
    """Django's gzip for pages and JSON only: photos, dogs and zips are already compressed, and
    gzipping a streamed file would only cost CPU and drop its Content-Length."""

    COMPRESSED_TYPES = ("text/", "application/json")

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith(self.COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
