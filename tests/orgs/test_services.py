"""Services: happy path, wrong actor, wrong state, audit row written."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.errors import Conflict
from orgs import services, services_admin
from orgs.models import AuditEvent, Member, MemberStatus, MemberTransfer, Organisation, OrgKind, Role, RoleGrant


def last_event(action):
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


# --- organisations -------------------------------------------------------------------------

def test_create_child_sets_path_depth_code_and_audits(world):
    org = services.organisation_create(actor=world.admin, parent=world.general, name="第五党支部",
                                       kind=OrgKind.BRANCH, supervision_phone="０７５６－２１２ ３４５６")
    assert org.path == world.general.path + f"{org.pk:010d}/"
    assert org.depth == 3
    assert org.code == f"Z{org.pk:06d}"
    assert org.supervision_phone == "0756-2123456"
    ev = last_event("org.create")
    assert ev.actor == world.admin and ev.object_id == str(org.pk) and ev.organisation == org


def test_create_child_by_non_admin_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.organisation_create(actor=world.city_secretary, parent=world.root, name="x", kind=OrgKind.COMMITTEE)
    assert not Organisation.objects.filter(name="x").exists()


def test_no_child_under_a_branch(world):
    with pytest.raises(ValidationError) as exc:
        services.organisation_create(actor=world.admin, parent=world.branch_a, name="小组", kind=OrgKind.BRANCH)
    assert "党支部下不能再设立党组织" in str(exc.value)


def test_bad_supervision_phone_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.organisation_create(actor=world.admin, parent=world.root, name="x", kind=OrgKind.COMMITTEE,
                                     supervision_phone="12ab")
    assert "电话号码格式不正确" in str(exc.value)


def test_update_with_stale_version_says_someone_else_acted(world):
    org = world.branch_a
    services.organisation_update(actor=world.admin, org=org, version=org.version, data={"name": "改名一"})
    with pytest.raises(Conflict) as exc:
        services.organisation_update(actor=world.admin, org=org, version=org.version, data={"name": "改名二"})
    assert "已被他人修改" in exc.value.message
    assert Organisation.objects.get(pk=org.pk).name == "改名一"


def test_cannot_deactivate_org_with_active_members(world):
    with pytest.raises(ValidationError) as exc:
        services.organisation_update(actor=world.admin, org=world.branch_a, version=world.branch_a.version,
                                     data={"is_active": False})
    assert "在册党员" in str(exc.value)


def test_cannot_turn_org_with_members_into_committee(world):
    with pytest.raises(ValidationError):
        services.organisation_update(actor=world.admin, org=world.branch_a, version=world.branch_a.version,
                                     data={"kind": OrgKind.GENERAL_BRANCH})


def test_move_rewrites_whole_subtree_paths(world):
    general = world.general
    services.organisation_move(actor=world.admin, org=general, new_parent=world.committee2, version=general.version)
    general.refresh_from_db()
    world.branch_c.refresh_from_db()
    assert general.parent == world.committee2
    assert general.path.startswith(world.committee2.path)
    assert world.branch_c.path.startswith(general.path)
    assert world.branch_c.depth == 3
    # Members moved with their branch: the old committee no longer counts them.
    assert Member.objects.filter(branch__path__startswith=world.committee2.path, name="陈喆").exists()
    assert last_event("org.move").detail == {"from_parent": world.committee.pk, "to_parent": world.committee2.pk}


def test_move_into_own_subtree_is_refused(world):
    with pytest.raises(ValidationError):
        services.organisation_move(actor=world.admin, org=world.committee, new_parent=world.general,
                                   version=world.committee.version)


def test_move_by_non_admin_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.organisation_move(actor=world.committee_secretary, org=world.general,
                                   new_parent=world.committee2, version=world.general.version)


# --- members --------------------------------------------------------------------------------

MEMBER = dict(name="赵　敏 ", gender="F", birth_month=datetime.date(1980, 5, 17), post="科员",
              joined_party_on=datetime.date(2003, 7, 1), phone="138 0000 1234", category="general",
              status="active", note="")


def test_member_create_cleans_input_and_audits(world):
    m = services.member_create(actor=world.staff_a, branch=world.branch_a, data=MEMBER)
    assert m.name == "赵敏"
    assert m.birth_month == datetime.date(1980, 5, 1)
    assert m.phone == "13800001234"
    assert last_event("member.create").object_id == str(m.pk)


def test_member_create_in_sibling_branch_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.member_create(actor=world.staff_a, branch=world.branch_b, data=MEMBER)


def test_member_joining_before_eighteen_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.member_create(actor=world.staff_a, branch=world.branch_a,
                               data={**MEMBER, "joined_party_on": datetime.date(1995, 1, 1)})
    assert "年满十八岁" in str(exc.value)
    assert not Member.objects.filter(name="赵敏").exists()


def test_member_update_records_changes_and_bumps_version(world):
    m = world.member_a
    services.member_update(actor=world.secretary_a, member=m, version=m.version, data={"post": "副科长"})
    m.refresh_from_db()
    assert m.post == "副科长" and m.version == 2
    assert last_event("member.update").detail == {"changes": {"post": ["科员", "副科长"]}}


def test_member_update_stale_version_loses_nothing(world):
    m = world.member_a
    services.member_update(actor=world.secretary_a, member=m, version=1, data={"post": "副科长"})
    with pytest.raises(Conflict):
        services.member_update(actor=world.staff_a, member=m, version=1, data={"post": "科长"})
    m.refresh_from_db()
    assert m.post == "副科长"


def test_member_update_by_sibling_secretary_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.member_update(actor=world.secretary_b, member=world.member_a, version=1, data={"post": "x"})


def test_transfer_keeps_history(world):
    m = world.member_a
    services.member_transfer(actor=world.committee_secretary, member=m, to_branch=world.branch_c,
                             version=m.version, transferred_on=datetime.date(2010, 6, 1), reason="工作调动")
    m.refresh_from_db()
    assert m.branch == world.branch_c
    t = MemberTransfer.objects.get(member=m)
    assert (t.from_branch, t.to_branch, t.reason) == (world.branch_a, world.branch_c, "工作调动")
    assert last_event("member.transfer").detail["to"] == world.branch_c.pk


def test_transfer_to_branch_out_of_reach_is_refused(world):
    with pytest.raises(ValidationError):
        services.member_transfer(actor=world.secretary_a, member=world.member_a, to_branch=world.branch_b,
                                 version=world.member_a.version)
    assert not MemberTransfer.objects.exists()


def test_transfer_of_departed_member_is_refused(world):
    Member.objects.filter(pk=world.member_a.pk).update(status=MemberStatus.DECEASED)
    with pytest.raises(ValidationError):
        services.member_transfer(actor=world.committee_secretary, member=world.member_a,
                                 to_branch=world.branch_c, version=1)


# --- accounts -------------------------------------------------------------------------------

def test_user_create_links_member_and_grants_role(world):
    user = services.user_create(actor=world.admin, username="new_member", full_name="王堃",
                                password="Zh-2010-abc", organisation=world.branch_a, role=Role.MEMBER,
                                member=world.member_a2)
    world.member_a2.refresh_from_db()
    assert world.member_a2.user == user
    assert RoleGrant.objects.filter(user=user, organisation=world.branch_a, role=Role.MEMBER).exists()
    assert user.check_password("Zh-2010-abc")
    assert last_event("user.create").actor == world.admin


def test_user_create_rejects_weak_password_and_duplicate_username(world):
    with pytest.raises(ValidationError):
        services.user_create(actor=world.admin, username="x1", full_name="x", password="12345678",
                             organisation=world.branch_a, role=Role.STAFF)
    with pytest.raises(ValidationError):
        services.user_create(actor=world.admin, username="ADMIN", full_name="x", password="Zh-2010-abc",
                             organisation=world.branch_a, role=Role.STAFF)


def test_user_create_by_non_admin_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.user_create(actor=world.secretary_a, username="x2", full_name="x", password="Zh-2010-abc",
                             organisation=world.branch_a, role=Role.STAFF)


def test_role_grant_and_revoke_are_audited(world):
    grant = services.role_grant(actor=world.admin, user=world.outsider, organisation=world.branch_b, role=Role.STAFF)
    assert last_event("role.grant").detail == {"user": world.outsider.pk, "role": "staff"}
    services.role_revoke(actor=world.admin, grant=grant)
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    assert last_event("role.revoke").object_id == str(grant.pk)


def test_admin_cannot_revoke_own_role(world):
    grant = RoleGrant.objects.get(user=world.admin)
    with pytest.raises(ValidationError):
        services.role_revoke(actor=world.admin, grant=grant)


def test_deactivate_and_no_password_reset_by_the_system_administrator(world):
    services.user_set_active(actor=world.admin, target=world.staff_a, active=False)
    world.staff_a.refresh_from_db()
    assert not world.staff_a.is_active
    assert last_event("user.deactivate")
    # Passwords are the security administrator's (orgs.services_admin.password_reset_issue).
    with pytest.raises(PermissionDenied):
        services_admin.password_reset_issue(actor=world.admin, target=world.staff_a)


def test_secretary_cannot_reset_passwords(world):
    with pytest.raises(PermissionDenied):
        services_admin.password_reset_issue(actor=world.secretary_a, target=world.staff_a)


def test_audit_rows_are_append_only(world):
    ev = AuditEvent.objects.first()
    with pytest.raises(PermissionError):
        ev.save()
    with pytest.raises(PermissionError):
        ev.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
