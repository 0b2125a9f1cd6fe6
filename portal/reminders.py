"""Deadline reminders (六（三）全面覆盖 and 督促检查): what is due within N days or overdue for
one user, recorded once per user, kind and day, and e-mailed. (The home page's to-do area shows each
person's duties live, see duties.py; it does not repeat these mails.)

`manage.py send_reminders` (run daily by cron) calls `remind_all`. Each kind is one count query
per user:

* drafts — commitments the user drafts still in 草稿/已退回 when the 定诺 deadline is near or past;
* confirm — the member's pledge drafted by the branch, waiting for the member's 确认, likewise;
* unpublished — approved commitments not yet made public when the 亮诺 deadline is near or past;
* review_waiting — submissions waiting for the user's review longer than REVIEW_WAIT_DAYS;
* makeup — deferred members (延期承诺) whose make-up (补课) is near or past due;
* rectify / rectify_verify — rectification orders due soon or overdue, for both sides.
"""
import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from commitments.models import Campaign, Commitment, CommitmentStatus, Exemption, ExemptionStatus, Reminder
from commitments.selectors import current_campaign
from core.templatetags.cn import cn_date
from evaluations.models import RectificationStatus
from evaluations.selectors import orders_to_answer, orders_to_verify
from orgs.models import RoleGrant
from orgs.permissions import OFFICER_ROLES, scope_for
from orgs.selectors import under_any
from portal.duties import when
from reviews.selectors import queue_base

log = logging.getLogger(__name__)
REVIEW_WAIT_DAYS = 7
DEFAULT_DAYS = 7


@dataclass
class Due:
    kind: str
    label: str
    count: int
    url: str
    hint: str = ""


def _drafted_by(user) -> Q:
    roots = scope_for(user).roots(OFFICER_ROLES)
    q = Q(member__user=user, is_oral=False)
    if roots:
        q |= under_any(roots, "organisation__path") | under_any(roots, "member__branch__path")
    return q


def dues_for(user, campaign: Campaign | None, *, today: datetime.date, days: int = DEFAULT_DAYS) -> list[Due]:
    """What is due for `user` within `days` days of `today`, or overdue."""
    horizon = today + datetime.timedelta(days=days)
    dues: list[Due] = []
    if campaign is not None:
        mine = Commitment.objects.filter(_drafted_by(user), campaign=campaign)
        if campaign.pledge_deadline <= horizon:
            n = mine.filter(status__in=(CommitmentStatus.DRAFT, CommitmentStatus.RETURNED)).count()
            if n:
                dues.append(Due("drafts", f"{n} 份承诺尚未提交审核", n, reverse("commitments:list") + "?status=draft",
                                f"定诺截止{when(campaign.pledge_deadline, today)}"))
            # 四（一）自愿: a pledge the branch drafted for the member waits for the member's 确认.
            waiting = list(Commitment.objects.filter(campaign=campaign, member__user=user,
                                                     status=CommitmentStatus.CONFIRMING).values_list("pk", flat=True))
            if waiting:
                dues.append(Due("confirm", "党支部代为填写的公开承诺待您确认", len(waiting),
                                reverse("commitments:confirm", args=[waiting[0]]),
                                f"定诺截止{when(campaign.pledge_deadline, today)}"))
        if campaign.publish_deadline <= horizon:
            n = mine.filter(status=CommitmentStatus.APPROVED, public_version__isnull=True).count()
            if n:
                dues.append(Due("unpublished", f"{n} 份已审定的承诺尚未公开", n,
                                reverse("commitments:list") + "?status=approved",
                                f"亮诺截止{when(campaign.publish_deadline, today)}"))
        waited = timezone.now() - datetime.timedelta(days=REVIEW_WAIT_DAYS)
        n = queue_base(user, campaign=campaign, include_subtree=False).filter(submitted_at__lt=waited).count()
        if n:
            dues.append(Due("review_waiting", f"{n} 份承诺提交已超过{REVIEW_WAIT_DAYS}天未审核", n,
                            reverse("reviews:queue"), "请及时审核把关"))
        roots = scope_for(user).roots(OFFICER_ROLES)
        if roots:
            late = (Exemption.objects.filter(under_any(roots, "member__branch__path"), campaign=campaign,
                                             status=ExemptionStatus.APPROVED,
                                             kind=Exemption.Kind.DEFER, made_up_on__isnull=True,
                                             makeup_due__lte=horizon)
                    .order_by("makeup_due").values_list("makeup_due", flat=True))
            due_dates = list(late[:1])
            n = late.count() if due_dates else 0
            if n:
                dues.append(Due("makeup", f"{n} 名延期承诺的党员待补课", n, reverse("orgs:member_list"),
                                f"最早补课期限{when(due_dates[0], today)}"))
    answer = orders_to_answer(user).filter(status=RectificationStatus.OPEN, deadline__lte=horizon)
    first = answer.order_by("deadline").values_list("deadline", flat=True).first()
    if first is not None:
        n = answer.count()
        dues.append(Due("rectify", f"{n} 项整改须在期限内反馈", n, reverse("evaluations:rectifications"),
                        f"最早整改期限{when(first, today)}"))
    verify = orders_to_verify(user).exclude(status=RectificationStatus.CLOSED).filter(deadline__lt=today)
    n = verify.count()
    if n:
        dues.append(Due("rectify_verify", f"下达的整改中有 {n} 项已逾期", n,
                        reverse("evaluations:rectifications") + "?tab=verify", "请督促整改单位限期整改"))
    return dues


def _recipients():
    """Active users with a role or a member record: everyone who can have something due."""
    User = get_user_model()
    with_roles = RoleGrant.objects.filter(organisation__is_active=True).values("user_id")
    return User.objects.filter(Q(pk__in=with_roles) | Q(member__isnull=False), is_active=True).order_by("pk")


def remind(user, campaign, *, today: datetime.date, days: int, email: bool = True) -> list[Reminder]:
    """Record today's new reminders for one user and e-mail them (once per kind and day)."""
    new = []
    for due in dues_for(user, campaign, today=today, days=days):
        try:
            with transaction.atomic():
                new.append(Reminder.objects.create(user=user, day=today, kind=due.kind, label=due.label,
                                                   count=due.count, url=due.url, hint=due.hint))
        except IntegrityError:
            continue  # already reminded of this today
    if email and new and user.email:
        body = "\n".join(f"· {r.label}（{r.hint}）" if r.hint else f"· {r.label}" for r in new)
        site = settings.SITE_URL.rstrip("/")
        try:
            send_mail(f"公开承诺工作提醒（{cn_date(today)}）",
                      f"{user.last_name or user.username}同志：\n\n{body}\n\n请登录公开承诺管理系统办理：{site}/",
                      None, [user.email])
        except Exception:  # noqa: BLE001 - one failed mail must not stop the others
            log.exception("reminder mail to user %s failed", user.pk)
        else:
            Reminder.objects.filter(pk__in=[r.pk for r in new]).update(emailed_at=timezone.now())
    return new


def remind_all(*, today: datetime.date | None = None, days: int = DEFAULT_DAYS, email: bool = True) -> dict:
    """Run the day's reminders for everyone; returns counts for the command's output."""
    today = today or timezone.localdate()
    campaign = current_campaign()
    users = reminders = 0
    for user in _recipients().iterator():
        made = remind(user, campaign, today=today, days=days, email=email)
        if made:
            users += 1
            reminders += len(made)
    return {"users": users, "reminders": reminders}
