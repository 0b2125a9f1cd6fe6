"""Campaign years and the commitments made in them: 定诺 (drafting, opinions, references,
exemptions) and the frozen versions that 审诺 judges."""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from orgs.models import PATH_MAX_LENGTH, Member, Organisation, OrgKind

# --- records that are never deleted (等保二级: no hard deletes) ----------------------------------

class KeptQuerySet(models.QuerySet):
    """Refuses bulk deletes: a commitment's record from 定诺 to 评诺 stays. What was wrong is
    marked removed, voided or superseded with a reason, never deleted."""

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name}不能删除")

    delete.alters_data = True
    delete.queryset_only = True


class KeptRecord(models.Model):
    """A row that is never deleted, one at a time (delete()) or in bulk (QuerySet.delete())."""

    objects = KeptQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name}不能删除")

    delete.alters_data = True


def default_committing_kinds() -> list[str]:
    """Every kind of organisation commits except a 党组: a 党组 is not a 基层党组织 (六（三）
    全面覆盖 is of the 基层党组织 and members); a 临时党支部 does."""
    return [k for k in OrgKind.values if k != OrgKind.LEADING_GROUP]


class Campaign(models.Model):
    """One campaign year (活动年度) with its own deadlines and settings."""

    name = models.CharField("活动名称", max_length=100)
    year = models.PositiveSmallIntegerField("年度", unique=True,
                                            error_messages={"unique": "该年度的活动已经存在。"})
    pledge_deadline = models.DateField("定诺截止日期")
    publish_deadline = models.DateField("亮诺截止日期", help_text="2010年的要求是10月底前完成公开承诺")
    evaluation_deadline = models.DateField("评诺截止日期")
    leader_min_items = models.PositiveSmallIntegerField(
        "领导干部承诺事项最少条数", default=3,
        help_text="五（四）：担任领导职务的党员承诺内容和标准应高于其他党员")
    is_current = models.BooleanField("当前年度", default=False)
    # 评诺 settings (五（四）、六（二）). The window of 群众评议 runs from evaluation_opens (by
    # default the day after the 亮诺 deadline) to evaluation_deadline, both inclusive.
    evaluation_opens = models.DateField("群众评议开始日期", null=True, blank=True,
                                        help_text="留空则为亮诺截止日期的次日；评诺截止日期为评议结束日期")
    weight_leader = models.PositiveSmallIntegerField("领导点评权重（%）", default=20,
                                                     validators=[MaxValueValidator(100)])
    weight_public = models.PositiveSmallIntegerField("群众评议权重（%）", default=30,
                                                     validators=[MaxValueValidator(100)])
    weight_assessment = models.PositiveSmallIntegerField("组织考核权重（%）", default=50,
                                                         validators=[MaxValueValidator(100)])
    satisfaction_threshold = models.PositiveSmallIntegerField(
        "满意率警戒线（%）", default=70, validators=[MaxValueValidator(100)],
        help_text="群众满意率低于此值的，上级党组织可以责令整改（六（二）督促检查）")
    # 六（三）确保全面覆盖: which kinds of organisation must commit (and are counted on coverage).
    committing_kinds = models.JSONField("应作出承诺的党组织类型", default=default_committing_kinds,
                                        help_text="党组不是基层党组织，默认不需作出公开承诺")
    # 六（三）: 确因特殊情况不能承诺的，机关党组织要根据实际情况审核认同. Empty: the branch's parent
    # (党委/党总支) approves; a level (the root is 0) names the ancestor at that depth instead.
    exemption_approver_depth = models.PositiveSmallIntegerField(
        "免于承诺审核认同层级", null=True, blank=True,
        help_text="留空则由党支部的上级党组织（党委或党总支）审核认同；填写层级（最上级为0）则由该层级的党组织审核认同")
    # The random salt of the keyed hashes that tell anonymous raters and suggesters apart
    # (evaluations.Ballot, Suggestion.client_hash; commitments/anonymity.py): made on first need,
    # destroyed with the hashes once the results are released (hashes_erased_at).
    hash_salt = models.CharField(max_length=64, blank=True, editable=False)
    hashes_erased_at = models.DateTimeField("评议人标识清除时间", null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "活动年度"
        verbose_name_plural = "活动年度"
        ordering = ["-year"]
        constraints = [
            # At most one campaign is the current one.
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True),
                                    name="one_current_campaign",
                                    violation_error_message="同一时间只能有一个当前年度。"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.pledge_deadline and self.publish_deadline and self.pledge_deadline > self.publish_deadline:
            raise ValidationError({"publish_deadline": "亮诺截止日期不能早于定诺截止日期。"})
        if self.publish_deadline and self.evaluation_deadline and self.publish_deadline > self.evaluation_deadline:
            raise ValidationError({"evaluation_deadline": "评诺截止日期不能早于亮诺截止日期。"})
        if self.evaluation_opens and self.evaluation_deadline and self.evaluation_opens > self.evaluation_deadline:
            raise ValidationError({"evaluation_opens": "群众评议开始日期不能晚于评诺截止日期。"})
        weights = (self.weight_leader, self.weight_public, self.weight_assessment)
        if all(w is not None for w in weights) and sum(weights) != 100:
            raise ValidationError({"weight_assessment": f"三项权重之和须为100%，现为{sum(weights)}%。"})
        if self.weight_assessment == 0:
            # No verdict exists without an assessment, so the assessment must weigh something.
            raise ValidationError({"weight_assessment": "组织考核权重须大于0。"})

    @property
    def rating_opens(self) -> datetime.date | None:
        """First day of 群众评议: the set date, else the day after the 亮诺 deadline."""
        if self.evaluation_opens:
            return self.evaluation_opens
        return self.publish_deadline + datetime.timedelta(days=1) if self.publish_deadline else None

    def rating_state(self, today: datetime.date) -> str:
        """"before", "open" or "closed": where `today` falls against the 群众评议 window."""
        if today < self.rating_opens:
            return "before"
        return "open" if today <= self.evaluation_deadline else "closed"

    @property
    def weights(self) -> dict[str, int]:
        return {"leader": self.weight_leader, "public": self.weight_public, "assessment": self.weight_assessment}

    @property
    def deadlines(self) -> list[tuple[str, "object"]]:
        """The three deadlines in order, with the step each closes."""
        return [("定诺", self.pledge_deadline), ("亮诺", self.publish_deadline),
                ("评诺", self.evaluation_deadline)]


class CommitmentStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    # 四（一）自愿: a pledge staff drafted for a member with an account waits for the member's 确认
    # before it goes to review; it is not yet submitted (coverage does not count it as pledged).
    CONFIRMING = "confirming", "待本人确认"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "已审定"
    PUBLISHED = "published", "已公开"
    # A draft never submitted that its drafters discarded: kept (no hard deletes), counted nowhere,
    # and a new draft may be started after it.
    WITHDRAWN = "withdrawn", "已作废"


# States in which the drafter may still change the text.
EDITABLE_STATUSES = (CommitmentStatus.DRAFT, CommitmentStatus.RETURNED)
# Every state but WITHDRAWN: the commitments that exist as far as anyone counts.
LIVE_STATUSES = tuple(s for s in CommitmentStatus.values if s != CommitmentStatus.WITHDRAWN)
# 已承诺 (六（三）): submitted at least once. A returned pledge was submitted and is in the review
# loop, so it counts; a draft never submitted does not; a published commitment being revised
# (status draft again, public_version kept) still does (see SUBMITTED_Q).
SUBMITTED_STATUSES = (CommitmentStatus.SUBMITTED, CommitmentStatus.RETURNED, CommitmentStatus.APPROVED,
                      CommitmentStatus.PUBLISHED)


def submitted_q(prefix: str = "") -> Q:
    """Commitments (reached through `prefix`) that count as 已承诺: submitted at least once."""
    return Q(**{f"{prefix}status__in": SUBMITTED_STATUSES}) | Q(**{f"{prefix}public_version__isnull": False})


def owner_path_of(commitment: "Commitment") -> str:
    """The path of a commitment's owner: the organisation's, or the member's branch's."""
    if commitment.member_id:
        return commitment.member.branch.path
    return commitment.organisation.path


class Commitment(KeptRecord):
    """One owner's commitment in one campaign: an organisation's (附件1) or a member's pledge (附件2)."""

    campaign = models.ForeignKey(Campaign, verbose_name="活动年度", on_delete=models.PROTECT,
                                 related_name="commitments")
    organisation = models.ForeignKey(Organisation, verbose_name="党组织", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="commitments")
    member = models.ForeignKey(Member, verbose_name="党员", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="commitments")
    # The organisation whose secretaries review it: the parent for an organisation's commitment,
    # the branch for a member's pledge (四（二）). Kept on the row so the queue is one indexed query.
    reviewer_org = models.ForeignKey(Organisation, verbose_name="审核党组织", on_delete=models.PROTECT,
                                     related_name="commitments_to_review")
    status = models.CharField("状态", max_length=20, choices=CommitmentStatus.choices,
                              default=CommitmentStatus.DRAFT, db_index=True)
    goal = models.TextField("目标", blank=True, help_text="党组织填创建目标，党员填争当目标")
    is_oral = models.BooleanField("口头承诺", default=False)
    recorder = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="代为记录人", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    # Compare-and-set counter: every state change or edit bumps it; a stale form loses.
    version = models.PositiveIntegerField(default=1)
    submitted_count = models.PositiveSmallIntegerField("已提交版本数", default=0)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    last_submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交人", null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    # Why the member sent a pledge drafted for them back instead of confirming it (四（一）自愿).
    confirmation_note = models.TextField("本人退回意见", blank=True)
    # The version the public sees: it stays up while a published commitment is being revised
    # and re-reviewed, and is replaced only when the revision is published in turn.
    public_version = models.ForeignKey("CommitmentVersion", verbose_name="公开版本", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Denormalised for the lists and dashboards over a subtree (docs/PERFORMANCE.md): the owner's
    # path (the organisation's, or the member's branch's), so "commitments under X" is one indexed
    # prefix match instead of two joins, kept by save() on creation, organisation_move and
    # member_transfer; and the result of the latest 组织考核 (Assessment is append-only), kept by
    # evaluations.services (assess, commitment_result_refresh), so the fulfilment figures need no subquery per commitment.
    owner_path = models.CharField("所属组织路径", max_length=PATH_MAX_LENGTH, editable=False, default="")
    # 四（三）: the public noticeboard is the 网络 channel. The day the public version went online:
    # set when it is published with 网络 or 网络 is added to its publication later, cleared when a
    # revision is published without it. The noticeboard shows only commitments that have it.
    online_since = models.DateField("网上公开日期", null=True, blank=True, editable=False)
    latest_result = models.CharField("最新考核结果", max_length=20, null=True, blank=True, editable=False)
    withdrawn_at = models.DateTimeField("作废时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="作废人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "公开承诺"
        verbose_name_plural = "公开承诺"
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organisation__isnull=False, member__isnull=True)
                           | Q(organisation__isnull=True, member__isnull=False)),
                name="commitment_exactly_one_owner"),
            # A discarded (withdrawn) draft stays on record beside the owner's new one.
            models.UniqueConstraint(fields=["campaign", "organisation"],
                                    condition=Q(organisation__isnull=False) & ~Q(status="withdrawn"),
                                    name="one_live_commitment_per_org_per_campaign"),
            models.UniqueConstraint(fields=["campaign", "member"],
                                    condition=Q(member__isnull=False) & ~Q(status="withdrawn"),
                                    name="one_live_pledge_per_member_per_campaign"),
            models.CheckConstraint(condition=Q(is_oral=False) | Q(member__isnull=False),
                                   name="only_member_pledges_are_oral"),
        ]
        indexes = [
            models.Index(fields=["reviewer_org", "status", "submitted_at"]),
            # Prefix matches (LIKE 'path%') need the pattern operator class on PostgreSQL unless
            # the database's collation is C; other databases ignore opclasses.
            models.Index(fields=["campaign", "owner_path"], name="commitment_campaign_owner",
                         opclasses=["int8_ops", "varchar_pattern_ops"]),
            # ... and, for lists in tree order (ORDER BY owner_path), the ordinary operator class,
            # which a pattern index cannot give.
            models.Index(fields=["campaign", "owner_path", "id"], name="commitment_campaign_owner_ord"),
            models.Index(fields=["campaign", "-updated_at"], name="commitment_campaign_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_name}{self.kind_label}"

    def save(self, *args, **kwargs):
        if not self.owner_path:
            self.owner_path = owner_path_of(self)
        super().save(*args, **kwargs)

    @property
    def is_member_pledge(self) -> bool:
        return self.member_id is not None

    @property
    def kind_label(self) -> str:
        return "党员公开承诺" if self.is_member_pledge else "党组织公开承诺"

    @property
    def goal_label(self) -> str:
        return "争当目标" if self.is_member_pledge else "创建目标"

    @property
    def measures_label(self) -> str:
        return "完成措施" if self.is_member_pledge else "具体措施"

    @property
    def owner_name(self) -> str:
        """Needs organisation or member selected with the row."""
        return self.member.name if self.is_member_pledge else self.organisation.name

    @property
    def owner_org(self) -> Organisation:
        """The organisation the commitment belongs to: the member's branch for a pledge, else its
        own organisation. Needs member__branch or organisation selected with the row."""
        return self.member.branch if self.member_id else self.organisation

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_submitted(self) -> bool:
        """已承诺 (六（三）): submitted at least once, as submitted_q."""
        return self.status in SUBMITTED_STATUSES or self.public_version_id is not None

    @property
    def is_discardable(self) -> bool:
        """A draft never submitted (not a revision of a published one) may be discarded."""
        return (self.status == CommitmentStatus.DRAFT and not self.submitted_count
                and self.public_version_id is None)


class Suggestion(models.Model):
    """An opinion gathered before drafting (四（一）): the 意见箱, a 座谈会 or a 调研走访."""

    class Channel(models.TextChoices):
        BOX_ONLINE = "box_online", "网上意见箱"
        BOX_PAPER = "box_paper", "意见箱（纸质）"
        SYMPOSIUM = "symposium", "座谈会"
        VISIT = "visit", "调研走访"

    class Outcome(models.TextChoices):
        PENDING = "pending", "待处理"
        ADOPTED = "adopted", "采纳"
        DECLINED = "declined", "暂不采纳"

    organisation = models.ForeignKey(Organisation, verbose_name="党组织", on_delete=models.PROTECT,
                                     related_name="suggestions")
    campaign = models.ForeignKey(Campaign, verbose_name="活动年度", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="suggestions")
    channel = models.CharField("来源", max_length=20, choices=Channel.choices)
    content = models.TextField("意见建议")
    contact = models.CharField("联系方式", max_length=100, blank=True)
    held_on = models.DateField("日期", null=True, blank=True)
    place = models.CharField("地点", max_length=100, blank=True)
    participants = models.CharField("参加人员", max_length=300, blank=True)
    # A keyed hash of the public submitter's address: enough to throttle, not to identify.
    client_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    outcome = models.CharField("处理结果", max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_reason = models.CharField("说明", max_length=300, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "意见建议"
        verbose_name_plural = "意见建议"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "outcome", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}：{self.content[:20]}"


class ReferenceItem(models.Model):
    """承诺事项参考: a reference item a parent organisation publishes for its subtree."""

    class Audience(models.TextChoices):
        ORGANISATION = "organisation", "党组织"
        MEMBER = "member", "党员"

    class Category(models.TextChoices):
        # 三、承诺内容: the guidance's headings for organisations, then for members.
        POLICY = "policy", "贯彻党的路线方针政策"
        SCIENTIFIC = "scientific", "深入学习实践科学发展观"
        FIVE_GOOD = "five_good", "创建“五个好”党组织"
        SERVE_PEOPLE = "serve_people", "服务群众、为民办实事"
        CAMPAIGN = "campaign", "积极参加创先争优活动"
        CONSTITUTION = "constitution", "模范履行党章规定的义务"
        FIVE_LEADS = "five_leads", "努力做到“五带头”"
        VANGUARD = "vanguard", "发挥先锋模范作用"
        GOOD_DEEDS = "good_deeds", "为群众办实事做好事"

    organisation = models.ForeignKey(Organisation, verbose_name="发布党组织", on_delete=models.PROTECT,
                                     related_name="reference_items")
    audience = models.CharField("适用对象", max_length=20, choices=Audience.choices)
    category = models.CharField("类别", max_length=20, choices=Category.choices)
    content = models.TextField("承诺内容")
    measures = models.TextField("措施参考", blank=True)
    is_active = models.BooleanField("发布中", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "承诺事项参考"
        verbose_name_plural = "承诺事项参考"
        ordering = ["audience", "category", "id"]

    def __str__(self) -> str:
        return self.content[:30]


class Item(KeptRecord):
    """One commitment item. Its id is stable across versions, so later progress entries, ballots
    and verdicts survive a revision; a removed item is marked, not deleted."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField("序号", default=0)
    content = models.TextField("承诺内容")
    measures = models.TextField("措施")
    deadline = models.DateField("完成时限")
    responsible = models.CharField("履行责任人", max_length=100, blank=True)
    source_suggestion = models.ForeignKey(Suggestion, verbose_name="来源意见", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="items")
    source_reference = models.ForeignKey(ReferenceItem, verbose_name="参考事项", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="items")
    removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "承诺事项"
        verbose_name_plural = "承诺事项"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.content[:30]


class Consent(models.TextChoices):
    """How a member's pledge came to review with the member's agreement (四（一）自愿)."""

    SELF = "self", "本人提交"
    CONFIRMED = "confirmed", "本人确认"
    IN_PERSON = "in_person", "当面"
    PHONE = "phone", "电话"


# What staff record when the member cannot confirm in the system (no account, or an oral pledge).
RECORDED_CONSENTS = (Consent.IN_PERSON, Consent.PHONE)


class CommitmentVersion(KeptRecord):
    """The text as submitted, frozen: never updated once written. Review decisions judge one."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField("版本")
    # {"goal": str, "is_oral": bool, "recorder": str (who wrote down an oral pledge),
    #  "items": [{"id", "content", "measures", "deadline" (ISO), "responsible", "source": str}]}
    snapshot = models.JSONField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True)
    # A member's pledge only: who agreed to this text and how. Empty for an organisation's
    # commitment (and for versions submitted before the rule existed).
    consent = models.CharField("本人同意方式", max_length=20, choices=Consent.choices, blank=True)
    consent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人或记录人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    consent_at = models.DateTimeField("确认或记录时间", null=True, blank=True)

    class Meta:
        verbose_name = "承诺版本"
        verbose_name_plural = "承诺版本"
        ordering = ["commitment", "number"]
        constraints = [models.UniqueConstraint(fields=["commitment", "number"], name="unique_version_number")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("已提交的版本不能修改")
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"第{self.number}版"


# --- 审诺: the reviewing organisation's decision on one submitted version ---

# 四（二）组织审诺: what the reviewer checks, in the guidance's words and order.
CRITERIA = [
    ("advanced", "体现先进性要求"),
    ("central_work", "体现中心工作要求"),
    ("post_duties", "体现部门岗位职责特点"),
    ("public_wishes", "符合群众意愿"),
    ("feasible", "切实可行"),
]


class Decision(models.TextChoices):
    APPROVE = "approve", "审定通过"
    RETURN = "return", "退回修改"


class ReviewDecision(models.Model):
    """One reviewer's verdict on one submitted version; never changed afterwards."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="decisions")
    version = models.ForeignKey(CommitmentVersion, on_delete=models.PROTECT, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT,
                                 related_name="+")
    reviewer_org = models.ForeignKey(Organisation, verbose_name="审核党组织", on_delete=models.PROTECT,
                                     related_name="+")
    decision = models.CharField("审核结果", max_length=10, choices=Decision.choices)
    advanced = models.BooleanField(CRITERIA[0][1], default=False)
    central_work = models.BooleanField(CRITERIA[1][1], default=False)
    post_duties = models.BooleanField(CRITERIA[2][1], default=False)
    public_wishes = models.BooleanField(CRITERIA[3][1], default=False)
    feasible = models.BooleanField(CRITERIA[4][1], default=False)
    # Only on decisions made before approval required all five (四（二）); no longer written.
    exception_note = models.TextField("未全部符合时的说明", blank=True)
    opinion = models.TextField("审定意见")
    is_bulk = models.BooleanField("批量审定", default=False)
    decided_at = models.DateTimeField("审核时间", auto_now_add=True)

    class Meta:
        verbose_name = "审核意见"
        verbose_name_plural = "审核意见"
        ordering = ["-decided_at", "-id"]
        # The table keeps the name it had while the model lived in the reviews app (a decision is
        # part of the commitment's record; reviews holds the queue and pages that make them).
        db_table = "reviews_reviewdecision"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审核意见一经作出不能修改")
        super().save(*args, **kwargs)

    @property
    def criteria(self) -> list[tuple[str, bool]]:
        return [(label, getattr(self, key)) for key, label in CRITERIA]

    @property
    def all_criteria_met(self) -> bool:
        return all(getattr(self, key) for key, _ in CRITERIA)


class PublishChannel(models.TextChoices):
    # 四（三）公开亮诺: 通过会议、文件、党务政务公开栏、网络等形式向党员、群众公布.
    MEETING = "meeting", "会议"
    DOCUMENT = "document", "文件"
    NOTICEBOARD = "noticeboard", "党务政务公开栏"
    INTERNET = "internet", "网络"


class Publication(KeptRecord):
    """One act of 亮诺: which version went public, when, through which channels. Never changed.

    A channel added later (e.g. 网络 after a 会议) is a new record for the same version that
    `supplements` the one before it, with the channels of both and the day of the addition: the
    latest record of the public version is its current publication, the earlier ones its history."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="publications")
    version = models.ForeignKey(CommitmentVersion, on_delete=models.PROTECT, related_name="publications")
    published_on = models.DateField("公开日期")
    channels = models.JSONField("公开方式", default=list)
    supplements = models.ForeignKey("self", verbose_name="补充的公开记录", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "公开亮诺记录"
        verbose_name_plural = "公开亮诺记录"
        ordering = ["-published_on", "-id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("公开记录不能修改")
        super().save(*args, **kwargs)

    @property
    def channel_labels(self) -> list[str]:
        return [PublishChannel(c).label for c in self.channels if c in PublishChannel.values]

    @property
    def is_online(self) -> bool:
        return PublishChannel.INTERNET in self.channels

    @property
    def added_channel_labels(self) -> list[str]:
        """The channels this record added to the one it supplements (needs supplements selected)."""
        if self.supplements_id is None:
            return []
        before = set(self.supplements.channels)
        return [PublishChannel(c).label for c in self.channels if c in PublishChannel.values and c not in before]


class ExemptionStatus(models.TextChoices):
    PROPOSED = "proposed", "待审核认同"
    APPROVED = "approved", "已认同"
    REJECTED = "rejected", "未认同"
    REVOKED = "revoked", "已撤销"


# An exemption or deferral that stands or waits: at most one per member (or organisation) and campaign.
LIVE_EXEMPTION_STATUSES = (ExemptionStatus.PROPOSED, ExemptionStatus.APPROVED)


class Exemption(KeptRecord):
    """A member or an organisation that cannot commit now (六（三）确保全面覆盖).

    A member's exemption for special reasons is proposed by the branch and approved (审核认同) by
    the 机关党组织 above it; a deferral (外出等) is recorded by the branch with a make-up date, and
    its 补课 recorded once the pledge is submitted. An organisation (say a 临时党支部 dissolved
    mid-year) is exempted by the level above it. Rejected and revoked ones stay on record.
    """

    class Kind(models.TextChoices):
        EXEMPT = "exempt", "特殊情况免于承诺"
        DEFER = "defer", "延期承诺"

    member = models.ForeignKey(Member, verbose_name="党员", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="exemptions")
    organisation = models.ForeignKey(Organisation, verbose_name="党组织", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="exemptions")
    campaign = models.ForeignKey(Campaign, verbose_name="活动年度", on_delete=models.PROTECT,
                                 related_name="exemptions")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    status = models.CharField("状态", max_length=10, choices=ExemptionStatus.choices,
                              default=ExemptionStatus.APPROVED)
    reason = models.CharField("原因", max_length=300)
    makeup_due = models.DateField("补课期限", null=True, blank=True)
    made_up_on = models.DateField("补课日期", null=True, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=300, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="撤销人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    # Compare-and-set counter: deciding, revoking or recording the make-up bumps it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "免于或延期承诺"
        verbose_name_plural = "免于或延期承诺"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=(Q(member__isnull=False, organisation__isnull=True)
                                              | Q(member__isnull=True, organisation__isnull=False)),
                                   name="exemption_exactly_one_subject"),
            models.UniqueConstraint(fields=["member", "campaign"],
                                    condition=Q(member__isnull=False, status__in=["proposed", "approved"]),
                                    name="one_live_exemption_per_member_per_campaign"),
            models.UniqueConstraint(fields=["organisation", "campaign"],
                                    condition=Q(organisation__isnull=False, status__in=["proposed", "approved"]),
                                    name="one_live_exemption_per_org_per_campaign"),
            models.CheckConstraint(condition=Q(kind="exempt") | Q(makeup_due__isnull=False),
                                   name="deferral_has_makeup_due"),
            models.CheckConstraint(condition=Q(member__isnull=False) | Q(kind="exempt"),
                                   name="organisations_are_exempted_not_deferred"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.reason[:20]}"

    @property
    def subject_name(self) -> str:
        """Needs member or organisation selected."""
        return self.member.name if self.member_id else self.organisation.name

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_EXEMPTION_STATUSES


# --- 践诺: progress records (记实登记制度, 四（四）) ---


class ItemProgress(models.TextChoices):
    """An item's fulfilment status. Never stored: derived from its entries and its deadline."""

    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    DONE = "done", "已完成"
    OVERDUE = "overdue", "逾期"


class ProgressVisibility(models.TextChoices):
    """Who sees a progress record (四（四）：把践诺情况在一定范围内进行公示), chosen per record."""

    OFFICERS = "officers", "仅工作人员"
    MEMBERS = "members", "本组织党员"
    PUBLIC = "public", "公开"


class ProgressEntry(KeptRecord):
    """One dated progress entry on one item of a published commitment: what was done and its
    actual effect (四（四）：对进展情况和实际效果逐一登记备案). Public entries are 公示."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="progress_entries")
    # PROTECT: items are marked removed, never deleted, and evidence must outlive a revision.
    item = models.ForeignKey(Item, verbose_name="承诺事项", on_delete=models.PROTECT, related_name="progress_entries")
    happened_on = models.DateField("日期")
    done = models.TextField("做了什么")
    effect = models.TextField("实际效果", blank=True)
    completes_item = models.BooleanField("该事项已完成", default=False)
    # 仅工作人员: the officers who may read the commitment; 本组织党员: also the members of the
    # owning organisation (the branch of a member's pledge, or the branch itself; for a 党委 or
    # 党总支, the members of the branches under it); 公开: also the noticeboard.
    visibility = models.CharField("公示范围", max_length=10, choices=ProgressVisibility.choices,
                                  default=ProgressVisibility.OFFICERS)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "践诺记录"
        verbose_name_plural = "践诺记录"
        ordering = ["-happened_on", "-id"]
        indexes = [models.Index(fields=["commitment", "item", "happened_on"]),
                   models.Index(fields=["commitment", "visibility", "happened_on"], name="progress_visibility")]

    def __str__(self) -> str:
        return f"{self.happened_on:%Y-%m-%d} {self.done[:20]}"

    @property
    def is_public(self) -> bool:
        return self.visibility == ProgressVisibility.PUBLIC

    @property
    def scope_label(self) -> str:
        return ProgressVisibility(self.visibility).label


class Attachment(KeptRecord):
    """Evidence (a photo or a document) of a progress entry. The file lives under a generated
    name; the uploaded name is kept, sanitised, only to be shown."""

    entry = models.ForeignKey(ProgressEntry, on_delete=models.PROTECT, related_name="attachments")
    # Relative to MEDIA_ROOT, e.g. "evidence/3f2a….png"; never derived from the uploaded name.
    path = models.CharField(max_length=200, unique=True, editable=False)
    original_name = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["entry", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def kind_label(self) -> str:
        return "图片" if self.is_image else "PDF文档"


# --- 亮诺: the signed and stamped paper forms, scanned back (四（三）) ------------------------------

class StampedCopy(models.TextChoices):
    """Which of the three printed copies a scan is (附件1 and 附件2 name the first two differently:
    see COPY_LABELS): the owner's, the reviewing organisation's, the noticeboard's."""

    OWNER = "owner", "本组织存/本人存"
    REVIEWER = "reviewer", "上一级党组织存/党组织存"
    PUBLIC = "public", "公示"


# The copies as the annex's foot note names them: 附件1 (an organisation's), 附件2 (a member's).
COPY_LABELS = {
    False: {StampedCopy.OWNER: "本组织存", StampedCopy.REVIEWER: "上一级党组织存", StampedCopy.PUBLIC: "公示"},
    True: {StampedCopy.OWNER: "本人存", StampedCopy.REVIEWER: "党组织存", StampedCopy.PUBLIC: "公示"},
}


class ScanDisplay(models.TextChoices):
    """Whether the noticeboard shows a scan of the 公示 copy, and how."""

    NONE = "none", "不公开"
    BESIDE = "beside", "与系统生成的公示件并列"
    INSTEAD = "instead", "代替系统生成的公示件"


class StampedScan(KeptRecord):
    """A scan or photo of one printed copy of a published version, signed and stamped: the archive
    copy. A wrong or replaced one is withdrawn (marked, with a reason), never deleted. Only a scan
    of the 公示 copy may be chosen for the noticeboard, and it shows there only while its version
    is the public one."""

    commitment = models.ForeignKey(Commitment, on_delete=models.PROTECT, related_name="stamped_scans")
    version = models.ForeignKey(CommitmentVersion, verbose_name="版本", on_delete=models.PROTECT,
                                related_name="stamped_scans")
    copy = models.CharField("联次", max_length=10, choices=StampedCopy.choices)
    # The file as uploaded, relative to MEDIA_ROOT ("stamped/3f2a….png"), never derived from its name.
    path = models.CharField(max_length=200, unique=True, editable=False)
    # Images only: the copy the public is shown (upright, phone-sized, no metadata; uploads.display_copy).
    display_path = models.CharField(max_length=200, blank=True, editable=False)
    original_name = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField(max_length=64)
    pages = models.PositiveSmallIntegerField("页数", null=True, blank=True)  # PDFs
    width = models.PositiveIntegerField(null=True, blank=True)  # of the display copy, for <img>
    height = models.PositiveIntegerField(null=True, blank=True)
    public_display = models.CharField("公示栏显示", max_length=10, choices=ScanDisplay.choices,
                                      default=ScanDisplay.NONE)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="撤回人", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    withdraw_reason = models.CharField("撤回原因", max_length=200, blank=True)
    # Compare-and-set counter: withdrawing or changing the display bumps it; a stale form loses.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "盖章承诺书扫描件"
        verbose_name_plural = "盖章承诺书扫描件"
        ordering = ["commitment", "version", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(public_display=ScanDisplay.NONE) | Q(copy=StampedCopy.PUBLIC),
                                   name="only_the_public_copy_is_displayed"),
            models.CheckConstraint(condition=Q(public_display=ScanDisplay.NONE) | Q(withdrawn_at__isnull=True),
                                   name="a_withdrawn_scan_is_not_displayed"),
            models.CheckConstraint(condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""),
                                   name="a_withdrawn_scan_has_a_reason"),
        ]
        indexes = [models.Index(fields=["commitment", "version", "withdrawn_at"], name="stamped_commitment_version")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def kind_label(self) -> str:
        return "图片" if self.is_image else "PDF文档"

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def copy_label(self) -> str:
        """The copy as its annex names it (needs commitment selected)."""
        return COPY_LABELS[self.commitment.member_id is not None][self.copy]

    @property
    def is_displayed(self) -> bool:
        """Chosen for the noticeboard and still of the public version (needs commitment)."""
        return (self.public_display != ScanDisplay.NONE and not self.is_withdrawn
                and self.version_id == self.commitment.public_version_id)


class Reminder(models.Model):
    """A deadline reminder sent to one user on one day (manage.py send_reminders, run daily by
    cron): coming up within N days or overdue. One per user, kind and day, so a second run the
    same day neither repeats the to-do entry nor e-mails again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField("日期")
    kind = models.CharField("类别", max_length=40)
    label = models.CharField("提醒", max_length=200)
    count = models.PositiveIntegerField("数量")
    url = models.CharField(max_length=300)
    hint = models.CharField("说明", max_length=200, blank=True)
    emailed_at = models.DateTimeField("邮件发送时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "期限提醒"
        verbose_name_plural = "期限提醒"
        ordering = ["-day", "kind"]
        constraints = [models.UniqueConstraint(fields=["user", "day", "kind"], name="one_reminder_per_kind_per_day")]

    def __str__(self) -> str:
        return self.label


# --- background jobs (commitments/jobs.py, commitments/tasks.py) ---------------------------------

class JobKind(models.TextChoices):
    BATCH_PDF = "batch_pdf", "批量打印公开承诺书"
    LEDGER_XLSX = "ledger_xlsx", "承诺台账"
    COVERAGE_XLSX = "coverage_xlsx", "覆盖情况报表"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "生成中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class Job(models.Model):
    """A long export made in the background (django.tasks, run by manage.py db_worker) for the
    user who asked; only they see it and download its result, a generated file under
    MEDIA_ROOT/jobs/ that a sweep removes a day later."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.CASCADE,
                             related_name="jobs")
    kind = models.CharField("类别", max_length=20, choices=JobKind.choices)
    title = models.CharField("名称", max_length=200)
    params = models.JSONField("参数", default=dict)
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField("当前步骤", max_length=100, blank=True)
    progress_done = models.PositiveIntegerField("已完成", default=0)
    progress_total = models.PositiveIntegerField("总数", default=0)
    result_path = models.CharField("结果文件", max_length=200, blank=True)  # relative to MEDIA_ROOT
    result_name = models.CharField("下载文件名", max_length=200, blank=True)
    result_detail = models.JSONField("结果说明", default=dict)  # what the download's audit row records
    error = models.CharField("失败原因", max_length=300, blank=True)
    task_id = models.CharField("任务编号", max_length=64, blank=True)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "导出任务"
        verbose_name_plural = "导出任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="job_user_recent")]

    def __str__(self) -> str:
        return self.title

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def downloadable(self) -> bool:
        return self.status == JobStatus.DONE and bool(self.result_path)

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
