"""Personas shared by all tests: a small tree with every kind of user.

    市直机关工委 (root)            admin, city reviewer (staff), city secretary, auditor, security
    └── 某局机关党委 (committee)     committee secretary
        ├── 第一党支部 (branch A)     secretary A, staff A, member A (with login), members
        ├── 第二党支部 (branch B)     secretary B
        └── 综合党总支 (general)
            └── 第三党支部 (branch C, a child of the committee's subtree)
    another committee with branch D (outside the first committee)
"""
import datetime
import itertools

import pytest
from django.contrib.auth import get_user_model

from orgs import services
from orgs.models import Member, MemberCategory, OrgKind, Role, RoleGrant

User = get_user_model()
PASSWORD = "Test-pass-2010"
_seq = itertools.count(1)


def make_org(parent, name, kind=OrgKind.BRANCH, **kw):
    """An organisation under `parent` (None for a root), created through the service."""
    return services.organisation_create(actor=None, parent=parent, name=name, kind=kind, **kw)


def make_member(branch, name="张伟", **kw):
    """A member row, written directly: tests of other things need many of them cheaply."""
    defaults = dict(gender="M", birth_month=datetime.date(1975, 3, 1), post="科员",
                    joined_party_on=datetime.date(1998, 7, 1), category=MemberCategory.GENERAL)
    defaults.update(kw)
    return Member.objects.create(branch=branch, name=name, **defaults)


def make_campaign(year=2010, **kw):
    """A campaign year with the 2010 deadlines (亮诺 by the end of October)."""
    from commitments.models import Campaign
    defaults = dict(name=f"{year}年创先争优公开承诺", pledge_deadline=datetime.date(year, 9, 30),
                    publish_deadline=datetime.date(year, 10, 31), evaluation_deadline=datetime.date(year, 12, 31),
                    is_current=True)
    defaults.update(kw)
    return Campaign.objects.create(year=year, **defaults)


def make_commitment(campaign, *, organisation=None, member=None, status="draft", goal="争当优秀共产党员",
                    items=1, actor=None, **kw):
    """A commitment written directly in `status`, with `items` complete items; submitted states
    get a frozen version 1 as the service would write it."""
    from commitments.models import Commitment, CommitmentVersion, Item
    from commitments.services.lifecycle import snapshot_of
    reviewer_org = organisation.parent if organisation is not None else member.branch
    actor = actor or User.objects.filter(is_active=True).first()
    c = Commitment.objects.create(campaign=campaign, organisation=organisation, member=member, status=status,
                                  reviewer_org=reviewer_org, goal=goal, created_by=actor, **kw)
    for n in range(items):
        Item.objects.create(commitment=c, position=n + 1, content=f"承诺事项{n + 1}：为群众办实事",
                            measures=f"措施{n + 1}", deadline=datetime.date(campaign.year, 12, 31),
                            responsible="" if member is not None else "支部书记")
    if status != "draft":
        snapshot = snapshot_of(c, list(c.items.order_by("position")))
        CommitmentVersion.objects.create(commitment=c, number=1, snapshot=snapshot, submitted_by=actor)
        c.submitted_count = 1
        c.last_submitted_by = actor
        c.save(update_fields=["submitted_count", "last_submitted_by"])
    return c


def make_user(username, org=None, role=None, member=None, name=""):
    user = User.objects.create_user(username=username, password=PASSWORD, last_name=name or username)
    if org is not None:
        RoleGrant.objects.create(user=user, organisation=org, role=role)
    if member is not None:
        member.user = user
        member.save(update_fields=["user"])
    return user


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Cached PDFs and uploads go to a folder of the test's own, never into the working tree.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # PBKDF2 costs ~0.2 s a hash by design; tests create many accounts and hash nothing secret.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class World:
    """Attribute bag for the persona tree."""


@pytest.fixture
def world(db):
    return make_world()


def make_world():
    """The persona tree: organisations, members, accounts and the 2010 campaign."""
    w = World()
    w.root = make_org(None, "中共珠海市直属机关工作委员会", OrgKind.WORK_COMMITTEE, code="ROOT",
                      supervision_phone="0756-2121234")
    w.committee = make_org(w.root, "市某局机关党委", OrgKind.COMMITTEE, code="C1")
    w.branch_a = make_org(w.committee, "第一党支部", code="C1-A", supervision_phone="0756-2120001")
    w.branch_b = make_org(w.committee, "第二党支部", code="C1-B")
    w.general = make_org(w.committee, "综合党总支", OrgKind.GENERAL_BRANCH, code="C1-G")
    w.branch_c = make_org(w.general, "第三党支部", code="C1-G-C")
    w.committee2 = make_org(w.root, "市另一局党组", OrgKind.LEADING_GROUP, code="C2")
    w.branch_d = make_org(w.committee2, "第四党支部", code="C2-D")

    w.member_a = make_member(w.branch_a, "李娜", gender="F")
    w.member_a2 = make_member(w.branch_a, "王堃", category=MemberCategory.RETIRED,
                              birth_month=datetime.date(1945, 1, 1), joined_party_on=datetime.date(1970, 7, 1))
    w.member_b = make_member(w.branch_b, "张伟")
    w.member_c = make_member(w.branch_c, "陈喆")
    w.member_d = make_member(w.branch_d, "刘赟")

    w.admin = make_user("admin", w.root, Role.ADMIN, name="系统管理员")
    w.reviewer = make_user("reviewer", w.root, Role.STAFF, name="市直审核员")
    w.city_secretary = make_user("city_secretary", w.root, Role.SECRETARY, name="工委书记")
    w.auditor = make_user("auditor", w.root, Role.AUDITOR, name="审计员")
    w.security = make_user("security", w.root, Role.SECURITY, name="安全管理员")
    w.committee_secretary = make_user("dw_secretary", w.committee, Role.SECRETARY, name="机关党委书记")
    w.secretary_a = make_user("secretary_a", w.branch_a, Role.SECRETARY, name="一支部书记")
    w.staff_a = make_user("staff_a", w.branch_a, Role.STAFF, name="一支部组织委员")
    w.member_user_a = make_user("member_a", w.branch_a, Role.MEMBER, member=w.member_a, name="李娜")
    w.secretary_b = make_user("secretary_b", w.branch_b, Role.SECRETARY, name="二支部书记")
    w.outsider = make_user("outsider", name="无关人员")
    w.campaign = make_campaign(2010)
    return w


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def as_user(client):
    """as_user(user) → the test client logged in as that user."""
    def _as(user):
        client.logout()
        client.force_login(user)
        return client
    return _as
