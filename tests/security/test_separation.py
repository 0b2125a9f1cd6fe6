"""三员分立: system, security and audit administration are held by three different accounts; the
security administrator looks after passwords, locks and account status, also of the other two
administrators, which the system administrator may not touch."""
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from orgs import services, services_admin
from orgs.models import AdminRequestKind, AdminRoleRequest, AuditEvent, Role, RoleGrant
from orgs.permissions import can_manage_user
from tests.conftest import make_user

User = get_user_model()


@pytest.mark.parametrize("holder,role", [("auditor", Role.ADMIN), ("auditor", Role.SECURITY),
                                         ("security", Role.AUDITOR), ("security", Role.ADMIN)])
def test_no_account_holds_two_administrator_roles(world, holder, role):
    user = getattr(world, holder)
    with pytest.raises(ValidationError) as exc:
        services_admin.admin_request_propose(actor=world.admin, kind=AdminRequestKind.GRANT, target=user,
                                             organisation=world.committee, role=role)
    assert "三员分立" in " ".join(exc.value.messages) and "不同账号" in " ".join(exc.value.messages)
    assert not RoleGrant.objects.filter(user=user, role=role).exists()
    assert not AdminRoleRequest.objects.exists()


def test_system_administrator_cannot_also_be_security_administrator(world):
    second_admin = make_user("admin2", world.committee, Role.ADMIN)
    with pytest.raises(ValidationError, match="系统管理员"):
        services_admin.admin_request_propose(actor=world.admin, kind=AdminRequestKind.GRANT, target=second_admin,
                                             organisation=world.branch_a, role=Role.SECURITY)


def test_same_administrator_role_elsewhere_and_business_roles_are_allowed(world):
    request = services_admin.admin_request_propose(actor=world.admin, kind=AdminRequestKind.GRANT,
                                                   target=world.auditor, organisation=world.committee2,
                                                   role=Role.AUDITOR)
    services_admin.admin_request_decide(actor=world.security, request=request, version=request.version,
                                        approve=True)
    services.role_grant(actor=world.admin, user=world.security, organisation=world.branch_a, role=Role.MEMBER)
    assert set(RoleGrant.objects.filter(user=world.auditor).values_list("role", flat=True)) == {Role.AUDITOR}


def test_a_new_administrator_account_keeps_to_its_one_role(world):
    request = services_admin.admin_request_propose(actor=world.admin, kind=AdminRequestKind.OPEN_ACCOUNT,
                                                   username="aud2", full_name="审计二",
                                                   organisation=world.committee, role=Role.AUDITOR)
    services_admin.admin_request_decide(actor=world.security, request=request, version=request.version,
                                        approve=True)
    user = User.objects.get(username="aud2")
    with pytest.raises(ValidationError, match="三员分立"):
        services_admin.admin_request_propose(actor=world.admin, kind=AdminRequestKind.GRANT, target=user,
                                             organisation=world.committee, role=Role.ADMIN)
    with pytest.raises(ValidationError, match="未知角色"):
        services.user_create(actor=world.admin, username="x9", full_name="x", password="Initial-2010",
                             organisation=world.committee, role="superuser")


def test_grant_view_shows_the_separation_message(world, as_user):
    response = as_user(world.admin).post(reverse("orgs:user_grant", args=[world.auditor.pk]),
                                         {"organisation": world.root.pk, "role": Role.SECURITY})
    assert response.status_code == 200 and "三员分立" in response.content.decode()


# --- who looks after which account ------------------------------------------------------------

def test_system_administrator_does_not_touch_the_other_administrators(world, as_user):
    for target in (world.auditor, world.security):
        with pytest.raises(PermissionDenied):
            services_admin.password_reset_issue(actor=world.admin, target=target)
        with pytest.raises(PermissionDenied):
            services.user_set_active(actor=world.admin, target=target, active=False)
        client = as_user(world.admin)
        assert client.post(reverse("orgs:account_reset", args=[target.pk])).status_code == 404
        assert client.post(reverse("orgs:user_set_active", args=[target.pk]), {"active": "0"}).status_code == 404
        target.refresh_from_db()
        assert target.is_active and target.check_password("Test-pass-2010")
    # Ordinary accounts stay the system administrator's to enable and disable.
    assert can_manage_user(world.admin, world.staff_a, [world.branch_a.path])


def test_security_administrator_looks_after_every_account_in_reach(world, as_user):
    client = as_user(world.security)
    for target in (world.admin, world.auditor, world.staff_a):
        response = client.post(reverse("orgs:account_reset", args=[target.pk]))
        assert response.status_code == 200 and "/accounts/reset/" in response.content.decode()
    # The ordinary account is reset at once; the two administrators' resets wait for approval.
    assert not User.objects.get(pk=world.staff_a.pk).has_usable_password()
    for target in (world.admin, world.auditor):
        assert User.objects.get(pk=target.pk).check_password("Test-pass-2010")
    assert AdminRoleRequest.objects.filter(kind=AdminRequestKind.PASSWORD_RESET, status="pending").count() == 2
    response = client.post(reverse("orgs:user_set_active", args=[world.staff_a.pk]), {"active": "0"})
    assert response.status_code == 302
    world.staff_a.refresh_from_db()
    assert not world.staff_a.is_active
    assert AuditEvent.objects.filter(action="user.deactivate", actor=world.security).exists()
    assert AuditEvent.objects.filter(action="user.password_reset", actor=world.security).count() == 1


def test_security_administrator_reach_is_the_subtree_and_never_themself(world):
    local = make_user("sec_c1", world.committee, Role.SECURITY)
    assert can_manage_user(local, world.staff_a, [world.branch_a.path])
    with pytest.raises(PermissionDenied):
        services_admin.password_reset_issue(actor=local, target=make_user("d_staff", world.branch_d, Role.STAFF))
    with pytest.raises(PermissionDenied):
        services_admin.password_reset_issue(actor=world.security, target=world.security)
    with pytest.raises(PermissionDenied):
        services.account_unlock(actor=world.admin, target=world.staff_a)


def test_security_administrator_has_no_business_or_provisioning_rights(world, as_user):
    client = as_user(world.security)
    for url in (reverse("orgs:tree"), reverse("orgs:member_list"), reverse("orgs:user_list"),
                reverse("orgs:user_create")):
        assert client.get(url).status_code == 404, url
    with pytest.raises(PermissionDenied):
        services.role_grant(actor=world.security, user=world.outsider, organisation=world.root, role=Role.STAFF)
    nav = client.get(reverse("home")).content.decode()
    assert reverse("orgs:account_list") in nav and "账号安全" in nav


def test_account_list_is_the_security_administrators_subtree(world, as_user):
    local = make_user("sec_c1", world.committee, Role.SECURITY)
    html = as_user(local).get(reverse("orgs:account_list")).content.decode()
    assert "staff_a" in html and "secretary_b" in html
    assert "admin" not in html.split("<tbody>")[1]  # the root's accounts are out of reach
    assert as_user(local).get(reverse("orgs:account_detail", args=[world.admin.pk])).status_code == 404
