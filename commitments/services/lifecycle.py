"""定诺: start, draft and submit a commitment; the one table of allowed moves.

Every move is one function that checks who, validates, moves the state with a compare-and-set
on `version` (so the second of two simultaneous actors loses on SQLite and PostgreSQL alike),
writes one audit row and sends its notices after commit.
"""
import datetime
import logging

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from commitments.tasks import prerender_forms
from core.errors import Conflict
from core.templatetags.cn import cn_date
from orgs import audit
from orgs.models import MemberCategory, MemberStatus, Role, RoleGrant

from .. import public_cache
from ..lifecycle import ACTION_LABELS, ALLOWED, InvalidTransition, sources_of  # noqa: F401 (re-exported)
from ..models import (EDITABLE_STATUSES, LIVE_STATUSES, RECORDED_CONSENTS, Campaign, Commitment, CommitmentStatus,
                      CommitmentVersion, Consent, Exemption, ExemptionStatus, Item, Publication, PublishChannel,
                      ReferenceItem, Suggestion)
from ..permissions import (can_confirm_pledge, can_edit_commitment, can_publish, can_start_org_commitment,
                           can_start_pledge)

log = logging.getLogger(__name__)
S = CommitmentStatus

def transition(*, commitment: Commitment, expected_version: int, to: str, **fields) -> Commitment:
    """Move the state by compare-and-set; the loser of a race gets Conflict. Call inside a transaction."""
    updated = _compare_and_set([(commitment.pk, expected_version)], to=to, **fields)
    if updated != 1:
        current = Commitment.objects.filter(pk=commitment.pk).values_list("status", "version").first()
        if current is None or current[1] != expected_version:
            raise Conflict("该承诺已被他人处理，请刷新页面查看最新状态。")
        raise InvalidTransition(current[0], to)
    _moved([commitment.pk], to)
    commitment.refresh_from_db()
    return commitment


def transition_many(*, targets: list[tuple[int, int]], to: str, **fields) -> None:
    """Move several commitments, given as (pk, expected version), in one compare-and-set UPDATE:
    all or none (Conflict). Call inside a transaction, with the rows locked and checked."""
    if not targets:
        return
    if _compare_and_set(targets, to=to, **fields) != len(targets):
        # Never report moves that did not all apply; the caller's transaction rolls back.
        raise Conflict("该承诺已被他人处理，请刷新页面查看最新状态。")
    _moved([pk for pk, _ in targets], to)


def _compare_and_set(targets: list[tuple[int, int]], *, to: str, **fields) -> int:
    """The one UPDATE that moves a state: only rows at their expected version and in a state the
    move is allowed from (ALLOWED); returns how many moved."""
    expected = Q.create([Q(pk=pk, version=version) for pk, version in targets], connector=Q.OR)
    fields.setdefault("updated_at", timezone.now())
    return (Commitment.objects.filter(expected, pk__in=[pk for pk, _ in targets], status__in=sources_of(to))
            .update(status=to, version=F("version") + 1, **fields))


def _moved(pks: list[int], to: str) -> None:
    public_cache.changed()  # the noticeboard shows the status (修订中) and the public version
    if to in (CommitmentStatus.APPROVED, CommitmentStatus.PUBLISHED):
        prerender_forms(pks)  # their printable forms changed: lay them out ahead of printing


def _check_version(commitment: Commitment, version: int) -> None:
    if commitment.version != version:
        raise Conflict("该承诺已被他人修改或处理，请刷新页面后重试。")


def _locked(commitment: Commitment) -> Commitment:
    return (Commitment.objects.select_for_update(of=("self",))
            .select_related("organisation", "member__branch", "member__user", "reviewer_org", "campaign")
            .get(pk=commitment.pk))


@transaction.atomic
def commitment_start(*, actor, campaign: Campaign, organisation=None, member=None,
                     is_oral: bool = False) -> Commitment:
    """Officers start an organisation's commitment; a member or branch officers start a pledge."""
    if (organisation is None) == (member is None):
        raise ValueError("exactly one of organisation and member")
    if organisation is not None:
        if not can_start_org_commitment(actor, organisation):
            raise PermissionDenied
        if is_oral:
            raise ValidationError("党组织的公开承诺必须以书面形式作出。")
        if organisation.exemptions.filter(campaign=campaign, status=ExemptionStatus.APPROVED).exists():
            raise ValidationError("该党组织本年度已经免于承诺。")
        existing = Commitment.objects.filter(campaign=campaign, organisation=organisation,
                                             status__in=LIVE_STATUSES).first()
        reviewer_org = organisation.parent
    else:
        if not can_start_pledge(actor, member):
            raise PermissionDenied
        if member.status != MemberStatus.ACTIVE:
            raise ValidationError("只有在册党员才能作出承诺。")
        if is_oral and not member.may_pledge_orally:
            # 五（四）: only the elderly, those of little schooling and retirees may pledge orally.
            raise ValidationError("只有年老体弱、文化程度低的党员和离退休党员可以口头承诺。")
        if is_oral and member.user_id == actor.pk:
            raise ValidationError("口头承诺由党支部工作人员代为记录。")
        if member.exemptions.filter(campaign=campaign, kind=Exemption.Kind.EXEMPT,
                                    status=ExemptionStatus.APPROVED).exists():
            raise ValidationError("该党员本年度已经批准免于承诺。")
        existing = Commitment.objects.filter(campaign=campaign, member=member, status__in=LIVE_STATUSES).first()
        reviewer_org = member.branch
    if existing is not None:
        return existing
    commitment = Commitment.objects.create(
        campaign=campaign, organisation=organisation, member=member, reviewer_org=reviewer_org,
        is_oral=is_oral, recorder=actor if is_oral else None, created_by=actor)
    audit.record(actor=actor, action="commitment.create", obj=commitment,
                 organisation=organisation or member.branch, detail={"oral": is_oral})
    return commitment


ITEM_FIELDS = ("content", "measures", "deadline", "responsible")


def _clean_item(data: dict, *, is_member_pledge: bool) -> dict:
    item = {k: data.get(k) for k in ITEM_FIELDS}
    for key in ("content", "measures", "responsible"):
        item[key] = (item[key] or "").strip()
    if is_member_pledge:
        item["responsible"] = ""
    return item


@transaction.atomic
def commitment_save_draft(*, actor, commitment: Commitment, version: int, goal: str,
                          items: list[dict]) -> Commitment:
    """The drafters save the goal and the items; an item keeps its id, a dropped one is marked removed.

    `items` is the full list in order; each dict has the item fields and, for an existing item,
    its "id".
    """
    commitment = _locked(commitment)
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    if commitment.status not in EDITABLE_STATUSES:
        raise InvalidTransition(commitment.status, S.DRAFT)
    current = {i.pk: i for i in commitment.items.filter(removed_at__isnull=True)}
    kept, created, changed = set(), 0, 0
    for position, data in enumerate(items, start=1):
        clean = _clean_item(data, is_member_pledge=commitment.is_member_pledge)
        item = current.get(data.get("id")) if data.get("id") else None
        if item is None:
            Item.objects.create(commitment=commitment, position=position, **clean)
            created += 1
            continue
        kept.add(item.pk)
        if any(getattr(item, k) != v for k, v in clean.items()) or item.position != position:
            for k, v in clean.items():
                setattr(item, k, v)
            item.position = position
            item.save()
            changed += 1
    removed = [pk for pk in current if pk not in kept]
    Item.objects.filter(pk__in=removed).update(removed_at=timezone.now())
    goal_changed = commitment.goal != goal.strip()
    commitment.goal = goal.strip()
    commitment.version += 1
    commitment.save(update_fields=["goal", "version", "updated_at"])
    audit.record(actor=actor, action="commitment.edit", obj=commitment, organisation=commitment.owner_org,
                 detail={"goal_changed": goal_changed, "items_added": created, "items_changed": changed,
                         "items_removed": len(removed)})
    return commitment


@transaction.atomic
def commitment_add_item(*, actor, commitment: Commitment, content: str, measures: str = "",
                        deadline: datetime.date | None = None, responsible: str = "",
                        source_suggestion: Suggestion | None = None,
                        source_reference: ReferenceItem | None = None) -> Item:
    """The drafters add one item, e.g. adopted from a suggestion or taken from a reference item."""
    commitment = _locked(commitment)
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    if commitment.status not in EDITABLE_STATUSES:
        raise InvalidTransition(commitment.status, S.DRAFT)
    position = (commitment.items.filter(removed_at__isnull=True).count()) + 1
    item = Item.objects.create(
        commitment=commitment, position=position, content=content.strip(), measures=measures.strip(),
        deadline=deadline or commitment.campaign.evaluation_deadline,
        responsible="" if commitment.is_member_pledge else responsible.strip(),
        source_suggestion=source_suggestion, source_reference=source_reference)
    Commitment.objects.filter(pk=commitment.pk).update(version=F("version") + 1, updated_at=timezone.now())
    audit.record(actor=actor, action="commitment.add_item", obj=commitment, organisation=commitment.owner_org,
                 detail={"item": item.pk, "suggestion": source_suggestion.pk if source_suggestion else None,
                         "reference": source_reference.pk if source_reference else None})
    return item


def validate_for_submission(commitment: Commitment, items: list[Item]) -> None:
    """What a commitment must hold before review: the guidance's fields, and more items for leaders."""
    errors = []
    if not commitment.goal.strip():
        errors.append(f"请填写{commitment.goal_label}。")
    if not items:
        errors.append("至少需要一条承诺事项。")
    for n, item in enumerate(items, start=1):
        missing = [label for label, value in (("承诺内容", item.content), (commitment.measures_label, item.measures),
                                              ("完成时限", item.deadline)) if not value]
        if not commitment.is_member_pledge and not item.responsible:
            missing.append("履行责任人")
        if missing:
            errors.append(f"第{n}条承诺事项缺少{'、'.join(missing)}。")
        elif item.deadline.year < commitment.campaign.year:
            errors.append(f"第{n}条承诺事项的完成时限早于{commitment.campaign.year}年。")
    if commitment.is_member_pledge and commitment.member.category == MemberCategory.LEADER:
        minimum = commitment.campaign.leader_min_items
        if len(items) < minimum:
            # 五（四）: leaders' commitments set a higher standard than other members'.
            errors.append(f"担任领导职务的党员至少应承诺{minimum}条事项，目前只有{len(items)}条。")
    if errors:
        raise ValidationError(errors)


def snapshot_of(commitment: Commitment, items: list[Item]) -> dict:
    """The frozen text of a version: what the reviewer judges and the forms will print."""
    return {
        "goal": commitment.goal,
        "is_oral": commitment.is_oral,
        "recorder": (commitment.recorder.last_name or commitment.recorder.username) if commitment.recorder_id else "",
        "items": [{
            "id": i.pk, "content": i.content, "measures": i.measures, "deadline": i.deadline.isoformat(),
            "responsible": i.responsible,
            "source": (f"{i.source_suggestion.get_channel_display()}意见" if i.source_suggestion_id else ""),
        } for i in items],
    }


# How a submission reaches review with the member's agreement (四（一）: 党员……自愿提出承诺事项).
ROUTE_ORG = "org"          # an organisation's commitment: no member to agree
ROUTE_SELF = "self"        # the member submits their own written pledge
ROUTE_CONFIRM = "confirm"  # staff drafted for a member with an account: the member confirms it first
ROUTE_RECORD = "record"    # no account, or an oral pledge: staff record how the member agreed


def submit_route(user, commitment: Commitment) -> str:
    """Which way `user` submitting `commitment` goes; needs member__user selected with it."""
    if not commitment.is_member_pledge:
        return ROUTE_ORG
    member = commitment.member
    if commitment.is_oral:
        return ROUTE_RECORD
    if member.user_id is not None and member.user_id == getattr(user, "pk", None):
        return ROUTE_SELF
    # An account that cannot log in cannot confirm: staff record the agreement instead.
    if member.user_id is not None and member.user.is_active:
        return ROUTE_CONFIRM
    return ROUTE_RECORD


def _live_items(commitment: Commitment) -> list[Item]:
    return list(commitment.items.filter(removed_at__isnull=True)
                .select_related("source_suggestion").order_by("position", "id"))


def _freeze(*, commitment: Commitment, expected_version: int, items: list[Item], submitted_by, consent: str,
            consent_by, now) -> CommitmentVersion:
    """Move to submitted and freeze the text as the next version, with how the member agreed."""
    number = commitment.submitted_count + 1
    snapshot = snapshot_of(commitment, items)
    commitment = transition(commitment=commitment, expected_version=expected_version, to=S.SUBMITTED,
                            submitted_count=number, submitted_at=now, last_submitted_by=submitted_by,
                            confirmation_note="")
    return CommitmentVersion.objects.create(commitment=commitment, number=number, snapshot=snapshot,
                                            submitted_by=submitted_by, consent=consent,
                                            consent_by=consent_by, consent_at=now if consent else None)


@transaction.atomic
def commitment_submit(*, actor, commitment: Commitment, version: int, consent: str = "") -> CommitmentVersion | None:
    """The drafters submit for review; the text is frozen as a new version.

    A member's pledge goes to review only with the member's agreement (四（一）自愿): the member's
    own submission; staff drafting for a member with an account send it to the member to confirm
    (待本人确认; returns None, nothing is frozen yet); for a member without an account or an oral
    pledge staff record how the member agreed (`consent`: 当面 or 电话), by whom and when.
    """
    commitment = _locked(commitment)
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    if commitment.status not in EDITABLE_STATUSES:
        raise InvalidTransition(commitment.status, S.SUBMITTED)
    route = submit_route(actor, commitment)
    items = _live_items(commitment)
    errors = {}
    try:
        validate_for_submission(commitment, items)
    except ValidationError as exc:
        errors[NON_FIELD_ERRORS] = exc.messages
    if route == ROUTE_RECORD and consent not in RECORDED_CONSENTS:
        errors["consent"] = "请记录本人同意的方式：当面或电话征得本人同意后再提交。"
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    pk = commitment.pk
    if route == ROUTE_CONFIRM:
        commitment = transition(commitment=commitment, expected_version=version, to=S.CONFIRMING,
                                last_submitted_by=actor, confirmation_note="")
        audit.record(actor=actor, action="commitment.send_to_confirm", obj=commitment,
                     organisation=commitment.owner_org, detail={"items": len(items)})
        transaction.on_commit(lambda: notify(pk, "confirming"))
        return None
    consent_kind = {ROUTE_SELF: Consent.SELF, ROUTE_RECORD: consent}.get(route, "")
    frozen = _freeze(commitment=commitment, expected_version=version, items=items, submitted_by=actor,
                     consent=consent_kind, consent_by=actor if consent_kind else None, now=now)
    audit.record(actor=actor, action="commitment.submit", obj=commitment, organisation=commitment.owner_org,
                 detail={"version": frozen.number, "items": len(items), "consent": consent_kind})
    transaction.on_commit(lambda: notify(pk, "submitted"))
    return frozen


@transaction.atomic
def commitment_confirm(*, actor, commitment: Commitment, version: int) -> CommitmentVersion:
    """The member confirms the pledge staff drafted for them; it goes to review as their own (四（一）)."""
    commitment = _locked(commitment)
    if not can_confirm_pledge(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    if commitment.status != S.CONFIRMING:
        raise InvalidTransition(commitment.status, S.SUBMITTED)
    items = _live_items(commitment)
    validate_for_submission(commitment, items)
    # The version stays the drafter's submission; the member's confirmation is its consent.
    drafter = commitment.last_submitted_by or actor
    frozen = _freeze(commitment=commitment, expected_version=version, items=items, submitted_by=drafter,
                     consent=Consent.CONFIRMED, consent_by=actor, now=timezone.now())
    audit.record(actor=actor, action="commitment.confirm", obj=commitment, organisation=commitment.owner_org,
                 detail={"version": frozen.number, "items": len(items)})
    pk = commitment.pk
    transaction.on_commit(lambda: notify(pk, "submitted"))
    return frozen


@transaction.atomic
def commitment_send_back(*, actor, commitment: Commitment, version: int, note: str) -> Commitment:
    """The member sends a pledge drafted for them back to the drafters, saying what to change."""
    commitment = _locked(commitment)
    if not can_confirm_pledge(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "请写明需要修改的地方。"})
    if commitment.status != S.CONFIRMING:
        raise InvalidTransition(commitment.status, S.DRAFT)
    commitment = transition(commitment=commitment, expected_version=version, to=S.DRAFT, confirmation_note=note)
    audit.record(actor=actor, action="commitment.send_back", obj=commitment, organisation=commitment.owner_org,
                 detail={"note": note})
    pk = commitment.pk
    transaction.on_commit(lambda: notify(pk, "sent_back"))
    return commitment


@transaction.atomic
def commitment_publish(*, actor, commitment: Commitment, version: int, published_on: datetime.date,
                       channels: list[str]) -> Publication:
    """Officers over the owner publish an approved commitment (亮诺), recording date and channels."""
    commitment = _locked(commitment)
    if not can_publish(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    channels = [c for c in PublishChannel.values if c in set(channels)]
    errors = {}
    if not channels:
        errors["channels"] = "请至少选择一种公开方式。"
    if published_on > timezone.localdate():
        errors["published_on"] = "公开日期不能晚于今天。"
    elif commitment.decided_at and published_on < timezone.localtime(commitment.decided_at).date():
        # Paper and screen must agree: nothing is published before it was approved (审定).
        errors["published_on"] = f"公开日期不能早于审定日期（{cn_date(commitment.decided_at)}）。"
    if errors:
        raise ValidationError(errors)
    approved = commitment.versions.order_by("-number").first()
    if approved is None or commitment.status != S.APPROVED:
        raise InvalidTransition(commitment.status, S.PUBLISHED)
    # 四（三）: only the 网络 channel puts it on the noticeboard; a revision published without it
    # takes the commitment off the board until 网络 is added (publication_add_channels).
    online_since = published_on if PublishChannel.INTERNET in channels else None
    commitment = transition(commitment=commitment, expected_version=version, to=S.PUBLISHED,
                            public_version=approved, online_since=online_since)
    publication = Publication.objects.create(commitment=commitment, version=approved, published_on=published_on,
                                             channels=channels, published_by=actor)
    audit.record(actor=actor, action="commitment.publish", obj=commitment, organisation=commitment.owner_org,
                 detail={"version": approved.number, "on": published_on.isoformat(), "channels": channels})
    return publication


@transaction.atomic
def commitment_revise(*, actor, commitment: Commitment, version: int) -> Commitment:
    """The drafters reopen a published commitment; the public keeps seeing the published version
    until the revision has been reviewed and published in its turn."""
    commitment = _locked(commitment)
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    if commitment.status != S.PUBLISHED:
        # Only a published commitment is revised (a pledge awaiting its member also moves to draft).
        raise InvalidTransition(commitment.status, S.DRAFT)
    commitment = transition(commitment=commitment, expected_version=version, to=S.DRAFT)
    audit.record(actor=actor, action="commitment.revise", obj=commitment, organisation=commitment.owner_org,
                 detail={"public_version": commitment.public_version.number if commitment.public_version else None})
    return commitment


@transaction.atomic
def commitment_discard(*, actor, commitment: Commitment, version: int) -> Commitment:
    """The drafters discard a draft never submitted (an empty one started by mistake, say): it is
    kept as 已作废, counted nowhere, and a new draft may be started (六（三）: only what is real counts)."""
    commitment = _locked(commitment)
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    if not commitment.is_discardable:
        # A revision of a published commitment is not a draft to throw away: the public one stands.
        raise InvalidTransition(commitment.status if commitment.status != S.DRAFT else S.PUBLISHED, S.WITHDRAWN)
    items = commitment.items.filter(removed_at__isnull=True).count()
    commitment = transition(commitment=commitment, expected_version=version, to=S.WITHDRAWN,
                            withdrawn_at=timezone.now(), withdrawn_by=actor)
    audit.record(actor=actor, action="commitment.discard", obj=commitment, organisation=commitment.owner_org,
                 detail={"items": items, "goal": bool(commitment.goal.strip())})
    return commitment


# --- notices ---------------------------------------------------------------------------------

NOTICE_SUBJECTS = {
    "submitted": "【待审核】{name}已提交，请审核",
    "confirming": "【待本人确认】{name}已代为填写，请确认",
    "sent_back": "【本人退回】{name}需要修改",
    "returned": "【已退回】{name}需要修改",
    "approved": "【已审定】{name}已审定通过",
}


def notify(commitment_pk: int, event: str) -> None:
    """E-mail the people who act next: reviewers on submit, drafters on return and approval.

    Runs after commit; a mail failure is logged and never undoes the action.
    """
    try:
        c = (Commitment.objects.select_related("organisation", "member__branch", "member__user", "reviewer_org",
                                                "created_by", "last_submitted_by").get(pk=commitment_pk))
        if event == "submitted":
            users = [g.user for g in RoleGrant.objects.filter(
                organisation=c.reviewer_org, role__in=(Role.SECRETARY, Role.DEPUTY_SECRETARY),
                user__is_active=True).select_related("user")]
        elif event == "confirming":
            users = [c.member.user] if c.member_id and c.member.user_id else []
        elif event == "sent_back":
            users = [u for u in (c.created_by, c.last_submitted_by) if u]
        else:
            users = [u for u in (c.created_by, c.last_submitted_by, c.member.user if c.member_id else None) if u]
        recipients = sorted({u.email for u in users if u.email})
        if not recipients:
            return
        name = f"{c.owner_name}的{c.kind_label}"
        url = settings.SITE_URL.rstrip("/") + reverse("commitments:detail", args=[c.pk])
        send_mail(NOTICE_SUBJECTS[event].format(name=name),
                  f"{name}（{c.campaign.name}）当前状态：{c.get_status_display()}。\n请登录公开承诺管理系统查看：{url}",
                  None, recipients)
    except Exception:  # noqa: BLE001 - a notice must never break the action that committed
        log.exception("notice %s for commitment %s failed", event, commitment_pk)
