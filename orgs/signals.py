"""Security events of django.contrib.auth written to the audit trail, and the hooks orgs declares
for the apps above it."""
import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import Signal, receiver

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


# Hooks for the apps above orgs, which orgs may not import (STYLE "Layout"): sent by the services
# inside their transaction, after the change is made, so a receiver's writes (and its audit rows)
# commit or roll back with it.
#
# member_transferred: member (now in to_branch), from_branch, to_branch, actor (services.member_transfer).
member_transferred = Signal()
# organisation_moved: org (at its new place), old_path, new_path, old_parent_id, new_parent, actor
# (services.organisation_move).
organisation_moved = Signal()
# public_data_changed: something the public noticeboard shows changed (an organisation's name,
# phone, order or place; a member's name or branch). No arguments besides sender. The commitments
# app renews the noticeboard's page cache (commitments/public_cache.py).
public_data_changed = Signal()
