"""定诺 inputs: the public suggestion box, recorded opinions, adopt/decline, reference items."""
import datetime
import hashlib
import hmac

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from commitments.models import Campaign, Commitment, Item, ReferenceItem, Suggestion
from commitments.services import opinions as svc
from core.errors import Conflict
from orgs.models import AuditEvent, Organisation
from tests.conftest import make_campaign, make_commitment, make_member

BOX = Suggestion.Channel.BOX_ONLINE
PENDING, ADOPTED, DECLINED = Suggestion.Outcome.PENDING, Suggestion.Outcome.ADOPTED, Suggestion.Outcome.DECLINED


def suggestion(org, content="建议在社区设立党员便民服务点", **kw):
    defaults = dict(channel=BOX, campaign=None)
    defaults.update(kw)
    return Suggestion.objects.create(organisation=org, content=content, **defaults)


def reference(org, actor, audience="member", category="good_deeds", content="每年为群众办一件实事", **kw):
    return ReferenceItem.objects.create(organisation=org, audience=audience, category=category, content=content,
                                        measures=kw.pop("measures", "结对帮扶困难群众"), created_by=actor, **kw)


def audit_rows(action):
    return list(AuditEvent.objects.filter(action=action))


# --- suggestion_submit_public -----------------------------------------------------------------

def test_public_submission_is_saved_with_hashed_address_and_audited(world):
    s = svc.suggestion_submit_public(organisation=world.branch_a, content="  希望党员干部多下基层走访  ",
                                     contact="13800138000", client_address="203.0.113.7")
    s.refresh_from_db()
    assert s.channel == BOX and s.campaign == world.campaign and s.outcome == PENDING
    assert s.content == "希望党员干部多下基层走访"
    world.campaign.refresh_from_db()
    assert len(world.campaign.hash_salt) == 64  # made on first need
    key = f"{settings.SECRET_KEY}:{world.campaign.hash_salt}".encode()
    expected = hmac.new(key, b"203.0.113.7", hashlib.sha256).hexdigest()
    assert s.client_hash == expected and "203.0.113.7" not in s.client_hash
    (row,) = audit_rows("suggestion.submit")
    assert row.actor is None and row.actor_name == "匿名" and row.object_id == str(s.pk)
    assert row.organisation == world.branch_a
    assert row.client_ip is None  # the anonymous box keeps no address in the audit trail either


def test_public_submission_validates_length(world):
    with pytest.raises(ValidationError) as exc:
        svc.suggestion_submit_public(organisation=world.branch_a, content="太短", client_address="203.0.113.7")
    assert "content" in exc.value.error_dict
    with pytest.raises(ValidationError):
        svc.suggestion_submit_public(organisation=world.branch_a, content="长" * 1001, client_address="203.0.113.7")
    assert not Suggestion.objects.exists() and not audit_rows("suggestion.submit")


def test_public_submission_to_revoked_org_is_refused(world):
    Organisation.objects.filter(pk=world.branch_b.pk).update(is_active=False)
    with pytest.raises(PermissionDenied):
        svc.suggestion_submit_public(organisation=world.branch_b, content="五个字以上的意见", client_address="1.2.3.4")


def test_throttle_counts_the_last_hour_across_organisations(world):
    for n in range(5):
        org = world.branch_a if n % 2 else world.branch_b
        svc.suggestion_submit_public(organisation=org, content=f"第{n}条意见建议内容", client_address="198.51.100.1")
    with pytest.raises(svc.Throttled) as exc:
        svc.suggestion_submit_public(organisation=world.branch_c, content="第六条意见建议", client_address="198.51.100.1")
    assert "提交过于频繁" in exc.value.messages[0]
    assert Suggestion.objects.count() == 5
    svc.suggestion_submit_public(organisation=world.branch_c, content="另一位群众的意见", client_address="198.51.100.2")
    # Submissions older than an hour no longer count.
    Suggestion.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=61))
    svc.suggestion_submit_public(organisation=world.branch_c, content="一小时后再提意见", client_address="198.51.100.1")


def test_the_same_address_hashes_differently_in_two_campaigns(world):
    first = svc.suggestion_submit_public(organisation=world.branch_a, content="希望党员干部多下基层走访",
                                         client_address="203.0.113.7")
    Campaign.objects.filter(pk=world.campaign.pk).update(is_current=False)
    make_campaign(2011)
    second = svc.suggestion_submit_public(organisation=world.branch_a, content="希望多开展便民服务活动",
                                          client_address="203.0.113.7")
    assert first.campaign.year == 2010 and second.campaign.year == 2011
    assert first.client_hash and second.client_hash and first.client_hash != second.client_hash


def test_ipv6_clients_are_counted_by_their_64_network():
    def h(address):
        return svc.client_hash_of(address, salt="salt")

    assert h("2001:db8:1:2::1") == h("2001:db8:1:2:abcd::9")
    assert h("2001:db8:1:2::1") != h("2001:db8:1:3::1")
    assert h("::ffff:203.0.113.7") == h("203.0.113.7")


# --- opinion_record ---------------------------------------------------------------------------

def test_staff_record_a_symposium_opinion(world):
    s = svc.opinion_record(actor=world.staff_a, organisation=world.branch_a, channel="symposium",
                           content="群众希望延长窗口办事时间", held_on=datetime.date(2010, 3, 15),
                           place="社区会议室", participants="居民代表8人")
    assert s.recorded_by == world.staff_a and s.campaign == world.campaign and s.client_hash == ""
    (row,) = audit_rows("suggestion.record")
    assert row.actor == world.staff_a and row.detail["channel"] == "symposium"


@pytest.mark.parametrize("persona", ["secretary_b", "member_user_a", "admin", "auditor", "outsider"])
def test_only_officers_over_the_org_record_opinions(world, persona):
    with pytest.raises(PermissionDenied):
        svc.opinion_record(actor=getattr(world, persona), organisation=world.branch_a, channel="visit",
                           content="走访中听到的意见", held_on=datetime.date(2010, 3, 1))
    assert not Suggestion.objects.exists()


def test_recorded_opinion_validation(world):
    with pytest.raises(ValidationError) as exc:
        svc.opinion_record(actor=world.staff_a, organisation=world.branch_a, channel=BOX, content="网上意见不能手工登记")
    assert "channel" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        svc.opinion_record(actor=world.staff_a, organisation=world.branch_a, channel="visit", content="没有日期的走访")
    assert "held_on" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        svc.opinion_record(actor=world.staff_a, organisation=world.branch_a, channel="symposium", content="明天的座谈会",
                           held_on=timezone.localdate() + datetime.timedelta(days=1))
    assert "held_on" in exc.value.error_dict
    # A paper box needs no date.
    svc.opinion_record(actor=world.staff_a, organisation=world.branch_a, channel="box_paper", content="纸质意见箱的意见")


# --- suggestion_adopt / suggestion_decline ------------------------------------------------------

@pytest.fixture
def draft_a(world):
    return make_commitment(world.campaign, organisation=world.branch_a, items=1)


def test_adopt_creates_a_sourced_item_and_marks_the_suggestion(world, draft_a):
    s = suggestion(world.branch_a)
    item = svc.suggestion_adopt(actor=world.staff_a, suggestion=s, version=1, commitment=draft_a,
                                content="设立党员便民服务点", measures="每周二、四下午安排党员值班",
                                deadline=datetime.date(2010, 11, 30), responsible="支部书记")
    s.refresh_from_db()
    assert item.source_suggestion == s and item.commitment == draft_a and item.position == 2
    assert item.deadline == datetime.date(2010, 11, 30) and item.responsible == "支部书记"
    assert s.outcome == ADOPTED and s.handled_by == world.staff_a and s.handled_at and s.version == 2
    (row,) = audit_rows("suggestion.adopt")
    assert row.detail == {"commitment": draft_a.pk, "item": item.pk}
    assert audit_rows("commitment.add_item")[0].detail["suggestion"] == s.pk


def test_adopt_without_deadline_uses_the_evaluation_deadline(world, draft_a):
    s = suggestion(world.branch_a)
    item = svc.suggestion_adopt(actor=world.secretary_a, suggestion=s, version=1, commitment=draft_a, content="办实事")
    assert item.deadline == world.campaign.evaluation_deadline


def test_adopt_into_a_member_pledge_in_the_subtree(world):
    pledge = make_commitment(world.campaign, member=world.member_a, items=0)
    s = suggestion(world.branch_a)
    item = svc.suggestion_adopt(actor=world.staff_a, suggestion=s, version=1, commitment=pledge,
                                content="帮助社区孤寡老人", responsible="不会保存")
    assert item.commitment == pledge and item.responsible == ""


@pytest.mark.parametrize("persona", ["secretary_b", "member_user_a", "admin", "auditor", "outsider"])
def test_adopt_by_someone_not_over_the_org_is_refused(world, draft_a, persona):
    s = suggestion(world.branch_a)
    with pytest.raises(PermissionDenied):
        svc.suggestion_adopt(actor=getattr(world, persona), suggestion=s, version=1, commitment=draft_a,
                             content="办实事")
    s.refresh_from_db()
    assert s.outcome == PENDING and not Item.objects.filter(source_suggestion=s).exists()


def test_adopt_with_a_stale_version_loses(world, draft_a):
    s = suggestion(world.branch_a)
    svc.suggestion_decline(actor=world.secretary_a, suggestion=s, version=1, reason="不属于本支部职责")
    with pytest.raises(Conflict) as exc:
        svc.suggestion_adopt(actor=world.staff_a, suggestion=s, version=1, commitment=draft_a, content="办实事")
    assert "该意见已被他人处理" in exc.value.message
    s.refresh_from_db()
    assert s.outcome == DECLINED and not audit_rows("suggestion.adopt")


def test_adopt_into_another_orgs_commitment_is_refused(world):
    other = make_commitment(world.campaign, organisation=world.branch_b)
    s = suggestion(world.branch_a)
    with pytest.raises(ValidationError) as exc:
        svc.suggestion_adopt(actor=world.committee_secretary, suggestion=s, version=1, commitment=other,
                             content="办实事")
    assert "commitment" in exc.value.error_dict


def test_adopt_into_a_submitted_commitment_is_refused(world):
    submitted = make_commitment(world.campaign, organisation=world.branch_a, status="submitted")
    s = suggestion(world.branch_a)
    with pytest.raises(ValidationError) as exc:
        svc.suggestion_adopt(actor=world.staff_a, suggestion=s, version=1, commitment=submitted, content="办实事")
    assert "commitment" in exc.value.error_dict
    s.refresh_from_db()
    assert s.outcome == PENDING and s.version == 1


def test_adopt_needs_content_and_a_deadline_in_the_campaign_year(world, draft_a):
    s = suggestion(world.branch_a)
    with pytest.raises(ValidationError) as exc:
        svc.suggestion_adopt(actor=world.staff_a, suggestion=s, version=1, commitment=draft_a, content="  ",
                             deadline=datetime.date(2009, 12, 31))
    assert set(exc.value.error_dict) == {"content", "deadline"}


def test_decline_records_reason_and_who(world):
    s = suggestion(world.branch_a)
    svc.suggestion_decline(actor=world.secretary_a, suggestion=s, version=1, reason="已转交市政部门办理")
    s.refresh_from_db()
    assert s.outcome == DECLINED and s.outcome_reason == "已转交市政部门办理" and s.handled_by == world.secretary_a
    (row,) = audit_rows("suggestion.decline")
    assert row.detail["reason"] == "已转交市政部门办理"


def test_decline_needs_a_reason_and_the_right_actor_and_version(world):
    s = suggestion(world.branch_a)
    with pytest.raises(ValidationError) as exc:
        svc.suggestion_decline(actor=world.secretary_a, suggestion=s, version=1, reason="  ")
    assert "reason" in exc.value.error_dict
    with pytest.raises(PermissionDenied):
        svc.suggestion_decline(actor=world.secretary_b, suggestion=s, version=1, reason="理由")
    with pytest.raises(Conflict):
        svc.suggestion_decline(actor=world.secretary_a, suggestion=s, version=7, reason="理由")
    s.refresh_from_db()
    assert s.outcome == PENDING and not audit_rows("suggestion.decline")


# --- reference items ----------------------------------------------------------------------------

def test_parent_officers_publish_a_reference(world):
    r = svc.reference_create(actor=world.committee_secretary, organisation=world.committee, audience="organisation",
                             category="serve_people", content="为群众办好三件实事", measures="每季度公示进度")
    assert r.is_active and r.created_by == world.committee_secretary
    (row,) = audit_rows("reference.create")
    assert row.organisation == world.committee


def test_branch_officers_cannot_publish_references(world):
    with pytest.raises(PermissionDenied):
        svc.reference_create(actor=world.secretary_a, organisation=world.branch_a, audience="member",
                             category="good_deeds", content="办实事")
    with pytest.raises(PermissionDenied):
        svc.reference_create(actor=world.secretary_a, organisation=world.committee, audience="member",
                             category="good_deeds", content="办实事")


def test_reference_category_must_fit_the_audience(world):
    with pytest.raises(ValidationError) as exc:
        svc.reference_create(actor=world.committee_secretary, organisation=world.committee, audience="member",
                             category="five_good", content="创建五个好")
    assert "category" in exc.value.error_dict


def test_reference_update_compares_the_text_it_was_drawn_from(world):
    r = reference(world.committee, world.committee_secretary)
    seen = svc.reference_fingerprint(r)
    svc.reference_update(actor=world.committee_secretary, reference=r, fingerprint=seen, audience="member",
                         category="vanguard", content="立足岗位作表率", measures="")
    r.refresh_from_db()
    assert r.category == "vanguard" and r.content == "立足岗位作表率"
    assert audit_rows("reference.update")[0].detail["changes"]["content"][1] == "立足岗位作表率"
    with pytest.raises(Conflict):
        svc.reference_update(actor=world.reviewer, reference=r, fingerprint=seen, audience="member",
                             category="vanguard", content="另一人的修改")
    with pytest.raises(PermissionDenied):
        svc.reference_update(actor=world.secretary_a, reference=r, fingerprint=svc.reference_fingerprint(r),
                             audience="member", category="vanguard", content="无权修改")


def test_reference_withdraw_and_republish(world):
    r = reference(world.committee, world.committee_secretary)
    svc.reference_set_active(actor=world.committee_secretary, reference=r, active=False)
    r.refresh_from_db()
    assert not r.is_active and audit_rows("reference.withdraw")
    svc.reference_set_active(actor=world.committee_secretary, reference=r, active=False)  # no-op
    assert len(audit_rows("reference.withdraw")) == 1
    svc.reference_set_active(actor=world.committee_secretary, reference=r, active=True)
    r.refresh_from_db()
    assert r.is_active and audit_rows("reference.publish")
    with pytest.raises(PermissionDenied):
        svc.reference_set_active(actor=world.secretary_b, reference=r, active=False)


def test_import_guidance_creates_one_per_heading_and_is_idempotent(world):
    created = svc.references_import_guidance(actor=world.committee_secretary, organisation=world.committee)
    assert len(created) == 9
    assert {r.category for r in created} == set(ReferenceItem.Category.values)
    assert sum(r.audience == "organisation" for r in created) == 4
    assert all(r.content and r.measures for r in created)
    five_leads = next(r for r in created if r.category == "five_leads")
    assert "带头学习提高" in five_leads.content and five_leads.audience == "member"
    svc.reference_set_active(actor=world.committee_secretary, reference=five_leads, active=False)
    assert svc.references_import_guidance(actor=world.committee_secretary, organisation=world.committee) == []
    assert ReferenceItem.objects.filter(organisation=world.committee).count() == 9
    five_leads.refresh_from_db()
    assert not five_leads.is_active  # a withdrawn one is not brought back
    assert len(audit_rows("reference.import_guidance")) == 2
    with pytest.raises(PermissionDenied):
        svc.references_import_guidance(actor=world.secretary_a, organisation=world.branch_a)


# --- commitment_add_item_from_reference -----------------------------------------------------------

def test_add_item_from_reference(world):
    r = reference(world.committee, world.committee_secretary, measures="每季度参加一次志愿服务")
    pledge = make_commitment(world.campaign, member=world.member_a, items=0)
    item = svc.commitment_add_item_from_reference(actor=world.member_user_a, commitment=pledge, reference=r)
    assert item.source_reference == r and item.content == r.content and item.measures == "每季度参加一次志愿服务"
    assert item.deadline == world.campaign.evaluation_deadline
    row = audit_rows("commitment.add_item")[0]
    assert row.detail["reference"] == r.pk and row.actor == world.member_user_a


def test_add_item_from_reference_refusals(world):
    r = reference(world.committee, world.committee_secretary)
    pledge = make_commitment(world.campaign, member=world.member_a, items=0)
    with pytest.raises(PermissionDenied):
        svc.commitment_add_item_from_reference(actor=world.secretary_b, commitment=pledge, reference=r)
    foreign = reference(world.committee2, world.reviewer)
    with pytest.raises(ValidationError):
        svc.commitment_add_item_from_reference(actor=world.staff_a, commitment=pledge, reference=foreign)
    org_ref = reference(world.committee, world.committee_secretary, audience="organisation", category="policy")
    with pytest.raises(ValidationError):  # a reference for organisations does not fit a member's pledge
        svc.commitment_add_item_from_reference(actor=world.staff_a, commitment=pledge, reference=org_ref)
    ReferenceItem.objects.filter(pk=r.pk).update(is_active=False)
    with pytest.raises(ValidationError):
        svc.commitment_add_item_from_reference(actor=world.staff_a, commitment=pledge, reference=r)
    ReferenceItem.objects.filter(pk=r.pk).update(is_active=True)
    Commitment.objects.filter(pk=pledge.pk).update(status="submitted")
    with pytest.raises(Conflict):
        svc.commitment_add_item_from_reference(actor=world.staff_a, commitment=pledge, reference=r)
    assert not Item.objects.filter(source_reference__isnull=False).exists()


# --- the public page -----------------------------------------------------------------------------

def box_url(org):
    return reverse("commitments:suggest", args=[org.pk])


def test_anonymous_visitor_sees_the_box_without_site_navigation(world, client):
    response = client.get(box_url(world.branch_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert "第一党支部意见箱" in html and "0756-2120001" in html
    assert "退出登录" not in html and "党员名册" not in html
    assert 'name="website"' in html and 'tabindex="-1"' in html


def test_anonymous_post_saves_and_redirects_to_thanks(world, client):
    response = client.post(box_url(world.branch_a), {"content": "建议公开办事流程", "contact": ""},
                           REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    s = Suggestion.objects.get()
    assert s.organisation == world.branch_a and s.channel == BOX and s.contact == ""
    html = client.get(response["Location"]).content.decode()
    assert "感谢您的意见建议" in html and "<textarea" not in html


def test_public_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(box_url(world.branch_a), {"content": "没有令牌的提交"})
    assert response.status_code == 403
    assert not Suggestion.objects.exists()
    client.get(box_url(world.branch_a))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(box_url(world.branch_a), {"content": "带令牌的正常提交", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Suggestion.objects.count() == 1


def test_honeypot_submission_is_refused_and_not_saved(world, client):
    response = client.post(box_url(world.branch_a), {"content": "机器人填写的内容", "website": "http://spam.example"})
    assert response.status_code == 400
    assert "提交未被受理" in response.content.decode()
    assert not Suggestion.objects.exists() and not audit_rows("suggestion.submit")


def test_sixth_submission_within_an_hour_is_refused(world, client):
    for n in range(5):
        response = client.post(box_url(world.branch_a), {"content": f"第{n + 1}条意见建议"}, REMOTE_ADDR="192.0.2.20")
        assert response.status_code == 302
    response = client.post(box_url(world.branch_b), {"content": "第六条意见建议"}, REMOTE_ADDR="192.0.2.20")
    assert response.status_code == 429
    assert "提交过于频繁，请一小时后再试" in response.content.decode()
    assert Suggestion.objects.count() == 5
    response = client.post(box_url(world.branch_b), {"content": "另一地址的意见"}, REMOTE_ADDR="192.0.2.21")
    assert response.status_code == 302 and Suggestion.objects.count() == 6


def test_box_of_a_revoked_or_unknown_org_is_404(world, client):
    Organisation.objects.filter(pk=world.branch_b.pk).update(is_active=False)
    assert client.get(box_url(world.branch_b)).status_code == 404
    assert client.post(box_url(world.branch_b), {"content": "撤销组织的意见"}).status_code == 404
    assert client.get(reverse("commitments:suggest", args=[999999])).status_code == 404
    assert not Suggestion.objects.exists()


def test_invalid_public_post_shows_chinese_errors(world, client):
    html = client.post(box_url(world.branch_a), {"content": "短"}).content.decode()
    assert "意见建议至少填写5个字" in html


# --- officers' pages -------------------------------------------------------------------------------

def test_opinion_list_shows_box_url_pending_first(world, as_user):
    old = suggestion(world.branch_a, "最早的待处理意见")
    handled = suggestion(world.branch_a, "已经处理过的意见", outcome=DECLINED)
    suggestion(world.branch_a, "最新的待处理意见")
    Suggestion.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    Suggestion.objects.filter(pk=handled.pk).update(created_at=timezone.now() + datetime.timedelta(minutes=1))
    suggestion(world.branch_b, "第二支部的意见")
    response = as_user(world.staff_a).get(reverse("commitments:opinion_list", args=[world.branch_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"/public/orgs/{world.branch_a.pk}/suggest/" in html
    assert html.index("最早的待处理意见") < html.index("最新的待处理意见") < html.index("已经处理过的意见")
    assert "第二支部的意见" not in html


def test_opinion_list_filters(world, as_user):
    suggestion(world.branch_a, "网上意见箱的意见")
    suggestion(world.branch_a, "座谈会上的意见", channel="symposium", outcome=ADOPTED)
    client = as_user(world.staff_a)
    url = reverse("commitments:opinion_list", args=[world.branch_a.pk])
    html = client.get(url, {"channel": "symposium"}).content.decode()
    assert "座谈会上的意见" in html and "网上意见箱的意见" not in html
    html = client.get(url, {"outcome": "pending"}).content.decode()
    assert "网上意见箱的意见" in html and "座谈会上的意见" not in html


@pytest.mark.parametrize("persona", ["secretary_b", "outsider", "member_user_a", "admin"])
def test_opinion_pages_of_another_org_are_404(world, as_user, persona):
    s = suggestion(world.branch_a)
    client = as_user(getattr(world, persona))
    assert client.get(reverse("commitments:opinion_list", args=[world.branch_a.pk])).status_code == 404
    assert client.get(reverse("commitments:opinion_detail", args=[s.pk])).status_code == 404
    assert client.post(reverse("commitments:opinion_decline", args=[s.pk]),
                       {"version": 1, "reason": "越权"}).status_code == 404
    s.refresh_from_db()
    assert s.outcome == PENDING


def test_record_opinion_page(world, as_user):
    client = as_user(world.staff_a)
    url = reverse("commitments:opinion_create", args=[world.branch_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"channel": "visit", "held_on": "2010年3月2日", "place": "某社区",
                                 "participants": "困难群众3户", "content": "希望帮助解决子女入学困难"})
    s = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("commitments:opinion_detail", args=[s.pk])
    assert s.held_on == datetime.date(2010, 3, 2) and s.recorded_by == world.staff_a
    response = client.post(url, {"channel": "visit", "content": "走访意见但没有日期"})
    assert response.status_code == 200 and "请填写座谈会或走访的日期" in response.content.decode()


def test_adopt_journey_start_commitment_then_adopt(world, as_user):
    s = suggestion(world.branch_a, "建议在社区设立党员便民服务点")
    client = as_user(world.staff_a)
    detail = reverse("commitments:opinion_detail", args=[s.pk])
    html = client.get(detail).content.decode()
    assert "还没有建立" in html and reverse("commitments:opinion_start_commitment", args=[s.pk]) in html
    response = client.post(reverse("commitments:opinion_start_commitment", args=[s.pk]))
    assert response.status_code == 302
    commitment = Commitment.objects.get(organisation=world.branch_a)
    html = client.get(detail).content.decode()
    assert "建议在社区设立党员便民服务点</textarea>" in html  # prefilled from the suggestion
    response = client.post(reverse("commitments:opinion_adopt", args=[s.pk]), {
        "version": 1, "commitment": commitment.pk, "content": "设立党员便民服务点",
        "measures": "党员轮流值班", "deadline": "2010-11-30", "responsible": "支部书记"})
    assert response.status_code == 302
    item = Item.objects.get(source_suggestion=s)
    assert item.commitment == commitment and item.content == "设立党员便民服务点"
    html = client.get(detail).content.decode()
    assert "处理结果" in html and "一支部组织委员" in html
    assert reverse("commitments:detail", args=[commitment.pk]) in html


def test_stale_adopt_shows_the_conflict(world, as_user, draft_a):
    s = suggestion(world.branch_a)
    svc.suggestion_decline(actor=world.secretary_a, suggestion=s, version=1, reason="已有类似承诺")
    response = as_user(world.staff_a).post(reverse("commitments:opinion_adopt", args=[s.pk]), {
        "version": 1, "commitment": draft_a.pk, "content": "办实事"})
    # The suggestion is no longer pending: the officer is told why, sees the outcome, nothing was added.
    html = response.content.decode()
    assert response.status_code == 200 and "该意见已被他人处理" in html and "已有类似承诺" in html
    assert not Item.objects.filter(source_suggestion=s).exists()


def test_stale_decline_shows_the_conflict(world, as_user):
    s = suggestion(world.branch_a)
    Suggestion.objects.filter(pk=s.pk).update(version=2)
    response = as_user(world.staff_a).post(reverse("commitments:opinion_decline", args=[s.pk]),
                                           {"version": 1, "reason": "理由"})
    assert response.status_code == 200 and "该意见已被他人处理" in response.content.decode()


def test_decline_page_requires_reason(world, as_user):
    s = suggestion(world.branch_a)
    client = as_user(world.secretary_a)
    url = reverse("commitments:opinion_decline", args=[s.pk])
    response = client.post(url, {"version": 1, "reason": ""})
    assert response.status_code == 200 and "请填写暂不采纳的理由" in response.content.decode()
    assert client.post(url, {"version": 1, "reason": "条件暂不具备"}).status_code == 302
    html = client.get(reverse("commitments:opinion_detail", args=[s.pk])).content.decode()
    assert "条件暂不具备" in html and "暂不采纳" in html


@pytest.mark.parametrize("name,target", [
    ("commitments:opinion_adopt", "suggestion"), ("commitments:opinion_decline", "suggestion"),
    ("commitments:opinion_start_commitment", "suggestion"), ("commitments:reference_set_active", "reference"),
    ("commitments:reference_import", "org"),
])
def test_get_on_post_only_urls_is_405(world, as_user, name, target):
    pk = {"suggestion": lambda: suggestion(world.branch_a).pk,
          "reference": lambda: reference(world.committee, world.committee_secretary).pk,
          "org": lambda: world.committee.pk}[target]()
    assert as_user(world.committee_secretary).get(reverse(name, args=[pk])).status_code == 405


def test_reference_pages(world, as_user):
    client = as_user(world.committee_secretary)
    url = reverse("commitments:reference_list", args=[world.committee.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"audience": "member", "category": "good_deeds", "content": "每年为群众办一件实事",
                                 "measures": "结对帮扶"})
    assert response.status_code == 302
    r = ReferenceItem.objects.get()
    response = client.post(url, {"audience": "member", "category": "five_good", "content": "类别不符"})
    assert response.status_code == 200 and "该类别不适用于党员" in response.content.decode()
    edit = reverse("commitments:reference_edit", args=[r.pk])
    html = client.get(edit).content.decode()
    assert "每年为群众办一件实事" in html
    response = client.post(edit, {"audience": "member", "category": "good_deeds", "content": "每年办两件实事",
                                  "measures": "", "fingerprint": svc.reference_fingerprint(r)})
    assert response.status_code == 302
    response = client.post(edit, {"audience": "member", "category": "good_deeds", "content": "过期的表单",
                                  "measures": "", "fingerprint": "stale"})
    assert response.status_code == 200 and "已被他人修改" in response.content.decode()
    client.post(reverse("commitments:reference_set_active", args=[r.pk]), {"active": "0"})
    r.refresh_from_db()
    assert not r.is_active and r.content == "每年办两件实事"
    client.post(reverse("commitments:reference_import", args=[world.committee.pk]))
    assert ReferenceItem.objects.filter(organisation=world.committee).count() == 10
    html = client.get(url).content.decode()
    assert "已撤回" in html and "努力做到带头学习提高" in html and 'data-confirm="确定撤回' in html


def test_reference_pages_of_a_branch_or_other_subtree_are_404(world, as_user):
    r = reference(world.committee, world.committee_secretary)
    client = as_user(world.secretary_a)
    assert client.get(reverse("commitments:reference_list", args=[world.branch_a.pk])).status_code == 404
    assert client.get(reverse("commitments:reference_list", args=[world.committee.pk])).status_code == 404
    assert client.get(reverse("commitments:reference_edit", args=[r.pk])).status_code == 404
    assert client.post(reverse("commitments:reference_set_active", args=[r.pk]), {"active": "0"}).status_code == 404
    r.refresh_from_db()
    assert r.is_active


def test_branch_reference_page_shows_what_the_parent_published(world, as_user):
    reference(world.root, world.reviewer, content="工委发布的参考事项")
    html = as_user(world.committee_secretary).get(
        reverse("commitments:reference_list", args=[world.general.pk])).content.decode()
    assert "上级党组织发布的参考事项" in html and "工委发布的参考事项" in html


# --- query counts --------------------------------------------------------------------------------

def _grow(world, n):
    officer = world.staff_a
    for i in range(n):
        suggestion(world.branch_a, f"网上意见{i}", campaign=world.campaign)
        suggestion(world.branch_a, f"座谈会意见{i}", channel="symposium", recorded_by=officer,
                   held_on=datetime.date(2010, 3, 1))
        suggestion(world.branch_a, f"已处理意见{i}", outcome=ADOPTED, handled_by=officer,
                   handled_at=timezone.now())
        make_member(world.branch_a, f"党员{i}")


def _queries(client, url, django_assert_max_num_queries, limit=15):
    with django_assert_max_num_queries(limit) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_opinion_list_query_count_does_not_grow(world, client, django_assert_max_num_queries):
    client.force_login(world.staff_a)
    url = reverse("commitments:opinion_list", args=[world.branch_a.pk])
    _grow(world, 1)
    small = _queries(client, url, django_assert_max_num_queries)
    _grow(world, 9)
    big = _queries(client, url, django_assert_max_num_queries)
    assert big == small, f"{small} queries at 1×, {big} at 10×"


def test_opinion_detail_and_reference_list_query_counts_do_not_grow(world, client, django_assert_max_num_queries):
    client.force_login(world.committee_secretary)
    s = suggestion(world.branch_a)
    detail = reverse("commitments:opinion_detail", args=[s.pk])
    refs = reverse("commitments:reference_list", args=[world.general.pk])
    make_commitment(world.campaign, organisation=world.branch_a)
    reference(world.root, world.reviewer)
    reference(world.general, world.committee_secretary)
    small = (_queries(client, detail, django_assert_max_num_queries),
             _queries(client, refs, django_assert_max_num_queries))
    for i in range(10):
        m = make_member(world.branch_a, f"党员{i}")
        make_commitment(world.campaign, member=m, items=0)
        reference(world.root, world.reviewer, content=f"工委参考{i}")
        reference(world.general, world.committee_secretary, content=f"总支参考{i}")
    big = (_queries(client, detail, django_assert_max_num_queries),
           _queries(client, refs, django_assert_max_num_queries))
    assert big == small
