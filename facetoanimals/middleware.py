from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from django.conf import settings


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp with one exception: django-rq's staff-only dashboard ships inline scripts."""

    def process_response(self, request, response):
        if request.path.startswith("/admin/rq/") and not hasattr(response, "_csp_update"):
            response._csp_update = {"script-src": [UNSAFE_INLINE]}
        return super().process_response(request, response)


def client_ip(request):
    """The address login throttling counts: behind our own proxy, the one it appended to X-Forwarded-For."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")
