"""Campaign years and the commitments made in them."""
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class Campaign(models.Model):
    """One campaign year (活动年度) with its own deadlines and settings."""

    name = models.CharField("活动名称", max_length=100)
    year = models.PositiveSmallIntegerField("年度", unique=True)
    pledge_deadline = models.DateField("定诺截止日期")
    publish_deadline = models.DateField("亮诺截止日期", help_text="2010年的要求是10月底前完成公开承诺")
    evaluation_deadline = models.DateField("评诺截止日期")
    leader_min_items = models.PositiveSmallIntegerField(
        "领导干部承诺事项最少条数", default=3,
        help_text="五（四）：担任领导职务的党员承诺内容和标准应高于其他党员")
    is_current = models.BooleanField("当前年度", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "活动年度"
        verbose_name_plural = "活动年度"
        ordering = ["-year"]
        constraints = [
            # At most one campaign is the current one.
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True),
                                    name="one_current_campaign"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.pledge_deadline and self.publish_deadline and self.pledge_deadline > self.publish_deadline:
            raise ValidationError({"publish_deadline": "亮诺截止日期不能早于定诺截止日期。"})
        if self.publish_deadline and self.evaluation_deadline and self.publish_deadline > self.evaluation_deadline:
            raise ValidationError({"evaluation_deadline": "评诺截止日期不能早于亮诺截止日期。"})

    @property
    def deadlines(self) -> list[tuple[str, "object"]]:
        """The three deadlines in order, with the step each closes."""
        return [("定诺", self.pledge_deadline), ("亮诺", self.publish_deadline),
                ("评诺", self.evaluation_deadline)]
