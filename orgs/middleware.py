"""Request-scoped context for the audit trail."""
from .audit import client_ip_var


class AuditContextMiddleware:
    """Makes the client address available to orgs.audit.record for the length of a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Behind a reverse proxy the address comes from REMOTE_ADDR as the proxy sets it
        # (nginx: proxy_set_header / real_ip); X-Forwarded-For is not trusted here.
        token = client_ip_var.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            client_ip_var.reset(token)
