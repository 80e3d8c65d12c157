from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp with one exception: django-rq's staff-only dashboard ships inline scripts."""

    def process_response(self, request, response):
        if request.path.startswith("/admin/rq/") and not hasattr(response, "_csp_update"):
            response._csp_update = {"script-src": [UNSAFE_INLINE]}
        return super().process_response(request, response)
