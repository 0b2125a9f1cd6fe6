"""亮诺 and the public noticeboard: publish, revise, public pages without personal data."""
import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from commitments import services
from commitments.models import CommitmentStatus, Publication
from commitments.services.lifecycle import InvalidTransition
from core.templatetags.cn import cn_date
from orgs.models import AuditEvent, Member
from tests.commitments.publishing import approved, published
from tests.conftest import make_commitment

S = CommitmentStatus


def test_publish_records_date_channels_and_public_version(world):
    c = approved(world, member=world.member_a)
    pub = services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                      published_on=datetime.date(2010, 10, 20), channels=["internet", "meeting", "x"])
    c.refresh_from_db()
    assert c.status == S.PUBLISHED and c.public_version.number == 1
    assert pub.channels == ["meeting", "internet"] and pub.channel_labels == ["会议", "网络"]
    ev = AuditEvent.objects.get(action="commitment.publish")
    assert ev.detail["channels"] == ["meeting", "internet"] and ev.actor == world.staff_a


def test_publish_needs_channel_and_past_date(world):
    c = approved(world, member=world.member_a)
    with pytest.raises(ValidationError) as exc:
        services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                    published_on=datetime.date.today() + datetime.timedelta(days=1), channels=[])
    assert set(exc.value.message_dict) == {"channels", "published_on"}


def test_publish_refused_for_member_sibling_and_unapproved(world):
    c = approved(world, member=world.member_a)
    for actor in (world.member_user_a, world.secretary_b, world.auditor):
        with pytest.raises(PermissionDenied):
            services.commitment_publish(actor=actor, commitment=c, version=c.version,
                                        published_on=datetime.date(2010, 10, 16), channels=["meeting"])
    draft = make_commitment(world.campaign, member=world.member_b)
    with pytest.raises(InvalidTransition):
        services.commitment_publish(actor=world.secretary_b, commitment=draft, version=draft.version,
                                    published_on=datetime.date(2010, 10, 16), channels=["meeting"])


def test_publish_stale_version_is_a_conflict(world):
    from core.errors import Conflict
    c = approved(world, member=world.member_a)
    services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                published_on=datetime.date(2010, 10, 16), channels=["meeting"])
    with pytest.raises(Conflict):
        services.commitment_publish(actor=world.secretary_a, commitment=c, version=c.version,
                                    published_on=datetime.date(2010, 10, 17), channels=["meeting"])
    assert Publication.objects.count() == 1


def test_revision_keeps_public_version_until_republished(world):
    c = published(world, member=world.member_a)
    c = services.commitment_revise(actor=world.staff_a, commitment=c, version=c.version)
    assert c.status == S.DRAFT and c.public_version.number == 1
    item = c.items.first()
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="修订后的目标",
                                       items=[{"id": item.pk, "content": "修订后的事项", "measures": "m",
                                               "deadline": datetime.date(2010, 12, 31), "responsible": ""}])
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    client = Client()
    html = client.get(reverse("portal:public_commitment", args=[c.pk])).content.decode()
    assert "修订后的事项" not in html and "该承诺正在修订" in html
    c.refresh_from_db()
    from reviews.services import review_decide
    review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="approve",
                  criteria={k: True for k in ("advanced", "central_work", "post_duties", "public_wishes", "feasible")},
                  opinion="同意")
    c.refresh_from_db()
    services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                published_on=datetime.date.today(), channels=["internet"])
    html = client.get(reverse("portal:public_commitment", args=[c.pk])).content.decode()
    assert "修订后的事项" in html and "修订记录" in html and "第1版" in html and f"{cn_date(datetime.date.today())}公开（现行）" in html
    old = client.get(reverse("portal:public_commitment", args=[c.pk]), {"version": 1}).content.decode()
    assert "已被修订" in old and "修订后的事项" not in old
    assert client.get(reverse("portal:public_commitment", args=[c.pk]), {"version": 9}).status_code == 404


def test_unpublished_commitments_are_not_public(world):
    c = approved(world, member=world.member_a)
    assert Client().get(reverse("portal:public_commitment", args=[c.pk])).status_code == 404


def test_publish_view_and_detail_buttons(world, as_user):
    c = approved(world, member=world.member_a)
    client = as_user(world.staff_a)
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert "公开亮诺" in html and "党务政务公开栏" in html and "打印承诺书" in html
    response = client.post(reverse("commitments:publish", args=[c.pk]), {
        "version": c.version, "published_on": "2010-10-20", "channels": ["noticeboard", "internet"]})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "2010年10月20日 公开第1版" in html and "党务政务公开栏、网络" in html and "修订承诺" in html


def test_publish_view_without_channel_says_so(world, as_user):
    c = approved(world, member=world.member_a)
    response = as_user(world.staff_a).post(reverse("commitments:publish", args=[c.pk]), {
        "version": c.version, "published_on": "2010-10-20"}, follow=True)
    assert "请至少选择一种公开方式" in response.content.decode()
    c.refresh_from_db()
    assert c.status == S.APPROVED


def test_noticeboard_lists_and_searches(world):
    p = published(world, member=world.member_a)
    published(world, organisation=world.branch_a, drafter=world.staff_a)
    client = Client()
    html = client.get(reverse("portal:noticeboard")).content.decode()
    assert "第一党支部" in html and "本组织承诺已公开" in html and "党员承诺 1 份" in html
    html = client.get(reverse("portal:noticeboard"), {"q": "李娜"}).content.decode()
    assert reverse("portal:public_commitment", args=[p.pk]) in html and "第一党支部" in html
    html = client.get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "李娜" in html and "创建目标" in html and "0756-2120001" in html
    html = client.get(reverse("portal:public_org", args=[world.committee.pk])).content.decode()
    assert "第一党支部" in html and "承诺已公开" in html


def test_public_org_of_revoked_org_is_404(world):
    world.branch_c.is_active = False
    world.branch_c.save()
    assert Client().get(reverse("portal:public_org", args=[world.branch_c.pk])).status_code == 404


def test_no_public_page_shows_personal_data(world):
    """Phones, birth months and party-join dates of members never reach a public URL."""
    Member.objects.filter(pk=world.member_a.pk).update(phone="13912345678")
    c = published(world, member=world.member_a)
    published(world, organisation=world.branch_a)
    forbidden = ["13912345678", "1975年3月", "1975-03", "1998年7月1日", "1998-07-01", "1975年03月"]
    client = Client()
    urls = [reverse("portal:noticeboard"), reverse("portal:noticeboard") + "?q=李娜",
            reverse("portal:public_commitment", args=[c.pk]),
            reverse("portal:public_commitment", args=[c.pk]) + "?version=1"]
    urls += [reverse("portal:public_org", args=[o.pk]) for o in (world.root, world.committee, world.branch_a)]
    urls += [reverse("commitments:suggest", args=[world.branch_a.pk])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for text in forbidden:
            assert text not in html, f"{text} on {url}"
        assert not re.search(r"1[3-9]\d{9}", html), url


def test_public_pages_work_without_login_and_query_count_stays_small(world, django_assert_max_num_queries):
    for i in range(3):
        m = Member.objects.create(branch=world.branch_a, name=f"党员{i}", gender="M")
        published(world, member=m)
    client = Client()
    with django_assert_max_num_queries(8) as small:
        client.get(reverse("portal:public_org", args=[world.branch_a.pk]))
    for i in range(3, 30):
        m = Member.objects.create(branch=world.branch_a, name=f"党员{i}", gender="M")
        published(world, member=m)
    with django_assert_max_num_queries(8) as big:
        assert client.get(reverse("portal:public_org", args=[world.branch_a.pk])).status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("portal:noticeboard")).status_code == 200
