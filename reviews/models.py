"""Review decisions (审诺): the five criteria, the opinion, approve or return, on one version."""
from django.conf import settings
from django.db import models

from commitments.models import Commitment, CommitmentVersion
from orgs.models import Organisation

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
