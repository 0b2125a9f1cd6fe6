"""Request-scoped context for the audit trail; session and password rules of the accounts."""
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from . import accounts
from .audit import client_ip_var
from .models import SEPARATED_ROLES, AccountSecurity
from .password_validation import password_expired
from .permissions import scope_for


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


class AccountSecurityMiddleware:
    """Ends sessions that timed out or whose account was disabled, and sends an account that must
    change its password (initial or reset password, expired administrator password) to the
    password page from every URL, GET and POST alike, until it is changed.

    Sits after AuthenticationMiddleware and MessageMiddleware; static files pass untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.check(request)
        return response if response is not None else self.get_response(request)

    def check(self, request):
        if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
            return None
        user = request.user
        if not user.is_authenticated:
            # Django answers "anonymous" for a disabled or deleted account but keeps its session.
            if SESSION_KEY in request.session:
                request.session.flush()
            return None
        return self._timeout(request) or self._password_change(request, user)

    def _timeout(self, request):
        session = request.session
        now = time.time()
        started, seen = session.get(accounts.SESSION_STARTED), session.get(accounts.SESSION_SEEN)
        if started is None or seen is None:
            session[accounts.SESSION_STARTED] = session[accounts.SESSION_SEEN] = now
            return None
        if (now - seen > settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
                or now - started > settings.SESSION_ABSOLUTE_HOURS * 3600):
            logout(request)
            messages.info(request, "登录已超时，请重新登录。")
            return redirect_to_login(request.get_full_path())
        if now - seen >= accounts.SEEN_RESOLUTION_SECONDS:
            session[accounts.SESSION_SEEN] = now
        return None

    def _password_change(self, request, user):
        if request.path in (reverse("password_change"), reverse("logout")):
            return None
        if password_change_required(user):
            return redirect("password_change")
        return None


def password_change_required(user) -> str:
    """Why the signed-in account must change its password now ("" when it need not)."""
    row = (AccountSecurity.objects.filter(user_id=user.pk)
           .values_list("must_change_password", "password_changed_at").first())
    must, changed_at = row if row else (False, None)
    if must:
        return "initial"
    if settings.PASSWORD_MAX_AGE_DAYS and scope_for(user).has_any(SEPARATED_ROLES) \
            and password_expired(user, changed_at):
        return "expired"
    return ""
