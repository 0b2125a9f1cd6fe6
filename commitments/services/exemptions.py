"""Members who cannot pledge now (六（三）确保全面覆盖): exemption, deferral and 补课."""
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from orgs import audit
from orgs.models import MemberStatus

from ..models import Campaign, Commitment, Exemption
from ..permissions import can_defer, can_exempt


@transaction.atomic
def exemption_grant(*, actor, member, campaign: Campaign, kind: str, reason: str,
                    makeup_due: datetime.date | None = None) -> Exemption:
    """Secretaries approve an exemption; officers record a deferral with its make-up date."""
    allowed = can_exempt(actor, member) if kind == Exemption.Kind.EXEMPT else can_defer(actor, member)
    if not allowed:
        raise PermissionDenied
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError("只有在册党员需要办理。")
    if not reason.strip():
        raise ValidationError({"reason": "请填写原因。"})
    if kind == Exemption.Kind.DEFER:
        if makeup_due is None:
            raise ValidationError({"makeup_due": "延期承诺须填写补课期限。"})
        if makeup_due < timezone.localdate():
            raise ValidationError({"makeup_due": "补课期限不能早于今天。"})
    else:
        makeup_due = None
        if Commitment.objects.filter(campaign=campaign, member=member).exists():
            raise ValidationError("该党员本年度已有承诺，不能再办理免于承诺。")
    try:
        with transaction.atomic():
            exemption = Exemption.objects.create(member=member, campaign=campaign, kind=kind,
                                                 reason=reason.strip(), makeup_due=makeup_due, decided_by=actor)
    except IntegrityError:
        raise ValidationError("该党员本年度已办理免于或延期承诺。") from None
    audit.record(actor=actor, action=f"member.{kind}", obj=member,
                 detail={"campaign": campaign.pk, "reason": reason.strip(),
                         "makeup_due": makeup_due.isoformat() if makeup_due else None})
    return exemption


@transaction.atomic
def exemption_make_up(*, actor, exemption: Exemption, made_up_on: datetime.date | None = None) -> Exemption:
    """Officers record the 补课 of a deferred member (the pledge itself is drafted as usual)."""
    exemption = Exemption.objects.select_for_update().select_related("member__branch").get(pk=exemption.pk)
    if not can_defer(actor, exemption.member):
        raise PermissionDenied
    if exemption.kind != Exemption.Kind.DEFER:
        raise ValidationError("只有延期承诺需要补课。")
    if exemption.made_up_on is not None:
        raise ValidationError("已登记补课。")
    exemption.made_up_on = made_up_on or timezone.localdate()
    if exemption.made_up_on > timezone.localdate():
        raise ValidationError({"made_up_on": "补课日期不能晚于今天。"})
    exemption.save(update_fields=["made_up_on"])
    audit.record(actor=actor, action="member.make_up", obj=exemption.member,
                 detail={"exemption": exemption.pk, "on": exemption.made_up_on.isoformat()})
    return exemption


@transaction.atomic
def exemption_revoke(*, actor, exemption: Exemption) -> None:
    """Whoever may grant it withdraws an exemption or deferral (e.g. the member is back early)."""
    exemption = Exemption.objects.select_for_update().select_related("member__branch").get(pk=exemption.pk)
    allowed = can_exempt(actor, exemption.member) if exemption.kind == Exemption.Kind.EXEMPT \
        else can_defer(actor, exemption.member)
    if not allowed:
        raise PermissionDenied
    audit.record(actor=actor, action="member.exemption_revoke", obj=exemption.member,
                 detail={"exemption": exemption.pk, "kind": exemption.kind, "reason": exemption.reason})
    exemption.delete()
