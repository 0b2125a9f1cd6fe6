"""The organisation tree, members, role grants and the audit trail."""
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import dates

from .validators import validate_org_code, validate_phone

# Each node's path is its ancestors' ids then its own, fixed width, so that "this node and its
# whole subtree" is one indexed prefix query (`path LIKE 'p%'`) at any depth, on SQLite and
# PostgreSQL alike. 10 digits cover any realistic id; 25 levels fit in 275 characters.
PATH_STEP = 10
PATH_SEP = "/"
PATH_MAX_LENGTH = 275


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_STEP}d}{PATH_SEP}"


class OrgKind(models.TextChoices):
    WORK_COMMITTEE = "work_committee", "工委"
    COMMITTEE = "committee", "党委"
    LEADING_GROUP = "leading_group", "党组"
    GENERAL_BRANCH = "general_branch", "党总支"
    BRANCH = "branch", "党支部"
    TEMP_BRANCH = "temp_branch", "临时党支部"


# Members are registered in branches (所在党支部); the other kinds lead branches.
BRANCH_KINDS = (OrgKind.BRANCH, OrgKind.TEMP_BRANCH)


class Organisation(models.Model):
    code = models.CharField("组织编码", max_length=32, unique=True, validators=[validate_org_code],
                            help_text="稳定的组织编码，导入和对接其他系统时使用")
    name = models.CharField("党组织名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("组织类型", max_length=20, choices=OrgKind.choices)
    parent = models.ForeignKey("self", verbose_name="上级党组织", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=PATH_MAX_LENGTH, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.IntegerField("排序", default=0, help_text="同级组织按此数字从小到大排列")
    supervision_phone = models.CharField("监督电话", max_length=40, blank=True,
                                         validators=[validate_phone])
    is_active = models.BooleanField("有效", default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "sort_order"]),
            # The organisation pickers' shortlist (orgs/fields.py): the shallowest levels of a
            # subtree, read from the top instead of scanning a province's 57,000 organisations.
            models.Index(fields=["depth", "path"], name="organisation_depth_path"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(parent__isnull=True) | ~Q(parent=models.F("pk")),
                                   name="org_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_branch(self) -> bool:
        return self.kind in BRANCH_KINDS

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the ancestors, root first, read off the path (no query)."""
        return [int(part) for part in self.path.split(PATH_SEP) if part][:-1]

    def is_descendant_of(self, other: "Organisation") -> bool:
        """True when self is other or lies in other's subtree."""
        return self.path.startswith(other.path)


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class MemberCategory(models.TextChoices):
    # 五（四）注重分类指导: leaders commit to higher standards; the last two may pledge orally.
    LEADER = "leader", "担任领导职务的党员"
    GENERAL = "general", "一般在职党员"
    ELDERLY = "elderly", "年老体弱或文化程度低的党员"
    RETIRED = "retired", "离退休党员"


ORAL_PLEDGE_CATEGORIES = (MemberCategory.ELDERLY, MemberCategory.RETIRED)


class MembershipType(models.TextChoices):
    # 党章第七条: a 预备党员 becomes a 正式党员 (转正) after a probation of one year.
    FULL = "full", "正式党员"
    PROBATIONARY = "probationary", "预备党员"


class DatePrecision(models.TextChoices):
    """How much of a date was given: rosters write 入党时间 as 1998.07 as often as 1998-07-01."""

    DAY = dates.DAY, "日"
    MONTH = dates.MONTH, "月"


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    TRANSFERRED_OUT = "transferred_out", "转出"
    DECEASED = "deceased", "去世"


class Member(models.Model):
    name = models.CharField("姓名", max_length=50)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices)
    birth_month = models.DateField("出生年月", null=True, blank=True,
                                   help_text="只记到月份，日期统一为1日")
    post = models.CharField("职务或职业", max_length=100, blank=True)
    joined_party_on = models.DateField("入党时间", null=True, blank=True)
    # A month-only 入党时间 is stored as the 1st with precision "month" and shown 1998年7月.
    joined_party_precision = models.CharField("入党时间精度", max_length=5, choices=DatePrecision.choices,
                                              default=DatePrecision.DAY)
    membership = models.CharField("党员类型", max_length=20, choices=MembershipType.choices,
                                  default=MembershipType.FULL)
    full_member_on = models.DateField("转正时间", null=True, blank=True)
    full_member_precision = models.CharField("转正时间精度", max_length=5, choices=DatePrecision.choices,
                                             default=DatePrecision.DAY)
    branch = models.ForeignKey(Organisation, verbose_name="所在党支部", on_delete=models.PROTECT,
                               related_name="members")
    phone = models.CharField("联系电话", max_length=20, blank=True, validators=[validate_phone])
    category = models.CharField("党员类别", max_length=20, choices=MemberCategory.choices,
                                default=MemberCategory.GENERAL)
    status = models.CharField("状态", max_length=20, choices=MemberStatus.choices,
                              default=MemberStatus.ACTIVE)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="登录账号", null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="member")
    note = models.CharField("备注", max_length=200, blank=True)
    # Further columns of the rosters other systems export. Identity numbers (身份证号) are never stored.
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    education = models.CharField("学历", max_length=30, blank=True)
    native_place = models.CharField("籍贯", max_length=50, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "党员"
        verbose_name_plural = "党员"
        ordering = ["branch_id", "name", "id"]
        indexes = [
            models.Index(fields=["branch", "status"]),
            models.Index(fields=["name"]),
            # The home page's 党员信息待补全 (selectors.INCOMPLETE_MEMBER): a few rows, so the count
            # over a province's register reads this small index instead of every member.
            models.Index(fields=["branch"], name="member_incomplete_active",
                         condition=Q(status="active") & (Q(birth_month__isnull=True)
                                                         | Q(joined_party_on__isnull=True) | Q(post=""))),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def may_pledge_orally(self) -> bool:
        return self.category in ORAL_PLEDGE_CATEGORIES

    @property
    def is_probationary(self) -> bool:
        return self.membership == MembershipType.PROBATIONARY

    @property
    def joined_party_display(self) -> str:
        """入党时间 as given: 1998年7月 (month only) or 1998年7月1日; "" when not recorded."""
        return dates.cn_partial_date(self.joined_party_on, self.joined_party_precision)

    @property
    def full_member_display(self) -> str:
        """转正时间 as given, like joined_party_display."""
        return dates.cn_partial_date(self.full_member_on, self.full_member_precision)

    def clean(self, *, today: datetime.date | None = None):
        """Dates that cannot be true: in the future, before 1900, joining before age 18, becoming a
        full member before joining; and no 转正时间 for a 预备党员. (`today` once for a whole roster.)"""
        errors = {}
        today = today or timezone.localdate()
        if self.branch_id and not self.branch.is_branch:
            errors["branch"] = "党员只能编入党支部或临时党支部。"
        if self.birth_month:
            self.birth_month = self.birth_month.replace(day=1)
            if self.birth_month > today:
                errors["birth_month"] = "出生年月不能晚于今天。"
            elif self.birth_month.year < 1900:
                errors["birth_month"] = "出生年月不能早于1900年。"
        # A month-only date is the 1st of its month; comparisons below are made by month whenever
        # either side is month-only, so 1998年7月 is neither before nor after 1998年7月15日.
        if self.joined_party_on and self.joined_party_precision == DatePrecision.MONTH:
            self.joined_party_on = self.joined_party_on.replace(day=1)
        if self.full_member_on and self.full_member_precision == DatePrecision.MONTH:
            self.full_member_on = self.full_member_on.replace(day=1)
        if self.joined_party_on:
            if self.joined_party_on > today:
                errors["joined_party_on"] = "入党时间不能晚于今天。"
            elif self.joined_party_on.year < 1921:
                errors["joined_party_on"] = "入党时间不能早于1921年。"
            elif self.birth_month and "birth_month" not in errors:
                # 党章: 年满十八岁的中国公民方可申请入党; the birth day is unknown, so compare months.
                eighteen = datetime.date(self.birth_month.year + 18, self.birth_month.month, 1)
                if self.joined_party_on.replace(day=1) < eighteen:
                    errors["joined_party_on"] = "入党时间应在年满十八岁之后，请核对出生年月和入党时间。"
        if self.full_member_on:
            if self.membership == MembershipType.PROBATIONARY:
                errors["full_member_on"] = "预备党员尚未转正，不应有转正时间；已转正的请选择“正式党员”。"
            elif self.full_member_on > today:
                errors["full_member_on"] = "转正时间不能晚于今天。"
            elif self.joined_party_on and "joined_party_on" not in errors:
                by_month = DatePrecision.MONTH in (self.joined_party_precision, self.full_member_precision)
                joined, full = self.joined_party_on, self.full_member_on
                if by_month:
                    joined, full = joined.replace(day=1), full.replace(day=1)
                if full <= joined:
                    errors["full_member_on"] = "转正时间应在入党时间之后，请核对。"
        if errors:
            raise ValidationError(errors)


class MemberTransfer(models.Model):
    """One move of a member between branches; the history is kept, never edited."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="transfers")
    from_branch = models.ForeignKey(Organisation, verbose_name="原党支部", on_delete=models.PROTECT,
                                    related_name="+")
    to_branch = models.ForeignKey(Organisation, verbose_name="转入党支部", on_delete=models.PROTECT,
                                  related_name="+")
    transferred_on = models.DateField("转接日期")
    reason = models.CharField("转接原因", max_length=200, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "组织关系转接"
        verbose_name_plural = "组织关系转接"
        ordering = ["-transferred_on", "-id"]


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    SECRETARY = "secretary", "书记"
    DEPUTY_SECRETARY = "deputy_secretary", "副书记"
    STAFF = "staff", "组织委员/党务工作者"
    MEMBER = "member", "党员"
    SECURITY = "security", "安全管理员"
    AUDITOR = "auditor", "审计管理员"


# 三员分立 (GB/T 22239-2019): system, security and audit administration are held by three
# different accounts; no account holds two of these roles, anywhere in the tree.
SEPARATED_ROLES = frozenset({Role.ADMIN, Role.SECURITY, Role.AUDITOR})


class RoleGrant(models.Model):
    """A role a user holds in one organisation; it reaches that organisation's whole subtree."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="role_grants")
    organisation = models.ForeignKey(Organisation, verbose_name="党组织", on_delete=models.CASCADE,
                                     related_name="role_grants")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        ordering = ["organisation__path", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role"], name="unique_role_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.get_role_display()}"


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: the audit trail only grows."""

    def update(self, **kwargs):
        raise PermissionError("审计记录只能追加，不能修改")

    def delete(self):
        raise PermissionError("审计记录只能追加，不能删除")


class AuditEvent(models.Model):
    """Append-only record of every business and security event (written through orgs.audit)."""

    objects = AppendOnlyQuerySet.as_manager()

    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    client_ip = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    action = models.CharField("操作", max_length=50, db_index=True)
    object_type = models.CharField("对象类型", max_length=50, blank=True)
    object_id = models.CharField("对象编号", max_length=40, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    result = models.CharField("结果", max_length=20, default="success")
    detail = models.JSONField("详情", default=dict, blank=True)
    # The actor's roles at the time, e.g. "secretary@3,staff@7" (grants are revocable later).
    role = models.CharField("角色", max_length=200, blank=True)
    # Tamper evidence: row_hash = SHA-256 over prev_hash and this row's canonical content, so
    # changing or removing any row breaks every hash after it (manage.py verify_audit).
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计记录只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计记录只能追加，不能删除")


class AuditChainHead(models.Model):
    """The single row holding the newest audit hash; locked while a row is appended, so the
    chain stays linear when several server processes write at once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计链头"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="audit_chain_head_singleton")]


class AccountSecurity(models.Model):
    """Per-account security state: forced password change, password age."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="security")
    must_change_password = models.BooleanField("须修改初始密码", default=False)
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    class Meta:
        verbose_name = "账号安全状态"
        verbose_name_plural = "账号安全状态"


class PasswordHistory(models.Model):
    """Hashes of an account's earlier passwords, so the last few cannot be reused."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]


class SecurityCounter(models.Model):
    """A counter kept in the database so that every server process sees it: failed logins per
    username and per client address (lockout), and other per-client rate limits. `key` is a
    purpose prefix and a keyed hash, e.g. "login-user:<hmac>"."""

    key = models.CharField(max_length=120, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_started = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "安全计数"
        indexes = [models.Index(fields=["updated_at"])]


class AdminRequestKind(models.TextChoices):
    GRANT = "grant", "授予管理员角色"
    REVOKE = "revoke", "撤销管理员角色"
    OPEN_ACCOUNT = "open_account", "开通管理员账号"
    PASSWORD_RESET = "password_reset", "重置管理员密码"


class AdminRequestStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"
    CANCELLED = "cancelled", "已撤回"


class AdminRoleRequest(models.Model):
    """三员分立 with two people: a change to one of the three administrator roles (grant, revoke,
    an account opened with one, a password reset of an account holding one) proposed by one
    administrator and applied only when an administrator of another of the three kinds approves."""

    kind = models.CharField("事项", max_length=20, choices=AdminRequestKind.choices)
    # Empty for an account still to be opened (username and full_name say whom it is for);
    # filled in with the new account when the request is approved.
    target = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="账号", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="admin_requests")
    username = models.CharField("用户名", max_length=150, blank=True)
    full_name = models.CharField("姓名", max_length=150, blank=True)
    organisation = models.ForeignKey(Organisation, verbose_name="党组织", on_delete=models.PROTECT,
                                     related_name="+")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT,
                                    related_name="+")
    # The proposer's administrator role: the approver must hold a different one of the three.
    proposer_role = models.CharField("申请人角色", max_length=20, choices=Role.choices)
    reason = models.CharField("事由", max_length=200, blank=True)
    status = models.CharField("状态", max_length=20, choices=AdminRequestStatus.choices,
                              default=AdminRequestStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审批人", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = "管理员角色变更申请"
        verbose_name_plural = "管理员角色变更申请"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username or self.target_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == AdminRequestStatus.PENDING


class PasswordResetToken(models.Model):
    """A one-time credential that only lets its holder set a new password (never a session).
    Only the SHA-256 of the random token is stored. It works while unused, not voided (a newer
    reset voids it), not expired, and, when its reset needed approval, once that was given
    (expires_at stays empty until then)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="password_reset_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    request = models.ForeignKey(AdminRoleRequest, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="tokens")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "密码重置凭据"
        verbose_name_plural = "密码重置凭据"
        indexes = [models.Index(fields=["user", "-created_at"])]

    def usable(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (self.used_at is None and self.voided_at is None and self.expires_at is not None
                and self.expires_at > now)
