"""四（三）: publication channels mean something. The internet noticeboard is the 网络 channel: a
commitment published only at a 会议 (or in a 文件, on the paper 公开栏) is recorded as such and is on
no public page until the branch adds 网络 to its publication."""
import datetime
import sys

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse

from commitments import services
from commitments.models import Commitment, Publication
from core.errors import Conflict
from core.templatetags.cn import cn_date
from evaluations.services import ballot_cast
from orgs.models import AuditEvent
from reviews.services import review_decide
from tests.commitments.evidence import png_upload, record, upload
from tests.commitments.publishing import ALL_TICKED, approved, published
from tests.evaluations.builders import open_window

ON = datetime.date(2010, 10, 20)
LATER = datetime.date(2010, 10, 25)


def publish(world, c, channels, on=ON):
    services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version, published_on=on,
                                channels=channels)
    c.refresh_from_db()
    return c


def add(world, c, channels, on=LATER, actor=None):
    c.refresh_from_db()
    return services.publication_add_channels(actor=actor or world.staff_a, commitment=c, version=c.version,
                                             channels=channels, published_on=on)


@pytest.fixture
def meeting_only(world):
    """Member A's pledge published at a 会议 only, with a public progress record and a scan chosen
    for the noticeboard; branch A's own commitment published online."""
    c = publish(world, approved(world, member=world.member_a), ["meeting"])
    world.entry = record(c, world.staff_a, is_public=True, files=[png_upload()])
    world.scan = upload(c, world.staff_a, display="beside")
    world.own = published(world, organisation=world.branch_a, drafter=world.staff_a)
    c.refresh_from_db()
    return c


def test_publishing_without_internet_records_channels_and_stays_off_the_noticeboard(world, meeting_only):
    c = meeting_only
    assert c.status == "published" and c.public_version.number == 1 and c.online_since is None
    assert Publication.objects.get(commitment=c).channels == ["meeting"]
    client = Client()
    board = client.get(reverse("portal:noticeboard")).content.decode()
    assert "第一党支部" in board and "党员承诺" not in board  # only the branch's own, online commitment
    found = client.get(reverse("portal:noticeboard"), {"q": "李娜"}).content.decode()
    assert reverse("portal:public_commitment", args=[c.pk]) not in found
    org = client.get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "李娜" not in org
    assert "党员承诺 1" not in client.get(reverse("portal:public_org", args=[world.committee.pk])).content.decode()
    for url in (reverse("portal:public_commitment", args=[c.pk]),
                reverse("commitments:public_progress", args=[c.pk]),
                reverse("commitments:public_attachment", args=[world.entry.attachments.get().pk]),
                reverse("commitments:public_stamped", args=[world.scan.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("evaluations:rate", args=[c.pk]), {"rating": "satisfied"}).status_code == 404


def test_online_rating_needs_the_internet_channel(world, meeting_only):
    open_window(world)
    with pytest.raises(Conflict):
        ballot_cast(commitment=meeting_only, rating="satisfied", rater_token="t" * 20, client_address="10.0.0.1")


def test_publishing_with_internet_dates_it_online(world):
    c = publish(world, approved(world, member=world.member_a), ["meeting", "internet"])
    assert c.online_since == ON
    assert Client().get(reverse("portal:public_commitment", args=[c.pk])).status_code == 200


def test_adding_internet_later_is_a_new_record_that_puts_it_online(world, meeting_only):
    c = meeting_only
    first = Publication.objects.get(commitment=c)
    pub = add(world, c, ["internet", "meeting"])
    c.refresh_from_db()
    assert pub.pk != first.pk and pub.supplements == first and pub.version_id == first.version_id
    assert pub.channels == ["meeting", "internet"] and pub.added_channel_labels == ["网络"]
    assert Publication.objects.get(pk=first.pk).channels == ["meeting"]  # the first record is unchanged
    assert c.online_since == LATER and c.public_version_id == first.version_id
    event = AuditEvent.objects.get(action="commitment.publish_channels")
    assert event.actor == world.staff_a and event.detail["added"] == ["internet"]
    html = Client().get(reverse("portal:public_commitment", args=[c.pk])).content.decode()
    # The public date is the day it went online; one version, so no revision history.
    assert f"{cn_date(LATER)}公开" in html and cn_date(ON) not in html and "修订记录" not in html
    assert "李娜" in Client().get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert Client().get(reverse("commitments:public_stamped", args=[world.scan.pk])).status_code == 200


def test_adding_a_channel_other_than_internet_keeps_it_off(world, meeting_only):
    add(world, meeting_only, ["document"])
    meeting_only.refresh_from_db()
    assert meeting_only.online_since is None
    assert Client().get(reverse("portal:public_commitment", args=[meeting_only.pk])).status_code == 404


def test_add_channels_refusals(world, meeting_only):
    c = meeting_only
    with pytest.raises(PermissionDenied):
        add(world, c, ["internet"], actor=world.secretary_b)
    with pytest.raises(PermissionDenied):
        add(world, c, ["internet"], actor=world.member_user_a)
    with pytest.raises(ValidationError) as exc:
        add(world, c, ["meeting"], on=ON - datetime.timedelta(days=1))
    assert set(exc.value.message_dict) == {"channels", "published_on"}
    with pytest.raises(ValidationError):
        add(world, c, ["internet"], on=datetime.date.today() + datetime.timedelta(days=1))
    with pytest.raises(Conflict):
        services.publication_add_channels(actor=world.staff_a, commitment=c, version=c.version - 1,
                                          channels=["internet"], published_on=LATER)
    draft = approved(world, member=world.member_a2)
    with pytest.raises(Conflict):
        add(world, draft, ["internet"])
    assert Publication.objects.filter(commitment=c).count() == 1
    assert not AuditEvent.objects.filter(action="commitment.publish_channels").exists()


def test_revision_published_without_internet_leaves_the_noticeboard(world):
    c = published(world, member=world.member_a)  # 公开栏 and 网络
    assert c.online_since == ON
    c = services.commitment_revise(actor=world.member_user_a, commitment=c, version=c.version)
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="approve",
                  criteria=ALL_TICKED, opinion="同意")
    c = publish(world, Commitment.objects.get(pk=c.pk), ["meeting"], on=datetime.date.today())
    assert c.public_version.number == 2 and c.online_since is None
    assert Client().get(reverse("portal:public_commitment", args=[c.pk])).status_code == 404
    add(world, c, ["internet"], on=datetime.date.today())
    c.refresh_from_db()
    html = Client().get(reverse("portal:public_commitment", args=[c.pk])).content.decode()
    # Both versions went online; the history lists each once.
    assert "修订记录" in html and html.count("?version=") == 2


def test_detail_page_warns_and_offers_internet(world, meeting_only, as_user):
    c = meeting_only
    client = as_user(world.staff_a)
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert "不含“网络”，公示栏（网上）不显示该承诺" in html and "增加公开方式" in html
    assert reverse("commitments:add_channels", args=[c.pk]) in html
    assert reverse("portal:public_commitment", args=[c.pk]) not in html
    # The member sees the warning but not the form.
    html = as_user(world.member_user_a).get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert "不含“网络”" in html and reverse("commitments:add_channels", args=[c.pk]) not in html


def test_add_channels_view(world, meeting_only, as_user):
    c = meeting_only
    url = reverse("commitments:add_channels", args=[c.pk])
    assert as_user(world.staff_a).get(url).status_code == 405
    data = {"version": c.version, "published_on": LATER.isoformat(), "channels": ["internet"]}
    assert as_user(world.outsider).post(url, data).status_code == 404
    assert as_user(world.member_user_a).post(url, data).status_code == 404
    response = as_user(world.staff_a).post(url, data, follow=True)
    html = response.content.decode()
    assert "已增加公开方式：网络，群众可在公示栏查看" in html
    assert f"{cn_date(LATER)} 第1版增加公开方式：网络" in html and "会议、网络" in html
    assert "增加公开方式</h2>" in html  # 文件 and 公开栏 can still be added
    assert Client().get(reverse("portal:public_commitment", args=[c.pk])).status_code == 200


def _backfill():
    """The data migration's function, found by name (the migration's number may change)."""
    loader = MigrationLoader(connection)
    for (app, _), migration in loader.disk_migrations.items():
        module = sys.modules[migration.__module__]
        if app == "commitments" and hasattr(module, "backfill_online_since"):
            return module.backfill_online_since
    raise AssertionError("no migration with backfill_online_since")


def test_migration_dates_existing_commitments_online_from_their_publications(world):
    online = published(world, member=world.member_a)  # 公开栏 and 网络 on 2010-10-20
    offline = publish(world, approved(world, member=world.member_a2), ["meeting"])
    later = publish(world, approved(world, organisation=world.branch_a), ["meeting"])
    add(world, later, ["internet"])
    Commitment.objects.update(online_since=None)
    _backfill()(apps, None)
    assert dict(Commitment.objects.values_list("pk", "online_since")) == {
        online.pk: ON, offline.pk: None, later.pk: LATER}
