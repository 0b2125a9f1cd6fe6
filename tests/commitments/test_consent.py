"""四（一）自愿: a pledge staff draft for a member goes to review only with the member's agreement —
confirmed by the member in the system, or recorded by staff (当面/电话) when the member cannot."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from commitments import services
from commitments.models import CommitmentStatus
from core.errors import Conflict
from orgs.models import AuditEvent, MemberCategory
from tests.conftest import make_member

S = CommitmentStatus
ITEM = {"content": "带头学习科学发展观", "measures": "每月读一本书", "deadline": datetime.date(2010, 12, 31),
        "responsible": ""}


def drafted(world, member=None, *, actor=None, is_oral=False):
    """A complete draft written by `actor` (the branch's staff by default) for `member`."""
    actor = actor or world.staff_a
    c = services.commitment_start(actor=actor, campaign=world.campaign, member=member or world.member_a,
                                  is_oral=is_oral)
    return services.commitment_save_draft(actor=actor, commitment=c, version=c.version, goal="争当先锋",
                                          items=[ITEM])


def sent_to_member(world):
    c = drafted(world)
    assert services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version) is None
    c.refresh_from_db()
    return c


# --- services --------------------------------------------------------------------------------

def test_staff_submitting_for_member_with_account_waits_for_confirmation(world):
    c = sent_to_member(world)
    assert c.status == S.CONFIRMING and c.submitted_count == 0 and not c.versions.exists()
    assert c.last_submitted_by == world.staff_a and not c.is_editable
    assert AuditEvent.objects.filter(action="commitment.send_to_confirm").get().actor == world.staff_a


def test_member_confirms_and_it_goes_to_review_as_confirmed(world):
    c = sent_to_member(world)
    frozen = services.commitment_confirm(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    assert c.status == S.SUBMITTED and frozen.number == 1
    assert frozen.consent == "confirmed" and frozen.consent_by == world.member_user_a and frozen.consent_at
    # The drafter stays the submitter: they may not review what they drafted.
    assert frozen.submitted_by == world.staff_a and c.last_submitted_by == world.staff_a
    assert AuditEvent.objects.filter(action="commitment.confirm").get().actor == world.member_user_a


def test_only_the_member_confirms(world):
    c = sent_to_member(world)
    for actor in (world.staff_a, world.secretary_a, world.outsider):
        with pytest.raises(PermissionDenied):
            services.commitment_confirm(actor=actor, commitment=c, version=c.version)


def test_staff_cannot_submit_past_the_member(world):
    c = sent_to_member(world)
    with pytest.raises(Conflict):
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    c.refresh_from_db()
    assert c.status == S.CONFIRMING


def test_confirm_only_while_awaiting(world):
    c = drafted(world)
    with pytest.raises(Conflict):
        services.commitment_confirm(actor=world.member_user_a, commitment=c, version=c.version)


def test_member_sends_back_with_a_note(world, mailoutbox, django_capture_on_commit_callbacks):
    world.staff_a.email = "staff_a@example.gov.cn"
    world.staff_a.save()
    c = sent_to_member(world)
    with pytest.raises(ValidationError) as exc:
        services.commitment_send_back(actor=world.member_user_a, commitment=c, version=c.version, note=" ")
    assert "note" in exc.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        services.commitment_send_back(actor=world.member_user_a, commitment=c, version=c.version,
                                      note="第一条我想改成结对帮扶。")
    c.refresh_from_db()
    assert c.status == S.DRAFT and c.confirmation_note == "第一条我想改成结对帮扶。" and c.is_editable
    assert AuditEvent.objects.filter(action="commitment.send_back").get().actor == world.member_user_a
    assert mailoutbox[-1].to == ["staff_a@example.gov.cn"] and "本人退回" in mailoutbox[-1].subject


def test_member_editing_it_themself_makes_it_their_own(world):
    c = sent_to_member(world)
    services.commitment_send_back(actor=world.member_user_a, commitment=c, version=c.version, note="我自己改。")
    c.refresh_from_db()
    c = services.commitment_save_draft(actor=world.member_user_a, commitment=c, version=c.version,
                                       goal="争当先锋", items=[ITEM, ITEM])
    frozen = services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    assert frozen.consent == "self" and c.status == S.SUBMITTED and c.confirmation_note == ""


def test_member_without_account_needs_recorded_consent(world):
    member = make_member(world.branch_a, "赵敏")
    c = drafted(world, member)
    with pytest.raises(ValidationError) as exc:
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    assert "当面或电话" in exc.value.message_dict["consent"][0]
    with pytest.raises(ValidationError):
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="confirmed")
    frozen = services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="phone")
    assert frozen.consent == "phone" and frozen.consent_by == world.staff_a and frozen.consent_at
    assert AuditEvent.objects.filter(action="commitment.submit").get().detail["consent"] == "phone"


def test_oral_pledge_needs_recorded_consent_even_with_an_account(world):
    world.member_a.category = MemberCategory.RETIRED
    world.member_a.save()
    c = drafted(world, is_oral=True)
    with pytest.raises(ValidationError):
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    frozen = services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="in_person")
    assert frozen.consent == "in_person"


def test_content_and_consent_errors_come_together(world):
    member = make_member(world.branch_a, "赵敏")
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=member)
    with pytest.raises(ValidationError) as exc:
        services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    text = " ".join(exc.value.messages)
    assert "至少需要一条承诺事项" in text and "当面或电话" in text


def test_organisation_commitment_records_no_consent(world):
    c = services.commitment_start(actor=world.staff_a, campaign=world.campaign, organisation=world.branch_a)
    c = services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="五个好",
                                       items=[{**ITEM, "responsible": "支部书记"}])
    frozen = services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    assert frozen.consent == "" and frozen.consent_by is None


def test_revise_refuses_a_pledge_awaiting_its_member(world):
    c = sent_to_member(world)
    with pytest.raises(Conflict):
        services.commitment_revise(actor=world.staff_a, commitment=c, version=c.version)


# --- pages -----------------------------------------------------------------------------------

def test_home_todo_links_the_member_to_the_confirm_page(world, as_user):
    c = sent_to_member(world)
    html = as_user(world.member_user_a).get(reverse("home")).content.decode()
    assert "确认我的公开承诺" in html and reverse("commitments:confirm", args=[c.pk]) in html
    # Not a to-do for anyone else.
    assert "确认我的公开承诺" not in as_user(world.staff_a).get(reverse("home")).content.decode()


def test_confirm_page_shows_items_and_confirming_submits(world, as_user):
    c = sent_to_member(world)
    client = as_user(world.member_user_a)
    html = client.get(reverse("commitments:confirm", args=[c.pk])).content.decode()
    assert ITEM["content"] in html and "每月读一本书" in html and "确认承诺" in html and "退回修改" in html
    response = client.post(reverse("commitments:confirm", args=[c.pk]), {"version": c.version})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.status == S.SUBMITTED
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert "本人确认于" in html


def test_send_back_without_note_shows_the_error_at_the_field(world, as_user):
    c = sent_to_member(world)
    client = as_user(world.member_user_a)
    response = client.post(reverse("commitments:send_back", args=[c.pk]), {"version": c.version, "note": ""})
    assert response.status_code == 200 and "请写明需要修改的地方" in response.content.decode()
    response = client.post(reverse("commitments:send_back", args=[c.pk]), {"version": c.version, "note": "改第一条"})
    assert response.status_code == 302
    html = as_user(world.staff_a).get(reverse("commitments:edit", args=[c.pk])).content.decode()
    assert "本人退回修改" in html and "改第一条" in html


def test_confirm_page_is_404_for_others(world, as_user):
    c = sent_to_member(world)
    for user in (world.staff_a, world.outsider, world.secretary_a):
        assert as_user(user).get(reverse("commitments:confirm", args=[c.pk])).status_code == 404


def test_send_back_is_post_only(world, as_user):
    c = sent_to_member(world)
    assert as_user(world.member_user_a).get(reverse("commitments:send_back", args=[c.pk])).status_code == 405


def test_staff_detail_page_asks_how_consent_was_given(world, as_user):
    member = make_member(world.branch_a, "赵敏")
    c = drafted(world, member)
    client = as_user(world.staff_a)
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert 'name="consent"' in html and "当面" in html and "电话" in html
    response = client.post(reverse("commitments:submit", args=[c.pk]), {"version": c.version})
    c.refresh_from_db()
    assert c.status == S.DRAFT
    response = client.post(reverse("commitments:submit", args=[c.pk]), {"version": c.version, "consent": "phone"},
                           follow=True)
    c.refresh_from_db()
    assert c.status == S.SUBMITTED
    assert "由一支部组织委员于" in response.content.decode() and "电话征得本人同意" in response.content.decode()


def test_staff_detail_page_offers_sending_to_the_member(world, as_user):
    c = drafted(world)
    client = as_user(world.staff_a)
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert "提交本人确认" in html and 'name="consent"' not in html
    response = client.post(reverse("commitments:submit", args=[c.pk]), {"version": c.version}, follow=True)
    assert "等待李娜本人确认" in response.content.decode()


def test_lists_and_coverage_pages_render_a_pledge_awaiting_its_member(world, as_user):
    sent_to_member(world)
    client = as_user(world.secretary_a)
    for url, params in ((reverse("commitments:list"), {"status": "confirming"}),
                        (reverse("portal:coverage"), {}), (reverse("portal:coverage_members"), {}),
                        (reverse("commitments:branch_pledges", args=[world.branch_a.pk]), {})):
        response = client.get(url, params)
        assert response.status_code == 200, url
    assert "待本人确认" in client.get(reverse("commitments:list"), {"status": "confirming"}).content.decode()
