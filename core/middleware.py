"""Middleware that knows nothing of the apps."""
from django.utils.cache import patch_cache_control


class PrivateCacheMiddleware:
    """Every response to a logged-in user is sent `Cache-Control: private, no-store`: its pages
    carry personal data (names, phones, birth months, pledges) that neither a shared proxy nor the
    browser's disk cache may keep after the session ends. A download keeps its own headers
    (Content-Disposition, ETag...) and gains no-store; anonymous visitors' public pages keep their
    public caching (commitments/public_cache.py). Sits after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
