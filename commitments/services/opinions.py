"""定诺 inputs (四（一）科学定诺): the public suggestion box, opinions recorded at symposiums and
visits, adopting or declining them, and the reference items a parent organisation publishes.

Every function checks who, validates, writes one audit row and changes state in one
transaction. Handling a suggestion is a compare-and-set on its `version`, so the second of two
officers acting on the same suggestion loses with a clear message on SQLite and PostgreSQL alike.
"""
import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from orgs import audit
from orgs.models import Organisation

from ..anonymity import client_hash_of, salt_for
from ..models import Campaign, Commitment, Item, ReferenceItem, Suggestion
from ..permissions import can_edit_commitment, can_handle_opinions, can_publish_references
from ..selectors import adoption_targets_q, current_campaign, references_for
from .lifecycle import commitment_add_item

# --- the public suggestion box ----------------------------------------------------------------

# Per client, across all organisations and processes (counted in the database).
SUGGESTION_BOX_LIMIT = 5
SUGGESTION_BOX_WINDOW = datetime.timedelta(hours=1)
CONTENT_MIN, CONTENT_MAX = 5, 1000
CONTACT_MAX = 100

THROTTLED_MESSAGE = "提交过于频繁，请一小时后再试。"
STALE_SUGGESTION_MESSAGE = "该意见已被他人处理，请刷新页面查看最新结果。"


class Throttled(ValidationError):
    """The public box refused a submission because the client sent too many in the window."""

    def __init__(self):
        super().__init__(THROTTLED_MESSAGE, code="throttled")


def _box_limit() -> int:
    return int(getattr(settings, "SUGGESTION_BOX_LIMIT", SUGGESTION_BOX_LIMIT))


def _content_error(content: str) -> str | None:
    """The Chinese message for suggestion text of the wrong length (already stripped), else None."""
    if len(content) < CONTENT_MIN:
        return f"意见建议至少填写{CONTENT_MIN}个字。"
    if len(content) > CONTENT_MAX:
        return f"意见建议不能超过{CONTENT_MAX}个字。"
    return None


@transaction.atomic
def suggestion_submit_public(*, organisation: Organisation, content: str, contact: str = "",
                             client_address: str | None = None) -> Suggestion:
    """Anyone, without logging in, drops a suggestion into an active organisation's online box."""
    organisation = Organisation.objects.get(pk=organisation.pk)
    if not organisation.is_active:
        raise PermissionDenied
    content, contact = (content or "").strip(), (contact or "").strip()
    errors = {}
    if message := _content_error(content):
        errors["content"] = message
    if len(contact) > CONTACT_MAX:
        errors["contact"] = f"联系方式不能超过{CONTACT_MAX}个字。"
    if errors:
        raise ValidationError(errors)
    campaign = current_campaign()
    # Keyed with the campaign's salt (commitments/anonymity.py). Within the hour the box counts,
    # all submissions are in the current campaign, but for the moment a new year is made current.
    client_hash = client_hash_of(client_address, salt=salt_for(campaign))
    since = timezone.now() - SUGGESTION_BOX_WINDOW
    # Counted in the database so the limit holds across worker processes. Two requests racing
    # at the limit may both pass; the box is a soft guard against floods, not a quota.
    if Suggestion.objects.filter(client_hash=client_hash, created_at__gte=since).count() >= _box_limit():
        raise Throttled()
    suggestion = Suggestion.objects.create(
        organisation=organisation, campaign=campaign, channel=Suggestion.Channel.BOX_ONLINE,
        content=content, contact=contact, client_hash=client_hash)
    # The box is anonymous (docs/DOMAIN.md: 群众 never log in): the audit row must not tie the
    # suggestion to the sender's address, so the request's client address is left out of it.
    token = audit.client_ip_var.set(None)
    try:
        audit.record(actor=None, action="suggestion.submit", obj=suggestion,
                     detail={"channel": suggestion.channel})
    finally:
        audit.client_ip_var.reset(token)
    return suggestion


def suggestion_hashes_erase(*, campaign: Campaign, before=None) -> int:
    """Blank the address hashes of the campaign's online suggestions (those sent before `before`,
    if given): the erasure of evaluations.services.rater_hashes_erase and of a results release,
    inside its transaction, audited there. How many were blanked."""
    suggestions = Suggestion.objects.filter(campaign=campaign).exclude(client_hash="")
    if before is not None:
        suggestions = suggestions.filter(created_at__lt=before)
    return suggestions.update(client_hash="")


# --- opinions recorded by officers ------------------------------------------------------------

# Channels an officer records by hand; the online box fills itself.
RECORDED_CHANNELS = (Suggestion.Channel.SYMPOSIUM, Suggestion.Channel.VISIT, Suggestion.Channel.BOX_PAPER)
# A symposium or a visit happened somewhere on some day; a paper box is just opened.
DATED_CHANNELS = (Suggestion.Channel.SYMPOSIUM, Suggestion.Channel.VISIT)


@transaction.atomic
def opinion_record(*, actor, organisation: Organisation, channel: str, content: str,
                   held_on: datetime.date | None = None, place: str = "", participants: str = "",
                   contact: str = "") -> Suggestion:
    """Officers over the organisation record an opinion from a 座谈会, 调研走访 or the paper box."""
    organisation = Organisation.objects.get(pk=organisation.pk)
    if not can_handle_opinions(actor, organisation):
        raise PermissionDenied
    errors = {}
    if not organisation.is_active:
        errors["__all__"] = "该党组织已撤销，不能再登记意见建议。"
    if channel not in RECORDED_CHANNELS:
        errors["channel"] = "请选择座谈会、调研走访或纸质意见箱。"
    if channel in DATED_CHANNELS and held_on is None:
        errors["held_on"] = "请填写座谈会或走访的日期。"
    if held_on is not None and held_on > timezone.localdate():
        errors["held_on"] = "日期不能晚于今天。"
    fields = {"place": (place, 100, "地点"), "participants": (participants, 300, "参加人员"),
              "contact": (contact, CONTACT_MAX, "联系方式")}
    clean = {}
    for name, (value, limit, label) in fields.items():
        clean[name] = (value or "").strip()
        if len(clean[name]) > limit:
            errors[name] = f"{label}不能超过{limit}个字。"
    content = (content or "").strip()
    if message := _content_error(content):
        errors["content"] = message
    if errors:
        raise ValidationError(errors)
    suggestion = Suggestion.objects.create(
        organisation=organisation, campaign=current_campaign(), channel=channel, content=content,
        held_on=held_on, recorded_by=actor, **clean)
    audit.record(actor=actor, action="suggestion.record", obj=suggestion,
                 detail={"channel": channel, "held_on": held_on.isoformat() if held_on else None})
    return suggestion


# --- adopt or decline -------------------------------------------------------------------------

def _locked_suggestion(suggestion: Suggestion) -> Suggestion:
    return (Suggestion.objects.select_for_update(of=("self",)).select_related("organisation")
            .get(pk=suggestion.pk))


def _mark_handled(*, suggestion: Suggestion, version: int, outcome: str, actor, reason: str = "") -> None:
    """Compare-and-set: only the pending suggestion at the version the officer saw moves on."""
    now = timezone.now()
    updated = (Suggestion.objects
               .filter(pk=suggestion.pk, version=version, outcome=Suggestion.Outcome.PENDING)
               .update(outcome=outcome, outcome_reason=reason, handled_by=actor, handled_at=now,
                       version=F("version") + 1))
    if updated != 1:
        raise Conflict(STALE_SUGGESTION_MESSAGE)
    suggestion.outcome, suggestion.outcome_reason = outcome, reason
    suggestion.handled_by, suggestion.handled_at = actor, now
    suggestion.version = version + 1


@transaction.atomic
def suggestion_adopt(*, actor, suggestion: Suggestion, version: int, commitment: Commitment,
                     content: str, measures: str = "", deadline: datetime.date | None = None,
                     responsible: str = "") -> Item:
    """Officers over the suggestion's organisation adopt it (采纳) as an item of a commitment they draft."""
    suggestion = _locked_suggestion(suggestion)
    org = suggestion.organisation
    if not can_handle_opinions(actor, org):
        raise PermissionDenied
    if suggestion.version != version or suggestion.outcome != Suggestion.Outcome.PENDING:
        raise Conflict(STALE_SUGGESTION_MESSAGE)
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "campaign")
                  .get(pk=commitment.pk))
    errors = {}
    if not Commitment.objects.filter(adoption_targets_q(org), pk=commitment.pk).exists():
        errors["commitment"] = "只能采纳到本组织的公开承诺或本组织党员的承诺中。"
    elif not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    elif not commitment.is_editable:
        errors["commitment"] = f"该承诺当前为“{commitment.get_status_display()}”，不能增加承诺事项。"
    content = (content or "").strip()
    if not content:
        errors["content"] = "请填写承诺内容。"
    if deadline is not None and deadline.year < commitment.campaign.year:
        errors["deadline"] = f"完成时限不能早于{commitment.campaign.year}年。"
    if errors:
        raise ValidationError(errors)
    _mark_handled(suggestion=suggestion, version=version, outcome=Suggestion.Outcome.ADOPTED, actor=actor)
    item = commitment_add_item(actor=actor, commitment=commitment, content=content, measures=measures or "",
                               deadline=deadline, responsible=responsible or "", source_suggestion=suggestion)
    audit.record(actor=actor, action="suggestion.adopt", obj=suggestion,
                 detail={"commitment": commitment.pk, "item": item.pk})
    return item


@transaction.atomic
def suggestion_decline(*, actor, suggestion: Suggestion, version: int, reason: str) -> Suggestion:
    """Officers over the suggestion's organisation decline it for now (暂不采纳), giving the reason."""
    suggestion = _locked_suggestion(suggestion)
    if not can_handle_opinions(actor, suggestion.organisation):
        raise PermissionDenied
    if suggestion.version != version or suggestion.outcome != Suggestion.Outcome.PENDING:
        raise Conflict(STALE_SUGGESTION_MESSAGE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写暂不采纳的理由。"})
    if len(reason) > 300:
        raise ValidationError({"reason": "理由不能超过300个字。"})
    _mark_handled(suggestion=suggestion, version=version, outcome=Suggestion.Outcome.DECLINED, actor=actor,
                  reason=reason)
    audit.record(actor=actor, action="suggestion.decline", obj=suggestion, detail={"reason": reason})
    return suggestion


# --- reference items (承诺事项参考) ---------------------------------------------------------------

C = ReferenceItem.Category
# 三、承诺内容: the first four headings are for organisations, the other five for members.
CATEGORIES_BY_AUDIENCE = {
    ReferenceItem.Audience.ORGANISATION: (C.POLICY, C.SCIENTIFIC, C.FIVE_GOOD, C.SERVE_PEOPLE),
    ReferenceItem.Audience.MEMBER: (C.CAMPAIGN, C.CONSTITUTION, C.FIVE_LEADS, C.VANGUARD, C.GOOD_DEEDS),
}
REFERENCE_FIELDS = ("audience", "category", "content", "measures")

# One suggested reference per heading of 三、承诺内容, worded from the guidance itself
# (五个好, 五带头 as the 2010 campaign defined them; 五（三）for the practical matters).
GUIDANCE_REFERENCES = [
    (C.POLICY, "认真贯彻落实党的路线方针政策和上级党组织的决策部署，确保本单位中心工作和重点任务按期完成。",
     "每季度召开一次党组织会议，专题研究贯彻落实情况；将重点任务分解到支部和党员，建立工作台账，逐项跟踪督办。"),
    (C.SCIENTIFIC, "深化学习实践科学发展观活动成果，抓好学习实践活动整改事项的落实，着力解决制约本单位科学发展的突出问题。",
     "制定年度理论学习计划，每月开展一次集中学习；整改事项逐项明确责任人和完成时限，年底前向党员群众通报整改结果。"),
    (C.FIVE_GOOD, "按照领导班子好、党员队伍好、工作机制好、工作业绩好、群众反映好的要求，创建“五个好”党组织。",
     "坚持“三会一课”制度，按时召开组织生活会；健全党员教育管理和民主评议制度；每半年对照“五个好”标准开展一次自查。"),
    (C.SERVE_PEOPLE, "围绕群众所思所盼，为群众办好几件看得见、摸得着的实事，帮助群众解决生产生活中遇到的实际困难。",
     "通过座谈会、意见箱、调研走访收集群众意见，确定年度为民办实事项目；公开办事流程和时限，设立党员示范岗；每季度公示办理进度。"),
    (C.CAMPAIGN, "积极参加创先争优活动，结合岗位特点提出争当目标，争当优秀共产党员。",
     "按时参加支部组织的各项活动和“三会一课”；每季度向党支部汇报一次践诺情况，接受党员群众监督。"),
    (C.CONSTITUTION, "模范履行党章规定的党员义务，自觉遵守党的纪律，按时足额交纳党费。",
     "认真学习党章，按月交纳党费；参加组织生活会和民主评议党员，开展批评与自我批评。"),
    (C.FIVE_LEADS, "努力做到带头学习提高、带头争创佳绩、带头服务群众、带头遵纪守法、带头弘扬正气。",
     "每年精读一至两本理论或业务书籍并撰写心得；高标准完成本职工作任务；严格遵守廉洁自律各项规定。"),
    (C.VANGUARD, "立足本职岗位，在推动科学发展、促进社会和谐、服务人民群众中发挥先锋模范作用。",
     "在急难险重任务中主动承担工作；提高办事效率，做到热情服务、一次告知、按时办结。"),
    (C.GOOD_DEEDS, "结合自身能力和特长，每年为群众办一至两件实事好事。",
     "参加社区志愿服务或结对帮扶困难群众，每季度至少一次；主动帮助群众解决生产生活中遇到的实际困难。"),
]


def audience_of(category: str) -> str:
    """The audience a guidance heading belongs to."""
    for audience, categories in CATEGORIES_BY_AUDIENCE.items():
        if category in categories:
            return audience
    raise ValueError(category)


def reference_fingerprint(reference: ReferenceItem) -> str:
    """The version an edit form carries: reference items have no counter, so their text stands in."""
    text = "\x1f".join(str(getattr(reference, f)) for f in REFERENCE_FIELDS)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _clean_reference(*, audience: str, category: str, content: str, measures: str) -> dict:
    errors = {}
    if audience not in CATEGORIES_BY_AUDIENCE:
        errors["audience"] = "请选择适用对象。"
    elif category not in CATEGORIES_BY_AUDIENCE[audience]:
        errors["category"] = f"该类别不适用于{ReferenceItem.Audience(audience).label}。"
    content, measures = (content or "").strip(), (measures or "").strip()
    if not content:
        errors["content"] = "请填写承诺内容。"
    elif len(content) > CONTENT_MAX:
        errors["content"] = f"承诺内容不能超过{CONTENT_MAX}个字。"
    if len(measures) > CONTENT_MAX:
        errors["measures"] = f"措施参考不能超过{CONTENT_MAX}个字。"
    if errors:
        raise ValidationError(errors)
    return {"audience": audience, "category": category, "content": content, "measures": measures}


def _check_publisher(actor, organisation: Organisation) -> None:
    if not can_publish_references(actor, organisation):
        raise PermissionDenied
    if not organisation.is_active:
        raise ValidationError("该党组织已撤销，不能发布承诺事项参考。")


@transaction.atomic
def reference_create(*, actor, organisation: Organisation, audience: str, category: str, content: str,
                     measures: str = "") -> ReferenceItem:
    """Officers of a non-branch organisation publish a reference item for their subtree."""
    organisation = Organisation.objects.get(pk=organisation.pk)
    _check_publisher(actor, organisation)
    data = _clean_reference(audience=audience, category=category, content=content, measures=measures)
    reference = ReferenceItem.objects.create(organisation=organisation, created_by=actor, **data)
    audit.record(actor=actor, action="reference.create", obj=reference,
                 detail={"audience": audience, "category": category})
    return reference


@transaction.atomic
def reference_update(*, actor, reference: ReferenceItem, fingerprint: str, audience: str, category: str,
                     content: str, measures: str = "") -> ReferenceItem:
    """Officers of the publishing organisation edit a reference item (items already drafted keep their text)."""
    reference = (ReferenceItem.objects.select_for_update(of=("self",)).select_related("organisation")
                 .get(pk=reference.pk))
    _check_publisher(actor, reference.organisation)
    if fingerprint != reference_fingerprint(reference):
        raise Conflict("该参考事项已被他人修改，请刷新页面后重试。")
    data = _clean_reference(audience=audience, category=category, content=content, measures=measures)
    changes = {k: [getattr(reference, k), v] for k, v in data.items() if getattr(reference, k) != v}
    if not changes:
        return reference
    for key, value in data.items():
        setattr(reference, key, value)
    reference.save(update_fields=list(changes))
    audit.record(actor=actor, action="reference.update", obj=reference, detail={"changes": changes})
    return reference


@transaction.atomic
def reference_set_active(*, actor, reference: ReferenceItem, active: bool) -> ReferenceItem:
    """Officers of the publishing organisation withdraw a reference item or publish it again."""
    reference = (ReferenceItem.objects.select_for_update(of=("self",)).select_related("organisation")
                 .get(pk=reference.pk))
    _check_publisher(actor, reference.organisation)
    if reference.is_active == active:
        return reference
    reference.is_active = active
    reference.save(update_fields=["is_active"])
    audit.record(actor=actor, action="reference.publish" if active else "reference.withdraw", obj=reference)
    return reference


@transaction.atomic
def references_import_guidance(*, actor, organisation: Organisation) -> list[ReferenceItem]:
    """Officers of a non-branch organisation publish the guidance's own suggested items; repeatable.

    An item already published by the organisation with the same heading and text (withdrawn or
    not) is skipped, so importing twice adds nothing and a withdrawn one stays withdrawn.
    """
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    _check_publisher(actor, organisation)
    existing = set(ReferenceItem.objects.filter(organisation=organisation)
                   .values_list("category", "content"))
    created = [ReferenceItem(organisation=organisation, audience=audience_of(category), category=category,
                             content=content, measures=measures, created_by=actor)
               for category, content, measures in GUIDANCE_REFERENCES if (category, content) not in existing]
    for reference in created:
        reference.save()
    audit.record(actor=actor, action="reference.import_guidance", obj=organisation,
                 detail={"created": [r.pk for r in created]})
    return created


@transaction.atomic
def commitment_add_item_from_reference(*, actor, commitment: Commitment, reference: ReferenceItem) -> Item:
    """The drafters of a commitment take a reference item published above it as a new item."""
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "campaign")
                  .get(pk=commitment.pk))
    if not can_edit_commitment(actor, commitment):
        raise PermissionDenied
    if reference.pk not in {r.pk for r in references_for(commitment)}:
        raise ValidationError("该参考事项不适用于此承诺，或已被撤回。")
    reference = ReferenceItem.objects.get(pk=reference.pk)
    # commitment_add_item checks the state and writes the audit row naming the reference.
    return commitment_add_item(actor=actor, commitment=commitment, content=reference.content,
                               measures=reference.measures, deadline=commitment.campaign.evaluation_deadline,
                               source_reference=reference)
