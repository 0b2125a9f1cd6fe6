"""Login lockout, account state and sessions (GB/T 22239-2019 level 2: 身份鉴别).

Failed logins are counted in SecurityCounter rows, so that every server process sees the same
numbers: one per username (lower-cased) and one per client address. The key is a purpose and
an HMAC of the value keyed with SECRET_KEY: the table reveals neither usernames nor addresses,
and an unknown username is counted like a real one, so a lockout says nothing about whether
an account exists.
"""
import datetime
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import audit
from .models import SecurityCounter

User = get_user_model()

USER_PURPOSE = "login-user"
CLIENT_PURPOSE = "login-client"
# Session keys of the timeout middleware: epoch seconds of the login and of the last request.
SESSION_STARTED = "_acct_started"
SESSION_SEEN = "_acct_seen"
# The last-seen time is written back at most this often (a session write per request otherwise).
SEEN_RESOLUTION_SECONDS = 60


def counter_key(purpose: str, value: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return f"{purpose}:{digest.hexdigest()}"


def username_key(username: str) -> str:
    return counter_key(USER_PURPOSE, (username or "").strip().lower())


def client_key(address: str | None) -> str:
    return counter_key(CLIENT_PURPOSE, address or "unknown")


def lockout_message() -> str:
    return (f"登录失败次数过多，账号已锁定，请{settings.LOGIN_LOCKOUT_MINUTES}分钟后再试"
            f"或联系安全管理员。")


def client_lockout_message() -> str:
    return f"本机登录失败次数过多，请{settings.LOGIN_LOCKOUT_MINUTES}分钟后再试或联系安全管理员。"


def is_locked(key: str, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return SecurityCounter.objects.filter(key=key, locked_until__gt=now).exists()


def _locked_row(key: str) -> SecurityCounter:
    """The counter row for `key`, created if missing, locked for this transaction."""
    try:
        with transaction.atomic():
            SecurityCounter.objects.get_or_create(key=key, defaults={"window_started": timezone.now()})
    except IntegrityError:
        pass  # created by a concurrent request; the row exists now
    return SecurityCounter.objects.select_for_update().get(key=key)


def count_failure(key: str, limit: int) -> bool:
    """Count one failure for `key`; True when this failure locks it (only once per lockout)."""
    now = timezone.now()
    window = datetime.timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    with transaction.atomic():
        row = _locked_row(key)
        if row.locked_until is not None and row.locked_until > now:
            return False
        if row.window_started + window < now or row.locked_until is not None:
            row.count, row.window_started, row.locked_until = 0, now, None
        row.count += 1
        just_locked = row.count >= limit
        if just_locked:
            row.locked_until = now + datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        row.save(update_fields=["count", "window_started", "locked_until", "updated_at"])
        return just_locked


def reset(key: str) -> bool:
    """Forget the failures of `key`; True when it was locked."""
    now = timezone.now()
    locked = SecurityCounter.objects.filter(key=key, locked_until__gt=now).exists()
    SecurityCounter.objects.filter(key=key).delete()
    return locked


def login_refusal(username: str, address: str | None) -> str | None:
    """The Chinese message when this username or this client may not try to log in now."""
    now = timezone.now()
    if is_locked(username_key(username), now):
        return lockout_message()
    if is_locked(client_key(address), now):
        return client_lockout_message()
    return None


def login_failed(username: str, address: str | None) -> None:
    """Count a failed attempt for the username and the client; audit a lockout when it starts."""
    _purge_stale()
    user_locked = count_failure(username_key(username), settings.LOGIN_FAILURE_LIMIT)
    client_locked = count_failure(client_key(address), settings.LOGIN_FAILURES_PER_CLIENT)
    if user_locked or client_locked:
        target = User.objects.filter(username__iexact=(username or "").strip()).first()
        with transaction.atomic():
            audit.record(actor=None, action="auth.lockout", obj=target if user_locked else None,
                         result="failure",
                         detail={"username": (username or "")[:150],
                                 "scope": "username" if user_locked else "client",
                                 "minutes": settings.LOGIN_LOCKOUT_MINUTES})


def _purge_stale() -> None:
    """Forget login counters untouched for a day (guessed usernames would pile up otherwise)."""
    day_ago = timezone.now() - datetime.timedelta(days=1)
    (SecurityCounter.objects.filter(updated_at__lt=day_ago)
     .filter(Q(key__startswith=f"{USER_PURPOSE}:") | Q(key__startswith=f"{CLIENT_PURPOSE}:"))
     .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=timezone.now())).delete())


def login_succeeded(username: str) -> None:
    """A successful login clears the username's failures (the client's are kept)."""
    SecurityCounter.objects.filter(key=username_key(username)).delete()


def locked_usernames(users) -> set[int]:
    """Ids of the given (pk, username) pairs whose username is locked now."""
    locked = set(SecurityCounter.objects.filter(key__startswith=f"{USER_PURPOSE}:",
                                                locked_until__gt=timezone.now())
                 .values_list("key", flat=True))
    if not locked:
        return set()
    return {pk for pk, username in users if username_key(username) in locked}


# --- sessions ---------------------------------------------------------------------------------

def end_sessions_of(user_id: int, limit: int = 20000) -> int:
    """Delete the stored sessions of one account (database sessions only, while few enough to
    read through); the middleware ends any other at its next request. Returns how many."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    live = Session.objects.filter(expire_date__gt=timezone.now())
    if live.count() > limit:
        return 0
    wanted = str(user_id)
    keys = [s.session_key for s in live.iterator()
            if str(s.get_decoded().get(SESSION_KEY, "")) == wanted]
    if keys:
        Session.objects.filter(session_key__in=keys).delete()
    return len(keys)


def in_reach(paths: list[str]) -> Q:
    """Accounts tied (by a grant or a member record) to one of the subtrees at `paths`."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(role_grants__organisation__path__startswith=path) | Q(member__branch__path__startswith=path)
    return q


def unattached() -> Q:
    """Accounts tied to no organisation (no grant, no member record): looked after by the
    security administrators of a root, so that no account is out of every reach."""
    return Q(role_grants__isnull=True, member__isnull=True)


# --- password reset links ------------------------------------------------------------------------

def reset_token_hash(token: str) -> str:
    """What is stored of a reset link's random token: its SHA-256 (the token itself never is)."""
    return hashlib.sha256((token or "").encode()).hexdigest()
