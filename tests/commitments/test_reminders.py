"""Deadline reminders: what is due within N days or overdue, once per user, kind and day."""
import datetime

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from commitments.models import Commitment, Exemption, Reminder
from evaluations import services as ev
from portal.reminders import dues_for, remind, remind_all
from tests.commitments.publishing import published
from tests.commitments.test_consent import sent_to_member
from tests.conftest import make_commitment, make_member

SEPT_25 = datetime.date(2010, 9, 25)  # five days before the 定诺 deadline (2010-09-30)


def _kinds(user, world, today, days=7):
    return {d.kind: d for d in dues_for(user, world.campaign, today=today, days=days)}


def test_unsubmitted_drafts_are_due_near_the_pledge_deadline(world):
    make_commitment(world.campaign, member=world.member_a, status="draft", actor=world.staff_a)
    make_commitment(world.campaign, member=world.member_b, status="returned", actor=world.staff_a)
    # Far from the deadline: nothing yet.
    assert "drafts" not in _kinds(world.staff_a, world, datetime.date(2010, 9, 1))
    due = _kinds(world.staff_a, world, SEPT_25)["drafts"]
    assert due.count == 1  # staff_a drafts branch A only; member_b is in branch B
    assert "定诺截止2010年9月30日，还有5天" in due.hint
    assert _kinds(world.committee_secretary, world, SEPT_25)["drafts"].count == 2
    late = _kinds(world.staff_a, world, datetime.date(2010, 10, 3))["drafts"]
    assert "已逾期3天" in late.hint
    # The member is reminded of their own written pledge.
    assert _kinds(world.member_user_a, world, SEPT_25)["drafts"].count == 1


def test_reviews_waiting_too_long_and_deferred_make_ups(world):
    c = make_commitment(world.campaign, member=world.member_a, status="submitted", actor=world.staff_a)
    Commitment.objects.filter(pk=c.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=8))
    away = make_member(world.branch_a, "外出党员")
    Exemption.objects.create(member=away, campaign=world.campaign, kind="defer", reason="外出学习",
                             makeup_due=datetime.date(2010, 11, 5), decided_by=world.secretary_a)
    dues = _kinds(world.secretary_a, world, datetime.date(2010, 11, 1))
    assert dues["review_waiting"].count == 1
    assert dues["makeup"].count == 1 and "还有4天" in dues["makeup"].hint
    assert "review_waiting" not in _kinds(world.staff_a, world, datetime.date(2010, 11, 1))  # not a reviewer


def test_rectification_orders_remind_both_sides(world):
    c = published(world, member=world.member_a)
    today = datetime.date(2010, 11, 20)
    ev.assess(actor=world.secretary_a, commitment=c, version=1, result="unfulfilled", grade="poor",
              reason="承诺事项均未落实。")
    ev.rectification_order(actor=world.secretary_a, commitment=c, grounds="考核未兑现", required_actions="限期落实",
                           deadline=datetime.date(2010, 11, 25), today=today)
    assert _kinds(world.member_user_a, world, today)["rectify"].count == 1
    assert "rectify_verify" not in _kinds(world.secretary_a, world, today)
    after = datetime.date(2010, 11, 27)
    assert _kinds(world.secretary_a, world, after)["rectify_verify"].count == 1
    assert "已逾期2天" in _kinds(world.staff_a, world, after)["rectify"].hint


def test_reminded_once_per_day_by_mail_and_in_the_todo_area(world, mailoutbox, client):
    world.staff_a.email = "staff@example.org"
    world.staff_a.save()
    make_commitment(world.campaign, member=world.member_a, status="draft", actor=world.staff_a)
    today = timezone.localdate()
    world.campaign.pledge_deadline = today + datetime.timedelta(days=2)
    world.campaign.save()
    first = remind(world.staff_a, world.campaign, today=today, days=7)
    again = remind(world.staff_a, world.campaign, today=today, days=7)
    assert [r.kind for r in first] == ["drafts"] and again == []
    assert Reminder.objects.filter(user=world.staff_a).count() == 1
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["staff@example.org"]
    assert "1 份承诺尚未提交审核" in mailoutbox[0].body
    assert Reminder.objects.get().emailed_at is not None
    # The to-do area shows the duty live, to whoever it belongs: the member writes their own pledge.
    client.force_login(world.member_user_a)
    page = client.get(reverse("home")).content.decode()
    assert "提交我的公开承诺" in page and "还有2天" in page


def test_command_reminds_everyone_and_is_idempotent(world, mailoutbox):
    make_commitment(world.campaign, member=world.member_a, status="draft", actor=world.staff_a)
    world.campaign.pledge_deadline = timezone.localdate()
    world.campaign.save()
    call_command("send_reminders", "--days", "3", "--no-email")
    made = Reminder.objects.count()
    # branch A's officers, the committee and city officers above them, the admin's reading
    # scope does not draft, and the member for their own pledge.
    assert set(Reminder.objects.values_list("user__username", flat=True)) >= {"staff_a", "secretary_a", "member_a"}
    call_command("send_reminders", "--no-email")
    assert Reminder.objects.count() == made
    assert mailoutbox == []
    assert remind_all(email=False) == {"users": 0, "reminders": 0}


def test_a_pledge_awaiting_its_member_reminds_the_member(world):
    c = sent_to_member(world)
    due = _kinds(world.member_user_a, world, SEPT_25)["confirm"]
    assert due.count == 1 and due.url == reverse("commitments:confirm", args=[c.pk])
    assert "confirm" not in _kinds(world.staff_a, world, SEPT_25)
