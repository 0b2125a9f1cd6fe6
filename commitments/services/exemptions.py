"""Members and organisations who cannot commit now (六（三）确保全面覆盖): exemption, deferral and 补课.

对确因特殊情况不能承诺的，机关党组织要根据实际情况审核认同: the branch proposes a member's exemption
and the 机关党组织 above it approves or rejects it (never the member, never the proposer). 对由于外出
等原因需要延期承诺的，要做好记录，及时进行"补课": the branch records a deferral and, once the pledge
is submitted, the make-up. An organisation is exempted by the level above it, with a reason.
Nothing here is deleted: rejected and revoked records stay, and every step writes an audit row.
"""
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from orgs import audit
from orgs.models import MemberStatus

from ..models import LIVE_STATUSES, Campaign, Commitment, Exemption, ExemptionStatus, submitted_q
from ..permissions import can_decide_exemption, can_defer, can_exempt_org, can_propose_exemption, can_revoke_exemption

E = ExemptionStatus


def _create(**fields) -> Exemption:
    try:
        with transaction.atomic():
            return Exemption.objects.create(**fields)
    except IntegrityError:
        raise ValidationError("本年度已有待审核或已生效的免于或延期承诺。") from None


def _cas(exemption: Exemption, *, statuses, **fields) -> None:
    """Compare-and-set on version and status: the second of two simultaneous deciders loses."""
    updated = (Exemption.objects.filter(pk=exemption.pk, version=exemption.version, status__in=statuses)
               .update(version=F("version") + 1, **fields))
    if updated != 1:
        raise Conflict("该记录已被他人处理，请刷新页面查看最新状态。")
    exemption.refresh_from_db()


@transaction.atomic
def exemption_propose(*, actor, member, campaign: Campaign, kind: str, reason: str,
                      makeup_due: datetime.date | None = None) -> Exemption:
    """Branch officers propose an exemption (approved above) or record a deferral, never their own."""
    allowed = can_propose_exemption(actor, member) if kind == Exemption.Kind.EXEMPT else can_defer(actor, member)
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
        status = E.APPROVED  # a deferral is recorded, not approved (要做好记录)
    else:
        makeup_due = None
        status = E.PROPOSED
        if Commitment.objects.filter(campaign=campaign, member=member, status__in=LIVE_STATUSES).exists():
            raise ValidationError("该党员本年度已有承诺（含草稿），不能再申请免于承诺；草稿可先作废。")
    now = timezone.now()
    exemption = _create(member=member, campaign=campaign, kind=kind, status=status, reason=reason.strip(),
                        makeup_due=makeup_due, proposed_by=actor,
                        decided_by=actor if status == E.APPROVED else None,
                        decided_at=now if status == E.APPROVED else None)
    audit.record(actor=actor, action="member.exempt_propose" if kind == Exemption.Kind.EXEMPT else "member.defer",
                 obj=member, organisation=member.branch,
                 detail={"campaign": campaign.pk, "exemption": exemption.pk, "reason": reason.strip(),
                         "makeup_due": makeup_due.isoformat() if makeup_due else None})
    return exemption


@transaction.atomic
def exemption_decide(*, actor, exemption: Exemption, version: int, approve: bool, note: str = "") -> Exemption:
    """Secretaries of the 机关党组织 above the branch approve or reject a proposed exemption
    (审核认同), never one for themselves or one they proposed; a rejection gives its reason."""
    exemption = (Exemption.objects.select_for_update(of=("self",))
                 .select_related("member__branch", "campaign").get(pk=exemption.pk))
    if exemption.member_id is None or not can_decide_exemption(actor, exemption):
        raise PermissionDenied
    if exemption.version != version:
        raise Conflict("该记录已被他人处理，请刷新页面查看最新状态。")
    if exemption.status != E.PROPOSED:
        raise Conflict(f"该申请当前为“{exemption.get_status_display()}”，不能再审核。")
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": "不予认同须说明理由。"})
    if approve and Commitment.objects.filter(campaign=exemption.campaign, member=exemption.member,
                                             status__in=LIVE_STATUSES).exists():
        raise ValidationError("该党员已有承诺（含草稿），不能认同免于承诺。")
    _cas(exemption, statuses=[E.PROPOSED], status=E.APPROVED if approve else E.REJECTED, decided_by=actor,
         decided_at=timezone.now(), decision_note=note)
    audit.record(actor=actor, action="member.exempt_approve" if approve else "member.exempt_reject",
                 obj=exemption.member, organisation=exemption.member.branch,
                 detail={"campaign": exemption.campaign_id, "exemption": exemption.pk, "note": note})
    return exemption


@transaction.atomic
def exemption_make_up(*, actor, exemption: Exemption, made_up_on: datetime.date | None = None) -> Exemption:
    """Officers record the 补课 of a deferred member once the pledge has been submitted."""
    exemption = (Exemption.objects.select_for_update(of=("self",))
                 .select_related("member__branch").get(pk=exemption.pk))
    if exemption.member_id is None or not can_defer(actor, exemption.member):
        raise PermissionDenied
    if exemption.kind != Exemption.Kind.DEFER or exemption.status != E.APPROVED:
        raise ValidationError("只有有效的延期承诺需要补课。")
    if exemption.made_up_on is not None:
        raise ValidationError("已登记补课。")
    # 及时进行"补课": the make-up is the pledge itself, so it is done only once the pledge is submitted.
    if not Commitment.objects.filter(submitted_q(), campaign_id=exemption.campaign_id,
                                     member_id=exemption.member_id).exists():
        raise ValidationError("该党员的承诺尚未提交，不能登记补课。请先为其填写并提交承诺。")
    made_up_on = made_up_on or timezone.localdate()
    if made_up_on > timezone.localdate():
        raise ValidationError({"made_up_on": "补课日期不能晚于今天。"})
    _cas(exemption, statuses=[E.APPROVED], made_up_on=made_up_on)
    audit.record(actor=actor, action="member.make_up", obj=exemption.member, organisation=exemption.member.branch,
                 detail={"exemption": exemption.pk, "on": made_up_on.isoformat()})
    return exemption


@transaction.atomic
def exemption_revoke(*, actor, exemption: Exemption) -> Exemption:
    """Withdraw a proposal or a deferral (branch officers), an approved exemption (its approvers)
    or an organisation's exemption (the level above): kept as 已撤销, never deleted."""
    exemption = (Exemption.objects.select_for_update(of=("self",))
                 .select_related("member__branch", "organisation", "campaign").get(pk=exemption.pk))
    if not can_revoke_exemption(actor, exemption):
        raise PermissionDenied
    if exemption.status not in (E.PROPOSED, E.APPROVED):
        raise Conflict("该记录已经撤销或未获认同。")
    _cas(exemption, statuses=[E.PROPOSED, E.APPROVED], status=E.REVOKED, revoked_by=actor,
         revoked_at=timezone.now())
    subject = exemption.member or exemption.organisation
    audit.record(actor=actor, action="organisation.exemption_revoke" if exemption.organisation_id
                 else "member.exemption_revoke", obj=subject,
                 organisation=exemption.organisation or exemption.member.branch,
                 detail={"exemption": exemption.pk, "kind": exemption.kind, "reason": exemption.reason})
    return exemption


@transaction.atomic
def organisation_exempt(*, actor, organisation, campaign: Campaign, reason: str) -> Exemption:
    """Secretaries of the level above exempt an organisation that must commit (a 临时党支部 dissolved
    mid-year, say) with a reason; it then leaves the count of those that must commit."""
    if not can_exempt_org(actor, organisation):
        raise PermissionDenied
    if not organisation.is_active or organisation.kind not in campaign.committing_kinds:
        raise ValidationError("该党组织本年度不需作出公开承诺。")
    if not reason.strip():
        raise ValidationError({"reason": "请填写原因。"})
    if Commitment.objects.filter(campaign=campaign, organisation=organisation, status__in=LIVE_STATUSES).exists():
        raise ValidationError("该党组织本年度已有承诺（含草稿），不能免于承诺；草稿可先作废。")
    now = timezone.now()
    exemption = _create(organisation=organisation, campaign=campaign, kind=Exemption.Kind.EXEMPT,
                        status=E.APPROVED, reason=reason.strip(), proposed_by=actor, decided_by=actor,
                        decided_at=now)
    audit.record(actor=actor, action="organisation.exempt", obj=organisation, organisation=organisation,
                 detail={"campaign": campaign.pk, "exemption": exemption.pk, "reason": reason.strip()})
    return exemption
