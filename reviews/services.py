"""审诺: approve or return a submitted commitment, one at a time or in bulk."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from commitments.models import Commitment, CommitmentStatus
from commitments.permissions import can_review
from commitments.services.lifecycle import notify, transition
from orgs import audit
from orgs.errors import Conflict

from .models import CRITERIA, Decision, ReviewDecision

S = CommitmentStatus
STALE = "该承诺已被他人处理，请刷新页面查看最新状态。"


@transaction.atomic
def review_decide(*, actor, commitment: Commitment, version: int, decision: str, criteria: dict[str, bool],
                  opinion: str, exception_note: str = "", is_bulk: bool = False) -> ReviewDecision:
    """Secretaries of the reviewing organisation approve or return the latest submitted version.

    Approval needs all five criteria ticked or a written exception; a return needs guidance.
    """
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "reviewer_org")
                  .get(pk=commitment.pk))
    if not can_review(actor, commitment):
        raise PermissionDenied
    if commitment.version != version:
        # Answer a stale page before its field errors; the compare-and-set below still decides races.
        raise Conflict(STALE)
    if decision not in Decision.values:
        raise ValidationError({"decision": "请选择审核结果。"})
    opinion, exception_note = (opinion or "").strip(), (exception_note or "").strip()
    ticks = {key: bool(criteria.get(key)) for key, _ in CRITERIA}
    errors = {}
    if not opinion:
        errors["opinion"] = "请填写审定意见。" if decision == Decision.APPROVE else "退回时请写明修改意见。"
    if decision == Decision.APPROVE and not all(ticks.values()) and not exception_note:
        errors["exception_note"] = "审定通过须五项要求全部符合，或写明未全部符合时的说明。"
    if errors:
        raise ValidationError(errors)
    to = S.APPROVED if decision == Decision.APPROVE else S.RETURNED
    latest = commitment.versions.order_by("-number").first()
    # Kept before the transition: refresh_from_db drops the selected relations.
    reviewer_org = commitment.reviewer_org
    # The compare-and-set is the lock: of two reviewers with the same version, one updates the row.
    commitment = transition(commitment=commitment, expected_version=version, to=to, decided_at=timezone.now())
    result = ReviewDecision.objects.create(
        commitment=commitment, version=latest, reviewer=actor, reviewer_org=reviewer_org,
        decision=decision, opinion=opinion, exception_note=exception_note, is_bulk=is_bulk, **ticks)
    audit.record(actor=actor, action=f"commitment.{'approve' if to == S.APPROVED else 'return'}",
                 obj=commitment, organisation=reviewer_org,
                 detail={"version": latest.number, "criteria": ticks, "bulk": is_bulk})
    pk, event = commitment.pk, ("approved" if to == S.APPROVED else "returned")
    transaction.on_commit(lambda: notify(pk, event))
    return result


def review_bulk_approve(*, actor, targets: list[tuple[int, int]], opinion: str) -> tuple[list[int], dict[int, str]]:
    """Approve several clean submissions with one opinion, the reviewer affirming all five criteria.

    Each (commitment id, version) is decided in its own transaction, so one that someone else
    handled first is reported and the rest still go through. Returns (approved ids, {id: reason}).
    """
    if not opinion.strip():
        raise ValidationError({"opinion": "请填写审定意见。"})
    approved, failed = [], {}
    everything = {key: True for key, _ in CRITERIA}
    commitments = {c.pk: c for c in Commitment.objects.filter(pk__in=[pk for pk, _ in targets])}
    for pk, version in targets:
        commitment = commitments.get(pk)
        if commitment is None:
            failed[pk] = "该承诺不存在。"
            continue
        try:
            review_decide(actor=actor, commitment=commitment, version=version, decision=Decision.APPROVE,
                          criteria=everything, opinion=opinion, is_bulk=True)
        except PermissionDenied:
            failed[pk] = "您无权审核该承诺。"
        except Conflict as exc:
            failed[pk] = exc.message
        except ValidationError as exc:
            # One bad row must not stop the rest (those before it are already committed).
            failed[pk] = "；".join(exc.messages)
        else:
            approved.append(pk)
    return approved, failed
