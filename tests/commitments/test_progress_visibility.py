"""四（四）: 践诺 records publicised "在一定范围内" — each record is seen by the officers only (仅工作人员),
also by the members of the owning organisation (本组织党员), or also by the public (公开)."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from commitments import selectors
from commitments.forms_progress import ProgressEntryForm
from commitments.models import ProgressEntry, ProgressVisibility
from orgs.models import Member, MemberStatus, Role
from tests.commitments.evidence import png_upload, record
from tests.commitments.publishing import published
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
V = ProgressVisibility


@pytest.fixture
def scoped(world):
    """A fellow member's pledge in branch A with one record at each level (and a photo each), branch
    A's own commitment with a members-level record, and branch B's pledge with a members-level one."""
    w = world
    w.fellow = published(w, member=w.member_a2)
    w.officers = record(w.fellow, w.staff_a, visibility=V.OFFICERS, done="仅工作人员的记录", files=[png_upload()])
    w.members = record(w.fellow, w.staff_a, visibility=V.MEMBERS, done="本支部党员可见的记录", files=[png_upload()])
    w.public = record(w.fellow, w.staff_a, visibility=V.PUBLIC, done="公开的记录", files=[png_upload()])
    w.own = published(w, organisation=w.branch_a, drafter=w.staff_a)
    record(w.own, w.staff_a, visibility=V.MEMBERS, done="支部承诺的党员可见记录")
    w.pledge_b = published(w, member=w.member_b, reviewer=w.secretary_b, drafter=w.reviewer, publisher=w.reviewer)
    record(w.pledge_b, w.reviewer, visibility=V.MEMBERS, done="二支部的党员可见记录")
    w.member_user_b = make_user("member_b", w.branch_b, Role.MEMBER, member=w.member_b, name="张伟")
    return w


def test_service_stores_the_level_and_refuses_an_unknown_one(world, scoped):
    assert [e.visibility for e in (scoped.officers, scoped.members, scoped.public)] == ["officers", "members", "public"]
    assert scoped.members.scope_label == "本组织党员" and not scoped.members.is_public
    with pytest.raises(ValidationError) as exc:
        record(scoped.fellow, world.staff_a, visibility="everyone")
    assert "visibility" in exc.value.message_dict


def test_the_public_sees_public_records_only(world, scoped):
    client = Client()
    for url in (reverse("portal:public_commitment", args=[scoped.fellow.pk]),
                reverse("commitments:public_progress", args=[scoped.fellow.pk])):
        html = client.get(url).content.decode()
        assert "公开的记录" in html and "本支部党员可见的记录" not in html and "仅工作人员的记录" not in html
    att = lambda e: reverse("commitments:public_attachment", args=[e.attachments.get().pk])  # noqa: E731
    assert client.get(att(scoped.public)).status_code == 200
    assert client.get(att(scoped.members)).status_code == 404 and client.get(att(scoped.officers)).status_code == 404
    # The public counts only what it is shown.
    rows = selectors.progress_items_for(scoped.fellow, public_only=True)
    assert sum(r.entries for r in rows) == 1


def test_officers_see_every_level(world, scoped, as_user):
    html = as_user(world.staff_a).get(reverse("commitments:progress", args=[scoped.fellow.pk])).content.decode()
    for text in ("仅工作人员的记录", "本支部党员可见的记录", "公开的记录", "仅工作人员</span>", "本组织党员</span>"):
        assert text in html


def test_member_page_shows_the_branch_records_at_member_and_public_level(world, scoped, as_user):
    client = as_user(world.member_user_a)
    url = reverse("commitments:branch_progress")
    assert url in client.get(reverse("home")).content.decode()  # in the member's menu
    html = client.get(url).content.decode()
    assert "本支部党员可见的记录" in html and "公开的记录" in html and "支部承诺的党员可见记录" in html
    assert "仅工作人员的记录" not in html and "二支部的党员可见记录" not in html
    assert "王堃的党员公开承诺" in html and "第一党支部的党组织公开承诺" in html
    html = as_user(scoped.member_user_b).get(url).content.decode()
    assert "二支部的党员可见记录" in html and "本支部党员可见的记录" not in html


def test_member_downloads_evidence_of_records_shown_to_members_only(world, scoped, as_user):
    client = as_user(world.member_user_a)
    att = lambda e: reverse("commitments:attachment", args=[e.attachments.get().pk])  # noqa: E731
    assert client.get(att(scoped.members)).status_code == 200
    assert client.get(att(scoped.public)).status_code == 200
    assert client.get(att(scoped.officers)).status_code == 404
    other = as_user(scoped.member_user_b)
    assert other.get(att(scoped.members)).status_code == 404


def test_member_page_is_404_without_a_member_record_and_405_for_post(world, scoped, as_user):
    url = reverse("commitments:branch_progress")
    assert as_user(world.outsider).get(url).status_code == 404
    assert as_user(world.staff_a).get(url).status_code == 404
    Member.objects.filter(pk=world.member_a.pk).update(status=MemberStatus.TRANSFERRED_OUT)
    assert as_user(world.member_user_a).get(url).status_code == 404
    assert as_user(scoped.member_user_b).post(url).status_code == 405


def test_member_page_query_count_is_fixed(world, scoped, as_user, django_assert_max_num_queries, settings):
    client = as_user(world.member_user_a)
    url = reverse("commitments:branch_progress")
    for n in range(30):
        record(scoped.fellow, world.staff_a, visibility=V.MEMBERS, done=f"批量记录{n}", files=[png_upload()],
               on=datetime.date(2010, 11, 2))
    settings.PAGE_SIZE = 50
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert "批量记录29" in html and "共 1" not in html


def test_form_offers_three_levels_defaulting_to_members(world, scoped, as_user):
    form = ProgressEntryForm(items=[])
    assert [c[0] for c in form.fields["visibility"].choices] == ["officers", "members", "public"]
    assert form.fields["visibility"].initial == V.MEMBERS
    client = as_user(world.staff_a)
    url = reverse("commitments:progress_record", args=[scoped.fellow.pk])
    html = client.get(url).content.decode()
    assert "仅工作人员" in html and "本组织党员" in html and "公示范围" in html
    item = scoped.fellow.public_version.snapshot["items"][0]["id"]
    response = client.post(url, {"item": item, "happened_on": "2010-11-05", "done": "表单登记", "visibility": "members"})
    assert response.status_code == 302
    assert ProgressEntry.objects.get(done="表单登记").visibility == V.MEMBERS
