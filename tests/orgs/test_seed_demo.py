"""seed_demo: the demo tree, members, campaign and accounts; deterministic and idempotent."""
import datetime
import io
import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from commitments.models import Campaign, StampedScan
from orgs.models import BRANCH_KINDS, Member, MemberCategory, MemberStatus, Organisation, OrgKind, Role, RoleGrant
from portal.management.commands.seed_demo import ACCOUNTS, DEMO_PASSWORD, ROOT_CODE, Planner, demo_tree, seed

User = get_user_model()


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    # The demo password is hashed once per run and checked once per login; PBKDF2 would
    # make the login test take seconds without testing anything more.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts():
    return {
        "orgs": Organisation.objects.count(),
        "members": Member.objects.count(),
        "users": User.objects.count(),
        "grants": RoleGrant.objects.count(),
        "campaigns": Campaign.objects.count(),
        "linked": Member.objects.filter(user__isnull=False).count(),
    }


def test_plan_is_deterministic():
    first = [(s.code, phone, rows) for s, _p, _o, phone, rows in Planner().plan(demo_tree())]
    second = [(s.code, phone, rows) for s, _p, _o, phone, rows in Planner().plan(demo_tree())]
    assert first == second


@pytest.mark.django_db
def test_tree_shape():
    seed()
    root = Organisation.objects.get(code=ROOT_CODE)
    assert root.parent is None and root.kind == OrgKind.WORK_COMMITTEE
    orgs = Organisation.objects.filter(path__startswith=root.path)
    kinds = Counter(orgs.values_list("kind", flat=True))
    assert 8 <= kinds[OrgKind.COMMITTEE] + kinds[OrgKind.LEADING_GROUP] <= 12
    assert kinds[OrgKind.LEADING_GROUP] >= 1
    assert kinds[OrgKind.GENERAL_BRANCH] >= 2
    assert 35 <= kinds[OrgKind.BRANCH] <= 50
    assert kinds[OrgKind.TEMP_BRANCH] == 1
    assert all(code.startswith("SZJG") for code in orgs.values_list("code", flat=True))
    # Depth varies: some branches sit directly under a committee, some under a 党总支.
    branch_parents = {o.parent.kind for o in orgs.filter(kind=OrgKind.BRANCH).select_related("parent")}
    assert {OrgKind.COMMITTEE, OrgKind.GENERAL_BRANCH} <= branch_parents
    # Every committee has a branch for its retirees.
    for committee in orgs.filter(kind__in=[OrgKind.COMMITTEE, OrgKind.LEADING_GROUP]):
        assert orgs.filter(parent=committee, name__contains="离退休").exists(), committee.name
    missing_phone = orgs.filter(supervision_phone="")
    assert 2 <= missing_phone.count() <= 3
    assert all(o.kind in BRANCH_KINDS for o in missing_phone)
    for phone in orgs.exclude(supervision_phone="").values_list("supervision_phone", flat=True):
        assert re.fullmatch(r"0756-2\d{6}", phone), phone


@pytest.mark.django_db
def test_members():
    seed()
    members = list(Member.objects.select_related("branch"))
    assert 550 <= len(members) <= 700
    assert all(m.branch.kind in BRANCH_KINDS for m in members)

    categories = Counter(m.category for m in members)
    assert set(categories) == set(MemberCategory.values)
    assert 0.07 <= categories[MemberCategory.LEADER] / len(members) <= 0.14
    assert 0.12 <= categories[MemberCategory.RETIRED] / len(members) <= 0.2
    retired_in_retiree_branches = sum(1 for m in members if m.category == MemberCategory.RETIRED
                                      and "离退休" in m.branch.name)
    assert retired_in_retiree_branches >= 0.9 * categories[MemberCategory.RETIRED]

    names = Counter(m.name for m in members)
    assert sum(1 for count in names.values() if count >= 2) >= 3
    same_branch = Counter((m.branch_id, m.name) for m in members)
    pair_keys = [key for key, count in same_branch.items() if count >= 2]
    assert pair_keys, "expected a same-name pair inside one branch"
    assert any(len({m.birth_month for m in members if (m.branch_id, m.name) == key}) == 2
               for key in pair_keys)
    for rare in "堃喆赟":
        assert any(rare in m.name for m in members), rare
    assert Counter(m.gender for m in members).keys() == {"M", "F"}

    for m in members:
        assert datetime.date(1940, 1, 1) <= m.birth_month <= datetime.date(1988, 12, 1)
        if m.joined_party_on:
            eighteen = m.birth_month.replace(year=m.birth_month.year + 18)
            assert m.joined_party_on >= eighteen, m.name
            assert m.joined_party_on <= datetime.date(2010, 6, 30)
        assert re.fullmatch(r"1[358]\d{9}", m.phone), m.phone
        m.full_clean(exclude=["user"])

    incomplete = [m for m in members if not m.post or m.joined_party_on is None]
    assert 4 <= len(incomplete) <= 6
    assert all(m.user_id is None for m in incomplete)
    statuses = Counter(m.status for m in members)
    assert 2 <= statuses[MemberStatus.TRANSFERRED_OUT] <= 3
    assert statuses[MemberStatus.DECEASED] == 1
    temp = Organisation.objects.get(kind=OrgKind.TEMP_BRANCH)
    assert 6 <= temp.members.count() <= 10


@pytest.mark.django_db
def test_second_run_changes_nothing():
    first = seed()
    before = _counts()
    member_ids = list(Member.objects.order_by("id").values_list("id", "name", "user_id"))
    second = seed()
    assert _counts() == before
    assert list(Member.objects.order_by("id").values_list("id", "name", "user_id")) == member_ids
    assert second["accounts"] == first["accounts"]
    assert second["created"] == {"organisations": 0, "members": 0, "users": 0, "commitments": 0}


@pytest.mark.django_db
def test_accounts_log_in_and_hold_their_roles():
    result = seed()
    by_name = {a["username"]: a for a in result["accounts"]}
    assert set(by_name) == {a.username for a in ACCOUNTS}
    for spec in ACCOUNTS:
        assert Client().login(username=spec.username, password=DEMO_PASSWORD), spec.username
        user = User.objects.get(username=spec.username)
        assert RoleGrant.objects.filter(user=user, role=spec.role,
                                        organisation__code=spec.org_code).exists()
        assert user.last_name == by_name[spec.username]["name"] != ""
        if spec.member_slot:
            assert user.member.branch.code == spec.member_slot[0]
            assert user.member.name == user.last_name
            assert user.member.status == MemberStatus.ACTIVE

    member = User.objects.get(username="member").member
    assert member.category == MemberCategory.GENERAL
    assert User.objects.get(username="member2").member.category == MemberCategory.RETIRED
    # Branch A and branch B are siblings under the first committee.
    branch_a = RoleGrant.objects.get(user__username="zb_secretary").organisation
    branch_b = RoleGrant.objects.get(user__username="zb2_secretary").organisation
    committee = RoleGrant.objects.get(user__username="dw_secretary").organisation
    assert branch_a.parent == branch_b.parent == committee
    assert branch_a.kind == branch_b.kind == OrgKind.BRANCH
    admin = RoleGrant.objects.get(user__username="admin")
    assert admin.role == Role.ADMIN and admin.organisation.parent is None


@pytest.mark.django_db
def test_rerun_never_overwrites_a_changed_password():
    seed()
    user = User.objects.get(username="admin")
    user.set_password("Changed-2010x")
    user.save()
    result = seed()
    user.refresh_from_db()
    assert user.check_password("Changed-2010x")
    assert {a["username"]: a["password"] for a in result["accounts"]}["admin"] == "（已修改）"


@pytest.mark.django_db
def test_campaign_for_the_current_year_with_the_2010_deadlines():
    old = Campaign.objects.create(year=2009, name="2009年", pledge_deadline=datetime.date(2009, 9, 30),
                                  publish_deadline=datetime.date(2009, 10, 31),
                                  evaluation_deadline=datetime.date(2009, 12, 31), is_current=True)
    seed()
    year = timezone.localdate().year
    campaign = Campaign.objects.get(year=year)
    assert campaign.name == f"{year}年创先争优公开承诺"
    assert campaign.pledge_deadline == datetime.date(year, 9, 30)
    assert campaign.publish_deadline == datetime.date(year, 10, 31)
    assert campaign.evaluation_deadline == datetime.date(year, 12, 31)
    assert campaign.leader_min_items == 3
    assert campaign.is_current
    old.refresh_from_db()
    assert not old.is_current


@pytest.mark.django_db
def test_year_option_and_output():
    out = io.StringIO()
    call_command("seed_demo", "--year", "2010", stdout=out)
    text = out.getvalue()
    assert Campaign.objects.get(is_current=True).year == 2010
    assert "用户名" in text and "密码" in text and "角色" in text and "组织" in text
    assert f"组织 {Organisation.objects.count()} 个" in text
    assert f"党员 {Member.objects.count()} 名" in text
    for spec in ACCOUNTS:
        assert spec.username in text
    assert DEMO_PASSWORD in text

    quiet = io.StringIO()
    call_command("seed_demo", "--year", "2010", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""


@pytest.mark.django_db
def test_demo_has_stamped_forms_one_on_the_noticeboard():
    """亮诺 after printing: two published commitments have their stamped form on file (drawn by the
    seed, no binary in the repository); the sibling branch's 公示 copy is on its public page."""
    seed()
    scans = list(StampedScan.objects.select_related("commitment"))
    assert len(scans) == 2 and all(s.is_image and s.width and s.display_path for s in scans)
    shown = [s for s in scans if s.public_display != "none"]
    assert len(shown) == 1 and shown[0].copy == "public" and shown[0].commitment.organisation_id
    page = Client().get(f"/public/commitments/{shown[0].commitment_id}/").content.decode()
    assert f"/public/stamped/{shown[0].pk}/" in page
    assert Client().get(f"/public/stamped/{shown[0].pk}/").status_code == 200
