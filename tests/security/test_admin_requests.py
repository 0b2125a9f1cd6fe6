"""三员分立 that no single administrator can bypass (issue 18): the three administrator roles
change only with a second administrator of another kind (or manage.py on the server); password
resets belong to the security administrator and hand out a one-time set-password link; no
account is ever out of every reach; wrong old passwords on 修改密码 count toward the lockout."""
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from orgs import accounts, services, services_admin
from orgs.models import (AdminRequestKind, AdminRequestStatus, AdminRoleRequest, AuditEvent, PasswordResetToken, Role,
                         RoleGrant)
from tests.conftest import PASSWORD, make_user

User = get_user_model()
NEW = "Brand-new-2010x"


def propose(world, kind, role, target=None, **kw):
    return services_admin.admin_request_propose(actor=world.admin, kind=kind, organisation=kw.pop("org", world.root),
                                                role=role, target=target, **kw)


def decide(actor, request, approve=True):
    request.refresh_from_db()
    return services_admin.admin_request_decide(actor=actor, request=request, version=request.version,
                                               approve=approve)


def link(token):
    return reverse("password_reset_confirm", args=[token])


def set_through(client, token, password=NEW):
    return client.post(link(token), {"password1": password, "password2": password})


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.1.2.3")


# --- opening administrator accounts -----------------------------------------------------------

@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SECURITY])
def test_system_administrator_cannot_open_an_administrator_account_alone(world, as_user, role):
    client = as_user(world.admin)
    response = client.post(reverse("orgs:user_create"), {
        "username": "aud_x", "full_name": "某某", "password": "Initial-2010", "organisation": world.root.pk,
        "role": role})
    assert response.status_code == 302 and response["Location"] == reverse("orgs:admin_request_list")
    assert not User.objects.filter(username="aud_x").exists()
    request = AdminRoleRequest.objects.get(kind=AdminRequestKind.OPEN_ACCOUNT, username="aud_x")
    assert request.is_pending and request.proposed_by == world.admin
    # The service refuses it too, whatever page calls it.
    with pytest.raises(ValidationError, match="另一类管理员审批"):
        services.user_create(actor=world.admin, username="aud_y", full_name="某", password="Initial-2010",
                             organisation=world.root, role=role)
    # Neither the proposer nor another system administrator can approve it.
    other_admin = make_user("admin2", world.root, Role.ADMIN)
    for actor in (world.admin, other_admin):
        with pytest.raises(PermissionDenied):
            decide(actor, request)
    assert as_user(world.admin).post(reverse("orgs:admin_request_decide", args=[request.pk]),
                                     {"version": request.version, "approve": "1"}).status_code == 404
    assert not User.objects.filter(username="aud_x").exists()
    # An administrator of another kind approves: the account is opened, the approver (not the
    # proposer) receives its one-time set-password link.
    approver = world.security if role == Role.AUDITOR else world.auditor
    response = as_user(approver).post(reverse("orgs:admin_request_decide", args=[request.pk]),
                                      {"version": request.version, "approve": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    token = html.split("/accounts/reset/")[1].split("/")[0]
    user = User.objects.get(username="aud_x")
    assert RoleGrant.objects.get(user=user).role == role and not user.has_usable_password()
    request.refresh_from_db()
    assert request.status == AdminRequestStatus.APPROVED and request.decided_by == approver
    assert request.target == user
    assert AuditEvent.objects.filter(action="admin_request.approve", actor=approver).exists()
    client.logout()
    assert set_through(client, token).status_code == 302
    assert login(client, "aud_x", NEW).status_code == 302


def test_a_request_is_decided_once(world):
    request = propose(world, AdminRequestKind.OPEN_ACCOUNT, Role.AUDITOR, username="a3", full_name="审计三")
    version = request.version
    services_admin.admin_request_decide(actor=world.security, request=request, version=version, approve=False)
    with pytest.raises(Exception, match="已被他人处理"):
        services_admin.admin_request_decide(actor=world.auditor, request=request, version=version, approve=True)
    assert not User.objects.filter(username="a3").exists()
    assert AuditEvent.objects.filter(action="admin_request.reject").count() == 1


def test_the_proposer_cancels_their_own_request_only(world):
    request = propose(world, AdminRequestKind.GRANT, Role.AUDITOR, target=world.reviewer)
    with pytest.raises(PermissionDenied):
        services_admin.admin_request_cancel(actor=world.security, request=request, version=request.version)
    services_admin.admin_request_cancel(actor=world.admin, request=request, version=request.version)
    request.refresh_from_db()
    assert request.status == AdminRequestStatus.CANCELLED
    assert AuditEvent.objects.filter(action="admin_request.cancel", actor=world.admin).exists()


def test_only_system_administrators_propose_role_changes(world):
    for actor in (world.security, world.auditor, world.secretary_a):
        with pytest.raises(PermissionDenied):
            services_admin.admin_request_propose(actor=actor, kind=AdminRequestKind.GRANT, target=world.reviewer,
                                                 organisation=world.root, role=Role.AUDITOR)


def test_approver_must_reach_the_organisation(world):
    local_security = make_user("sec_c2", world.committee2, Role.SECURITY)
    request = propose(world, AdminRequestKind.GRANT, Role.AUDITOR, target=world.staff_a, org=world.committee)
    with pytest.raises(PermissionDenied):
        decide(local_security, request)
    decide(world.security, request)
    assert RoleGrant.objects.filter(user=world.staff_a, role=Role.AUDITOR, organisation=world.committee).exists()


# --- revoking ----------------------------------------------------------------------------------

def test_system_administrator_cannot_revoke_the_auditor_alone(world, as_user):
    grant = RoleGrant.objects.get(user=world.auditor, role=Role.AUDITOR)
    with pytest.raises(ValidationError, match="另一类管理员审批"):
        services.role_revoke(actor=world.admin, grant=grant)
    response = as_user(world.admin).post(reverse("orgs:grant_revoke", args=[grant.pk]))
    assert response.status_code == 302
    assert RoleGrant.objects.filter(pk=grant.pk).exists()
    request = AdminRoleRequest.objects.get(kind=AdminRequestKind.REVOKE, target=world.auditor)
    # The auditor concerned does not decide on their own role; the security administrator does.
    with pytest.raises(PermissionDenied):
        decide(world.auditor, request)
    decide(world.security, request)
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    event = AuditEvent.objects.filter(action="role.revoke").latest("id")
    assert event.actor == world.security and event.detail["proposed_by"] == world.admin.pk


def test_ordinary_roles_stay_the_system_administrators_alone(world):
    grant = services.role_grant(actor=world.admin, user=world.outsider, organisation=world.branch_b, role=Role.STAFF)
    services.role_revoke(actor=world.admin, grant=grant)
    assert not AdminRoleRequest.objects.exists()


# --- no account out of every reach -----------------------------------------------------------

def test_an_account_whose_grants_were_all_revoked_is_still_found(world, as_user):
    request = propose(world, AdminRequestKind.REVOKE, Role.AUDITOR, target=world.auditor)
    decide(world.security, request)
    assert not RoleGrant.objects.filter(user=world.auditor).exists()
    html = as_user(world.security).get(reverse("orgs:account_list"), {"q": "auditor"}).content.decode()
    assert reverse("orgs:account_detail", args=[world.auditor.pk]) in html
    assert as_user(world.security).get(reverse("orgs:account_detail", args=[world.auditor.pk])).status_code == 200
    # The system administrator of the root finds it too, and proposes the role back.
    assert as_user(world.admin).get(reverse("orgs:user_detail", args=[world.auditor.pk])).status_code == 200
    back = propose(world, AdminRequestKind.GRANT, Role.AUDITOR, target=world.auditor)
    decide(world.security, back)
    assert RoleGrant.objects.filter(user=world.auditor, role=Role.AUDITOR).exists()


def test_unattached_accounts_belong_to_the_roots_security_administrator_only(world, as_user):
    local = make_user("sec_c1", world.committee, Role.SECURITY)
    html = as_user(local).get(reverse("orgs:account_list")).content.decode()
    assert reverse("orgs:account_detail", args=[world.outsider.pk]) not in html
    html = as_user(world.security).get(reverse("orgs:account_list")).content.decode()
    assert reverse("orgs:account_detail", args=[world.outsider.pk]) in html


def test_manage_py_admin_roles_grant_revoke_and_list(world):
    out = io.StringIO()
    call_command("admin_roles", "revoke", "--user", "auditor", "--role", "auditor", stdout=out)
    assert not RoleGrant.objects.filter(user=world.auditor).exists()
    call_command("admin_roles", "grant", "--user", "auditor", "--role", "auditor", "--org", "ROOT", stdout=out)
    assert RoleGrant.objects.filter(user=world.auditor, role=Role.AUDITOR, organisation=world.root).exists()
    events = AuditEvent.objects.filter(action__in=["role.grant", "role.revoke"], actor__isnull=True)
    assert [e.detail["via"] for e in events.order_by("id")] == ["manage.py admin_roles"] * 2
    with pytest.raises(CommandError, match="三员分立"):
        call_command("admin_roles", "grant", "--user", "auditor", "--role", "admin", stdout=out)
    with pytest.raises(CommandError, match="没有用户名"):
        call_command("admin_roles", "grant", "--user", "nobody", "--role", "admin", stdout=out)
    listing = io.StringIO()
    call_command("admin_roles", "list", stdout=listing)
    assert "审计管理员  auditor" in listing.getvalue()


# --- password resets --------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["staff_a", "reviewer", "security", "auditor"])
def test_system_administrator_resets_no_password(world, as_user, target):
    user = getattr(world, target)
    with pytest.raises(PermissionDenied):
        services_admin.password_reset_issue(actor=world.admin, target=user)
    client = as_user(world.admin)
    assert client.post(reverse("orgs:account_reset", args=[user.pk])).status_code == 404
    assert "重置密码" not in client.get(reverse("orgs:user_detail", args=[world.staff_a.pk])).content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_security_administrator_reset_gives_a_one_time_link(world, client, as_user,
                                                             django_capture_on_commit_callbacks):
    world.staff_a.email = "staff_a@example.org"
    world.staff_a.save(update_fields=["email"])
    victim = client.__class__()
    victim.force_login(world.staff_a)
    security = as_user(world.security)
    with django_capture_on_commit_callbacks(execute=True):
        response = security.post(reverse("orgs:account_reset", args=[world.staff_a.pk]))
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")
    token = response.content.decode().split("/accounts/reset/")[1].split("/")[0]
    # Only the hash is stored; the old password stops working and the sessions end at once.
    assert not PasswordResetToken.objects.filter(token_hash=token).exists()
    assert PasswordResetToken.objects.filter(token_hash=accounts.reset_token_hash(token)).exists()
    staff = User.objects.get(pk=world.staff_a.pk)
    assert not staff.has_usable_password()
    assert victim.get(reverse("home")).status_code == 302
    # The owner is told.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["staff_a@example.org"]
    assert token not in mail.outbox[0].body
    security.logout()
    anonymous = client
    # The link opens the set-password page and nothing else; it gives no session.
    page = anonymous.get(link(token))
    assert page.status_code == 200 and page["Referrer-Policy"] == "no-referrer"
    assert "_auth_user_id" not in anonymous.session
    assert anonymous.get(reverse("home")).status_code == 302
    assert anonymous.get(reverse("home") + f"?token={token}").status_code == 302
    assert set_through(anonymous, token).status_code == 302
    assert "_auth_user_id" not in anonymous.session
    # Single use.
    assert anonymous.get(link(token)).status_code == 404
    assert set_through(anonymous, token, "Other-pass-2010").status_code == 404
    assert login(anonymous, "staff_a", PASSWORD).status_code == 200
    assert login(anonymous, "staff_a", NEW).status_code == 302
    assert anonymous.get(reverse("home")).status_code == 200  # no forced change after a chosen password
    assert AuditEvent.objects.filter(action="user.password_reset", actor=world.security).count() == 1
    assert AuditEvent.objects.filter(action="user.password_reset_complete").count() == 1


def test_a_reset_link_expires_and_a_newer_reset_voids_it(world, client):
    first = services_admin.password_reset_issue(actor=world.security, target=world.staff_a).token
    second = services_admin.password_reset_issue(actor=world.security, target=world.staff_a).token
    assert client.get(link(first)).status_code == 404
    assert client.get(link(second)).status_code == 200
    PasswordResetToken.objects.filter(token_hash=accounts.reset_token_hash(second)).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(link(second)).status_code == 404
    third = services_admin.password_reset_issue(actor=world.security, target=world.staff_a).token
    row = PasswordResetToken.objects.get(token_hash=accounts.reset_token_hash(third))
    hours = (row.expires_at - timezone.now()).total_seconds() / 3600
    assert 23.9 < hours <= 24
    assert client.get(link("not-a-token")).status_code == 404


def test_a_reset_link_cannot_set_a_recent_password(world, client):
    token = services_admin.password_reset_issue(actor=world.security, target=world.staff_a).token
    response = set_through(client, token, PASSWORD)
    assert response.status_code == 200 and "最近" in response.content.decode()
    assert client.get(link(token)).status_code == 200  # still usable


def test_a_reset_lifts_a_lockout(world, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        login(client, "staff_a", "wrong")
    assert accounts.is_locked(accounts.username_key("staff_a"))
    token = services_admin.password_reset_issue(actor=world.security, target=world.staff_a).token
    set_through(client, token)
    assert login(client, "staff_a", NEW).status_code == 302


def test_reset_of_a_system_administrator_needs_another_kinds_approval(world, client, as_user,
                                                                       django_capture_on_commit_callbacks):
    world.admin.email = "admin@example.org"
    world.admin.save(update_fields=["email"])
    outcome = services_admin.password_reset_issue(actor=world.security, target=world.admin)
    request = outcome.request
    assert request.kind == AdminRequestKind.PASSWORD_RESET and request.is_pending
    # Nothing happens before approval: the old password works, the link opens nothing.
    assert client.get(link(outcome.token)).status_code == 404
    assert User.objects.get(pk=world.admin.pk).check_password(PASSWORD) and not mail.outbox
    other_security = make_user("sec2", world.root, Role.SECURITY)
    for actor in (world.security, other_security, world.admin):
        with pytest.raises(PermissionDenied):
            decide(actor, request)
    html = as_user(world.auditor).get(reverse("orgs:admin_request_list")).content.decode()
    assert "重置管理员密码" in html and "批准" in html
    with django_capture_on_commit_callbacks(execute=True):
        decide(world.auditor, request)
    assert not User.objects.get(pk=world.admin.pk).has_usable_password()
    assert mail.outbox[0].to == ["admin@example.org"]
    client.logout()
    assert set_through(client, outcome.token).status_code == 302
    assert login(client, "admin", NEW).status_code == 302


def test_a_rejected_reset_voids_its_link(world, client):
    outcome = services_admin.password_reset_issue(actor=world.security, target=world.auditor)
    decide(world.admin, outcome.request, approve=False)
    assert client.get(link(outcome.token)).status_code == 404
    assert User.objects.get(pk=world.auditor.pk).check_password(PASSWORD)


# --- the page ----------------------------------------------------------------------------------

def test_all_three_kinds_see_the_requests_others_do_not(world, as_user):
    propose(world, AdminRequestKind.GRANT, Role.AUDITOR, target=world.reviewer)
    for user in (world.admin, world.security, world.auditor):
        page = as_user(user).get(reverse("orgs:admin_request_list"))
        assert page.status_code == 200 and "reviewer" in page.content.decode()
        assert reverse("orgs:admin_request_list") in as_user(user).get(reverse("home")).content.decode()
    for user in (world.reviewer, world.secretary_a, world.member_user_a):
        assert as_user(user).get(reverse("orgs:admin_request_list")).status_code == 404
    home = as_user(world.security).get(reverse("home")).content.decode()
    assert "管理员变更待审批" in home
    assert "管理员变更待审批" not in as_user(world.admin).get(reverse("home")).content.decode()


def test_request_list_query_count_is_flat(world, as_user, django_assert_max_num_queries):
    users = [make_user(f"u{n}", world.branch_a, Role.STAFF) for n in range(20)]
    for n, user in enumerate(users):
        request = propose(world, AdminRequestKind.GRANT, Role.AUDITOR, target=user)
        if n % 2:
            decide(world.security, request, approve=False)
    client = as_user(world.security)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("orgs:admin_request_list"))
    assert response.content.decode().count("u1") >= 10


# --- 修改密码 counts toward the lockout ----------------------------------------------------------

def test_wrong_old_password_on_change_counts_toward_the_lockout(world, as_user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client = as_user(world.staff_a)
    change = reverse("password_change")
    for _ in range(2):
        response = client.post(change, {"old_password": "guess", "password1": NEW, "password2": NEW},
                               REMOTE_ADDR="10.1.2.3")
        assert "原密码不正确" in response.content.decode()
    response = client.post(change, {"old_password": "guess", "password1": NEW, "password2": NEW},
                           REMOTE_ADDR="10.1.2.3")
    assert "登录失败次数过多" in response.content.decode()
    assert accounts.is_locked(accounts.username_key("staff_a"))
    # While locked even the right old password is refused, and a fresh login is refused.
    response = client.post(change, {"old_password": PASSWORD, "password1": NEW, "password2": NEW},
                           REMOTE_ADDR="10.1.2.3")
    assert "登录失败次数过多" in response.content.decode()
    assert User.objects.get(pk=world.staff_a.pk).check_password(PASSWORD)
    client.logout()
    assert "登录失败次数过多" in login(client, "staff_a", PASSWORD).content.decode()
