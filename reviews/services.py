"""审诺: approve or return a submitted commitment, one at a time or in bulk."""
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from commitments.lifecycle import InvalidTransition, sources_of
from commitments.models import CRITERIA, Commitment, CommitmentStatus, CommitmentVersion, Decision, ReviewDecision
from commitments.permissions import NOT_FOUND_OR_FORBIDDEN, can_review
from commitments.services.lifecycle import notify, transition, transition_many
from core.errors import Conflict
from orgs import audit

from .selectors import bulk_approval_blockers

S = CommitmentStatus
STALE = "该承诺已被他人处理，请刷新页面查看最新状态。"


@transaction.atomic
def review_decide(*, actor, commitment: Commitment, version: int, decision: str, criteria: dict[str, bool],
                  opinion: str, is_bulk: bool = False) -> ReviewDecision:
    """Secretaries of the reviewing organisation approve or return the latest submitted version,
    never their own commitment (can_review).

    四（二）: approval needs all five requirements met; a commitment that falls short is returned
    with guidance (对不符合要求的，要指导督促，加以完善), so a return needs the guidance written.
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
    opinion = (opinion or "").strip()
    ticks = {key: bool(criteria.get(key)) for key, _ in CRITERIA}
    errors = {}
    if not opinion:
        errors["opinion"] = "请填写审定意见。" if decision == Decision.APPROVE else "退回时请写明修改意见。"
    if decision == Decision.APPROVE:
        for key, label in CRITERIA:
            if not ticks[key]:
                errors[key] = f"未确认“{label}”：五项要求全部符合才能审定通过；不符合的，请退回修改并写明指导意见。"
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
        decision=decision, opinion=opinion, is_bulk=is_bulk, **ticks)
    audit.record(actor=actor, action=f"commitment.{'approve' if to == S.APPROVED else 'return'}",
                 obj=commitment, organisation=reviewer_org,
                 detail={"version": latest.number, "criteria": ticks, "bulk": is_bulk})
    pk, event = commitment.pk, ("approved" if to == S.APPROVED else "returned")
    transaction.on_commit(lambda: notify(pk, event))
    return result


def review_bulk_approve(*, actor, targets: list[tuple[int, int]], shown: set[tuple[int, int]],
                        opinion: str) -> tuple[list[int], dict[int, str]]:
    """Secretaries approve several routine pledges with one opinion, affirming all five criteria.

    Only what the reviewer saw: each (commitment id, version) must be among `shown`, the rows the
    bulk page listed with their items, and must pass bulk_approval_blockers (no organisation's
    commitment, leader's or oral pledge). Each is judged on its own, as review_decide would: one
    that does not exist, that the actor may not review (their own included), that someone else
    handled first, that is no longer submitted or that is not eligible is reported and the rest
    still go through. Returns (approved ids, {id: reason}).

    The approvals are written together, in one transaction and a fixed number of queries however
    many there are: the commitments are locked and read with their latest versions in one query,
    moved by one compare-and-set UPDATE, and get their decisions in one INSERT and their audit
    rows (one each) in one batched chain append.
    """
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError({"opinion": "请填写审定意见。"})
    approved, failed = [], {}
    everything = {key: True for key, _ in CRITERIA}
    sources = sources_of(S.APPROVED)
    latest = CommitmentVersion.objects.filter(commitment=OuterRef("pk")).order_by("-number")
    with transaction.atomic():
        # Locked in id order (two bulk approvals cannot deadlock), so the versions checked here
        # are the ones the UPDATE below finds; the scope is read once (cached on the actor).
        commitments = {c.pk: c for c in (
            Commitment.objects.select_for_update(of=("self",))
            .select_related("organisation", "member__branch", "reviewer_org")
            .filter(pk__in={pk for pk, _ in targets})
            .annotate(latest_version_id=Subquery(latest.values("pk")[:1]),
                      latest_version_number=Subquery(latest.values("number")[:1]))
            .order_by("pk"))}
        chosen: list[tuple[Commitment, int]] = []
        for pk, version in targets:
            commitment = commitments.get(pk)
            if commitment is None or not can_review(actor, commitment):
                failed[pk] = NOT_FOUND_OR_FORBIDDEN
            elif commitment.version != version:
                failed[pk] = STALE
            elif commitment.status not in sources or commitment.latest_version_id is None:
                failed[pk] = InvalidTransition(commitment.status, S.APPROVED).message
            elif (pk, version) not in shown:
                failed[pk] = "未在批量审定页面列出，请逐条审核。"
            elif blockers := bulk_approval_blockers(commitment):
                failed[pk] = "；".join(blockers) + "。"
            else:
                chosen.append((commitment, version))
                approved.append(pk)
                # As the UPDATE leaves it: the same id listed twice is stale the second time.
                commitment.status, commitment.version = S.APPROVED, version + 1
        if not chosen:
            return approved, failed
        now = timezone.now()
        # Compare-and-set per row, in one statement; all or none (the rows are locked).
        transition_many(targets=[(c.pk, v) for c, v in chosen], to=S.APPROVED, updated_at=now, decided_at=now)
        ReviewDecision.objects.bulk_create([
            ReviewDecision(commitment=c, version_id=c.latest_version_id, reviewer=actor,
                           reviewer_org=c.reviewer_org, decision=Decision.APPROVE, opinion=opinion,
                           is_bulk=True, **everything)
            for c, _ in chosen])
        audit.record_many(actor=actor, entries=[
            audit.Entry(action="commitment.approve", obj=c, organisation=c.reviewer_org,
                        detail={"version": c.latest_version_number, "criteria": everything, "bulk": True})
            for c, _ in chosen])
        for c, _ in chosen:
            transaction.on_commit(partial(notify, c.pk, "approved"))
    return approved, failed
