"""Security events of django.contrib.auth written to the audit trail."""
import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import accounts, audit


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit.record(actor=user, action="auth.login", obj=user)
    session = getattr(request, "session", None)
    if session is not None:
        # The clock of the idle and absolute session limits (orgs.middleware).
        session[accounts.SESSION_STARTED] = session[accounts.SESSION_SEEN] = time.time()


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(actor=user, action="auth.logout", obj=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The password is never stored; the username tried is.
    audit.record(actor=None, action="auth.login_failed", result="failure",
                 detail={"username": str(credentials.get("username", ""))[:150]})
