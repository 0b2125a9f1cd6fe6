"""评诺 (四（五）, 六（二）): the three voices on a published commitment — 领导点评, 群众评议 and
组织考核 — the release of results to the noticeboard, and rectification orders (责令整改).

Ballots, tallies, assessments and rectification steps are rows that are never updated, so every
vote and every judgement stays on record; a wrong meeting tally is voided with a reason, not
deleted. How the voices combine into one verdict is evaluations/scoring.py.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from commitments.models import Commitment, KeptRecord
from orgs.models import Organisation


class Rating(models.TextChoices):
    """The three answers of 群众评议 (and of a leader's comment)."""

    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class Fulfilment(models.TextChoices):
    """组织考核's finding, and the combined verdict's result."""

    FULFILLED = "fulfilled", "已兑现"
    PARTLY = "partly", "基本兑现"
    UNFULFILLED = "unfulfilled", "未兑现"


class Grade(models.TextChoices):
    """组织考核's grade (等次)."""

    EXCELLENT = "excellent", "优秀"
    GOOD = "good", "良好"
    FAIR = "fair", "一般"
    POOR = "poor", "较差"


class _AppendOnly(KeptRecord):
    """Never changed once written, and never deleted (KeptRecord)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError(f"{self._meta.verbose_name}不能修改")
        super().save(*args, **kwargs)


class Evaluation(KeptRecord):
    """The 评诺 state of one commitment: a compare-and-set counter for assessment and release,
    and whether the results have been released to the public."""

    commitment = models.OneToOneField(Commitment, primary_key=True, on_delete=models.CASCADE,
                                      related_name="evaluation")
    version = models.PositiveIntegerField(default=1)
    released_at = models.DateTimeField("结果公布时间", null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = "评诺"
        verbose_name_plural = "评诺"

    def __str__(self) -> str:
        return f"评诺：{self.commitment_id}"


class LeaderComment(KeptRecord):
    """领导点评: a secretary of the owner organisation or of one above it comments on the
    commitment. One per leader; the leader may rewrite it until the results are released."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="leader_comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="点评人", on_delete=models.PROTECT,
                               related_name="+")
    author_org = models.ForeignKey(Organisation, verbose_name="点评人所在党组织", on_delete=models.PROTECT,
                                   related_name="+")
    rating = models.CharField("评价", max_length=20, choices=Rating.choices)
    comment = models.TextField("点评意见")
    created_at = models.DateTimeField("点评时间", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "领导点评"
        verbose_name_plural = "领导点评"
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["commitment", "author"], name="one_comment_per_leader")]

    def __str__(self) -> str:
        return f"{self.get_rating_display()}：{self.comment[:20]}"


class Ballot(_AppendOnly):
    """One online ballot of 群众评议. The rater is known only by keyed hashes, salted per campaign:
    of a random token kept in their browser (unique per commitment) and of their network address
    (to cap a network). Both are blanked when the results are released, so the constraint holds
    only for a hash that is still there."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="ballots")
    rating = models.CharField("评价", max_length=20, choices=Rating.choices)
    remark = models.CharField("意见", max_length=200, blank=True)
    rater_hash = models.CharField(max_length=64, editable=False)
    client_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField("评议时间", auto_now_add=True)

    class Meta:
        verbose_name = "群众评议票"
        verbose_name_plural = "群众评议票"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["commitment", "rater_hash"], condition=~Q(rater_hash=""),
                                               name="one_ballot_per_rater",
                                               violation_error_message="您已评议过该承诺。")]
        indexes = [models.Index(fields=["commitment", "client_hash"]),
                   models.Index(fields=["client_hash", "created_at"])]

    def __str__(self) -> str:
        return self.get_rating_display()


class MeetingTally(_AppendOnly):
    """民主测评 at a meeting: the paper ballots counted per option, with the meeting's date and place."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="meeting_tallies")
    held_on = models.DateField("测评日期")
    place = models.CharField("地点", max_length=100)
    # 到会人数 is required for new tallies (older rows may lack it); 应到人数 is the bound the
    # recorder states, checked against the organisation's members plus declared 群众代表.
    attendees = models.PositiveIntegerField("到会人数", null=True, blank=True)
    expected = models.PositiveIntegerField("应到人数", null=True, blank=True)
    mass_representatives = models.PositiveIntegerField("群众代表人数", default=0)
    satisfied = models.PositiveIntegerField("满意票数")
    basic = models.PositiveIntegerField("基本满意票数")
    unsatisfied = models.PositiveIntegerField("不满意票数")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    voided_at = models.DateTimeField("作废时间", null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    void_reason = models.CharField("作废原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "民主测评计票"
        verbose_name_plural = "民主测评计票"
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(satisfied__gt=0) | Q(basic__gt=0) | Q(unsatisfied__gt=0),
                                   name="tally_has_votes"),
            models.CheckConstraint(condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                                   name="void_has_reason"),
            models.CheckConstraint(
                condition=Q(attendees__isnull=True) | Q(attendees__gte=F("satisfied") + F("basic") + F("unsatisfied")),
                name="tally_votes_within_attendance"),
            models.CheckConstraint(condition=Q(expected__isnull=True) | Q(attendees__lte=F("expected")),
                                   name="tally_attendance_within_expected"),
        ]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.place}"

    @property
    def total(self) -> int:
        return self.satisfied + self.basic + self.unsatisfied


class Assessment(_AppendOnly):
    """组织考核: the reviewing organisation's finding, grade and reason. The latest one counts;
    earlier ones (before a rectification, say) stay on record. Its result is copied to
    Commitment.latest_result by the service that writes it (evaluations.services.assess)."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="assessments")
    result = models.CharField("考核结果", max_length=20, choices=Fulfilment.choices)
    grade = models.CharField("等次", max_length=20, choices=Grade.choices)
    reason = models.TextField("考核意见")
    assessor_org = models.ForeignKey(Organisation, verbose_name="考核党组织", on_delete=models.PROTECT,
                                     related_name="+")
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="考核人", on_delete=models.PROTECT,
                                    related_name="+")
    assessed_at = models.DateTimeField("考核时间", auto_now_add=True)

    class Meta:
        verbose_name = "组织考核"
        verbose_name_plural = "组织考核"
        ordering = ["-assessed_at", "-id"]
        indexes = [models.Index(fields=["commitment", "-assessed_at"])]

    def __str__(self) -> str:
        return f"{self.get_result_display()}（{self.get_grade_display()}）"


class RectificationStatus(models.TextChoices):
    OPEN = "open", "整改中"
    RESPONDED = "responded", "待验收"
    CLOSED = "closed", "已完成整改"


class RectificationOrder(KeptRecord):
    """责令整改: an order to rectify a commitment by a deadline, with the required actions. The
    owner responds; the issuing organisation closes it or extends the deadline."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="rectifications")
    issuer_org = models.ForeignKey(Organisation, verbose_name="下达党组织", on_delete=models.PROTECT,
                                   related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="下达人", on_delete=models.PROTECT,
                                  related_name="+")
    grounds = models.TextField("整改原因")
    required_actions = models.TextField("整改要求")
    deadline = models.DateField("整改期限")
    # 六（二）督促检查 during the year: ordered while 群众评议 was still open, on the interim
    # satisfaction rate that only the reviewing organisation and those above see.
    interim_basis = models.BooleanField("依据评议期间的阶段性满意率", default=False)
    status = models.CharField("状态", max_length=20, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    version = models.PositiveIntegerField(default=1)
    issued_at = models.DateTimeField("下达时间", auto_now_add=True)
    closed_at = models.DateTimeField("验收时间", null=True, blank=True)

    class Meta:
        verbose_name = "责令整改"
        verbose_name_plural = "责令整改"
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["commitment"], condition=~Q(status="closed"),
                                    name="one_open_rectification_per_commitment",
                                    violation_error_message="该承诺已有未完成的整改通知。"),
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"责令整改（{self.get_status_display()}）"

    def is_overdue(self, today) -> bool:
        return self.status != RectificationStatus.CLOSED and today > self.deadline


class RectificationStep(_AppendOnly):
    """One step of an order's history: issued, responded, extended, closed."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "下达整改"
        RESPOND = "respond", "整改反馈"
        EXTEND = "extend", "延长期限"
        CLOSE = "close", "验收完成"

    order = models.ForeignKey(RectificationOrder, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    deadline = models.DateField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "整改记录"
        verbose_name_plural = "整改记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()
