"""Sessions: a new key at login, idle and absolute limits, logout and disabled accounts end the
server-side session."""
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse

from orgs import accounts, services, services_admin
from orgs.models import AuditEvent
from tests.conftest import PASSWORD

User = get_user_model()


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 30
    settings.SESSION_ABSOLUTE_HOURS = 12


def _login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.cookies["sessionid"].value


def _shift(client, **seconds_ago):
    session = client.session
    now = time.time()
    for name, ago in seconds_ago.items():
        session[{"started": accounts.SESSION_STARTED, "seen": accounts.SESSION_SEEN}[name]] = now - ago
    session.save()


def test_login_issues_a_new_session_key(world, client):
    session = client.session
    session["before_login"] = "x"
    session.save()
    client.cookies["sessionid"] = session.session_key
    old_key = session.session_key
    new_key = _login(client, world.staff_a)
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    assert Session.objects.filter(session_key=new_key).exists()


def test_logout_deletes_the_server_side_session(world, client):
    key = _login(client, world.staff_a)
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("home")).status_code == 302


def test_an_active_session_keeps_working(world, client):
    _login(client, world.staff_a)
    _shift(client, started=11 * 3600, seen=29 * 60)
    assert client.get(reverse("home")).status_code == 200
    # The request moved the idle clock forward.
    assert time.time() - client.session[accounts.SESSION_SEEN] < 60


@pytest.mark.parametrize("started,seen", [(3600, 31 * 60), (12 * 3600 + 60, 10)])
def test_idle_or_too_long_sessions_end(world, client, started, seen):
    key = _login(client, world.staff_a)
    _shift(client, started=started, seen=seen)
    response = client.get(reverse("orgs:member_list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(action="auth.logout", actor=world.staff_a).exists()
    page = client.get(response["Location"]).content.decode()
    assert "登录已超时，请重新登录" in page
    # Logging in again works.
    _login(client, world.staff_a)
    assert client.get(reverse("home")).status_code == 200


def test_a_timed_out_post_changes_nothing(world, client):
    _login(client, world.staff_a)
    _shift(client, seen=31 * 60)
    count = world.branch_a.members.count()
    response = client.post(reverse("orgs:member_create"), {"branch": world.branch_a.pk, "name": "某某"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert world.branch_a.members.count() == count


def test_deactivating_an_account_ends_its_sessions(world, client):
    key = _login(client, world.staff_a)
    assert client.get(reverse("home")).status_code == 200
    services.user_set_active(actor=world.admin, target=world.staff_a, active=False)
    assert not Session.objects.filter(session_key=key).exists()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_disabled_account_session_is_flushed_at_its_next_request(world, client):
    # Disabled behind the service's back (e.g. in the database): the middleware still ends it.
    key = _login(client, world.staff_a)
    User.objects.filter(pk=world.staff_a.pk).update(is_active=False)
    assert Session.objects.filter(session_key=key).exists()
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()


def test_a_password_reset_ends_the_holders_sessions(world, client):
    key = _login(client, world.staff_a)
    services_admin.password_reset_issue(actor=world.security, target=world.staff_a)
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
