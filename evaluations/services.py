"""Every write of 评诺. Each function checks who, validates, writes one audit row and changes
state in one transaction; stale forms lose with a Conflict that says someone else acted first.

Only commitments with a public version (published at least once) are evaluated. Once results
are released, the voices are closed: comments, tallies and assessments stand as published,
except that a commitment whose rectification has been verified may be assessed again (整改后
重新考核), which updates the published result.
"""
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from commitments import public_cache
from commitments.anonymity import client_hash_of, salt_for
from commitments.lifecycle import is_in_force
from commitments.models import Campaign, Commitment
from commitments.permissions import NOT_FOUND_OR_FORBIDDEN, can_manage_campaigns
from commitments.services.opinions import SUGGESTION_BOX_WINDOW, suggestion_hashes_erase
from core.errors import Conflict
from core.templatetags.cn import cn_date
from orgs import audit
from orgs.permissions import SECRETARY_ROLES

from .models import (Assessment, Ballot, Evaluation, Fulfilment, Grade, LeaderComment, MeetingTally, Rating,
                     RectificationOrder, RectificationStatus, RectificationStep)
from .permissions import (acting_org, can_assess, can_comment_as_leader, can_record_tally, can_respond_rectification,
                          can_verify_rectification, owner_org)
from .selectors import interim_ground, rater_hash_of, rectification_grounds, summary_for, tally_member_count

STALE = "该承诺的评诺已被他人处理，请刷新页面查看最新结果。"
STALE_ORDER = "该整改通知已被他人处理，请刷新页面查看最新状态。"
RELEASED = "评议结果已经公布，不能再修改。"
TEXT_MAX = 2000
MAX_VOTES = 100_000
# 群众评议 limits: ballots from one network (an office or a community room behind one NAT
# address, each colleague in their own browser) on one commitment per day, and ballots per
# network per hour over all commitments.
BALLOTS_PER_NETWORK_PER_DAY = 30
BALLOTS_PER_CLIENT_HOUR = 60


class AlreadyRated(ValidationError):
    """This browser (its token) has rated this commitment."""

    def __init__(self):
        super().__init__("您已评议过该承诺，每人只能评议一次。感谢您的参与！", code="duplicate")


class RatingThrottled(ValidationError):
    def __init__(self, message="评议提交过于频繁，请稍后再试。", code="throttled"):
        super().__init__(message, code=code)


class NetworkCapReached(RatingThrottled):
    """The network has cast today's share of ballots on this commitment."""

    def __init__(self, cap: int):
        super().__init__(f"该网络今天对该承诺的评议已达上限（{cap}次），请明天再试或换用其他网络。",
                         code="network_cap")


class TokenRequired(ValidationError):
    """A browser that showed no token (refusing or clearing cookies) on a commitment its network
    has rated: it cannot be told from the browser that rated, so it is not counted."""

    def __init__(self):
        super().__init__("您所在的网络已有人评议过该承诺。您的浏览器没有保存评议凭证（Cookie），无法确认您是否已评议；"
                         "请允许本网站保存Cookie后重新提交。", code="no_cookie")


def _published(commitment: Commitment) -> Commitment:
    qs = Commitment.objects.select_related("campaign", "organisation", "member__branch", "reviewer_org",
                                           "public_version")
    commitment = qs.get(pk=commitment.pk)
    if not is_in_force(commitment):
        raise Conflict("该承诺尚未公开，公开后才能开展评议。")
    return commitment


def _evaluation(commitment: Commitment) -> Evaluation:
    """The commitment's 评诺 row, created on first use and locked for this transaction."""
    Evaluation.objects.get_or_create(commitment=commitment)
    return Evaluation.objects.select_for_update().get(pk=commitment.pk)


def _text(value, label: str, *, required: bool = True, limit: int = TEXT_MAX) -> tuple[str, str | None]:
    value = (value or "").strip()
    if required and not value:
        return value, f"请填写{label}。"
    if len(value) > limit:
        return value, f"{label}不能超过{limit}个字。"
    return value, None


def _bump(evaluation: Evaluation, **fields) -> None:
    Evaluation.objects.filter(pk=evaluation.pk).update(version=F("version") + 1, **fields)
    evaluation.refresh_from_db()


# --- 领导点评 ------------------------------------------------------------------------------------

@transaction.atomic
def leader_comment_save(*, actor, commitment: Commitment, rating: str, comment: str) -> LeaderComment:
    """A secretary of the reviewing organisation or above (never on what is theirs) writes, or
    rewrites, their comment."""
    commitment = _published(commitment)
    if not can_comment_as_leader(actor, commitment):
        raise PermissionDenied
    evaluation = _evaluation(commitment)
    if evaluation.released_at:
        raise Conflict(RELEASED)
    errors = {}
    if rating not in Rating.values:
        errors["rating"] = "请选择评价。"
    comment, error = _text(comment, "点评意见")
    if error:
        errors["comment"] = error
    if errors:
        raise ValidationError(errors)
    author_org = acting_org(actor, commitment.reviewer_org, SECRETARY_ROLES)
    obj, created = LeaderComment.objects.update_or_create(
        commitment=commitment, author=actor,
        defaults={"rating": rating, "comment": comment, "author_org": author_org})
    audit.record(actor=actor, action="evaluation.comment", obj=commitment, organisation=owner_org(commitment),
                 detail={"rating": rating, "created": created, "as": author_org.name})
    return obj


# --- 群众评议 ------------------------------------------------------------------------------------

def window_message(campaign, today: datetime.date) -> str | None:
    """Why rating is not possible today, or None while the window is open."""
    state = campaign.rating_state(today)
    span = f"{cn_date(campaign.rating_opens)}至{cn_date(campaign.evaluation_deadline)}"
    if state == "before":
        return f"群众评议尚未开始（评议时间：{span}）。"
    if state == "closed":
        return f"群众评议已经结束（评议时间：{span}）。"
    return None


def _network_cap() -> int:
    return int(getattr(settings, "BALLOTS_PER_NETWORK_PER_DAY", BALLOTS_PER_NETWORK_PER_DAY))


def ballot_cast(*, commitment: Commitment, rating: str, remark: str = "", rater_token: str,
                client_address: str | None, new_token: bool = False,
                today: datetime.date | None = None) -> Ballot:
    """Anyone rates a published commitment once during the campaign's window, until its results
    are released.

    A rater is one browser: a random token in a cookie, unique per commitment in the database.
    A network (its address) casts at most BALLOTS_PER_NETWORK_PER_DAY ballots on one commitment a
    day, and BALLOTS_PER_CLIENT_HOUR an hour overall. `new_token`: the token was made for this
    request because the browser showed none, so it may be one that rated and then dropped its
    cookie; such a ballot counts only while its network has none on the commitment. Refusals
    raise AlreadyRated, TokenRequired, NetworkCapReached or RatingThrottled.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        commitment = _published(commitment)
        if commitment.online_since is None:
            # 四（三）: online rating is on the noticeboard, which shows only what went out by 网络.
            raise Conflict("该承诺未在网上公开，不能网上评议。")
        if message := window_message(commitment.campaign, today):
            raise ValidationError(message, code="closed")
        remark, error = _text(remark, "意见", required=False, limit=200)
        if rating not in Rating.values:
            raise ValidationError({"rating": "请选择满意、基本满意或不满意。"})
        if error:
            raise ValidationError({"remark": error})
        # Serialises ballots on one commitment, so the per-network cap holds under concurrency.
        evaluation = _evaluation(commitment)
        if evaluation.released_at or commitment.campaign.hashes_erased_at:
            # Released results close the voices (the hashes that keep one ballot per browser are
            # erased then), even if the window were moved later afterwards.
            raise ValidationError("评议结果已经公布，群众评议已经结束。", code="closed")
        if not rater_token:
            raise ValidationError("无法识别评议人，请允许浏览器保存Cookie后重试。", code="no_token")
        salt = salt_for(commitment.campaign)
        rater_hash, client_hash = rater_hash_of(rater_token, salt=salt), client_hash_of(client_address, salt=salt)
        ballots = Ballot.objects.filter(commitment=commitment)
        if ballots.filter(rater_hash=rater_hash).exists():
            raise AlreadyRated()
        from_network = ballots.filter(client_hash=client_hash)
        if new_token and from_network.exists():
            raise TokenRequired()
        # The cap's day is the clock's (local) day, like the hourly limit: `today` is the window's.
        midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        if from_network.filter(created_at__gte=midnight).count() >= (cap := _network_cap()):
            raise NetworkCapReached(cap)
        since = timezone.now() - datetime.timedelta(hours=1)
        if (Ballot.objects.filter(client_hash=client_hash, created_at__gte=since).count()
                >= int(getattr(settings, "BALLOTS_PER_CLIENT_HOUR", BALLOTS_PER_CLIENT_HOUR))):
            raise RatingThrottled()
        try:
            with transaction.atomic():
                ballot = Ballot.objects.create(commitment=commitment, rating=rating, remark=remark,
                                               rater_hash=rater_hash, client_hash=client_hash)
        except IntegrityError:
            raise AlreadyRated() from None
        # Anonymous: the audit row must not tie the ballot to the rater's address.
        token = audit.client_ip_var.set(None)
        try:
            audit.record(actor=None, action="evaluation.ballot", obj=commitment,
                         organisation=owner_org(commitment), detail={"ballot": ballot.pk})
        finally:
            audit.client_ip_var.reset(token)
    return ballot


def _ballot_hashes_erase(ballots) -> int:
    return ballots.exclude(rater_hash="", client_hash="").update(rater_hash="", client_hash="")


@transaction.atomic
def rater_hashes_erase(*, actor, campaign: Campaign, today: datetime.date | None = None) -> dict[str, int]:
    """A root administrator, or the operator (actor None: manage.py erase_rater_hashes), erases a
    campaign's rater and suggester hashes once its 群众评议 window has closed: every ballot's and
    online suggestion's hash is blanked and the campaign's salt destroyed. No ballot is taken after.
    """
    today = today or timezone.localdate()
    if actor is not None and not can_manage_campaigns(actor):
        raise PermissionDenied
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.rating_state(today) != "closed":
        # While ballots are taken the hashes are what keeps one ballot per browser.
        raise ValidationError(f"群众评议截止（{cn_date(campaign.evaluation_deadline)}）后才能清除评议人标识。")
    counts = {"ballots": _ballot_hashes_erase(Ballot.objects.filter(commitment__campaign=campaign)),
              "suggestions": suggestion_hashes_erase(campaign=campaign)}
    Campaign.objects.filter(pk=campaign.pk).update(hash_salt="", hashes_erased_at=timezone.now())
    audit.record(actor=actor, action="evaluation.erase_hashes", obj=campaign, detail={"year": campaign.year, **counts})
    return counts


# --- 民主测评 at a meeting -----------------------------------------------------------------------

@transaction.atomic
def tally_record(*, actor, commitment: Commitment, held_on: datetime.date | None, place: str,
                 satisfied, basic, unsatisfied, attendees=None, expected=None,
                 mass_representatives=0) -> MeetingTally:
    """Officers of the reviewing organisation or above (never the owner's) enter the paper ballots
    counted at a 民主测评 meeting: votes ≤ 到会人数 ≤ 应到人数 ≤ members + declared 群众代表."""
    commitment = _published(commitment)
    if not can_record_tally(actor, commitment):
        raise PermissionDenied
    if _evaluation(commitment).released_at:
        raise Conflict(RELEASED)
    errors = {}
    first_published = commitment.publications.order_by("published_on").values_list("published_on", flat=True).first()
    if held_on is None:
        errors["held_on"] = "请填写测评日期。"
    elif held_on > timezone.localdate():
        errors["held_on"] = "测评日期不能晚于今天。"
    elif first_published and held_on < first_published:
        errors["held_on"] = f"测评日期不能早于承诺公开日期（{cn_date(first_published)}）。"
    place, error = _text(place, "测评地点", limit=100)
    if error:
        errors["place"] = error
    counts = {}
    required = {"attendees": "请填写到会人数。", "expected": "请填写应到人数。"}
    for name, value in (("satisfied", satisfied), ("basic", basic), ("unsatisfied", unsatisfied),
                        ("attendees", attendees), ("expected", expected),
                        ("mass_representatives", mass_representatives)):
        if value in (None, "") and name in required:
            errors[name] = required[name]
            continue
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            counts[name] = int(value if value not in (None, "") else 0)
        except (TypeError, ValueError):
            errors[name] = "请填写整数。"
            continue
        if not 0 <= counts[name] <= MAX_VOTES:
            errors[name] = f"请填写0至{MAX_VOTES}之间的整数。"
    if not errors:
        total = counts["satisfied"] + counts["basic"] + counts["unsatisfied"]
        members = tally_member_count(commitment)
        bound = members + counts["mass_representatives"]
        if total == 0:
            errors["satisfied"] = "三项票数不能都为0。"
        elif total > counts["attendees"]:
            errors["attendees"] = (f"满意、基本满意、不满意人数之和（{total}）不能超过到会人数"
                                   f"（{counts['attendees']}）。")
        elif counts["attendees"] > counts["expected"]:
            errors["expected"] = f"到会人数（{counts['attendees']}）不能超过应到人数（{counts['expected']}）。"
        elif counts["expected"] > bound:
            errors["expected"] = (f"应到人数（{counts['expected']}）不能超过该组织党员人数（{members}人）"
                                  f"与群众代表人数（{counts['mass_representatives']}人）之和。")
    if errors:
        raise ValidationError(errors)
    tally = MeetingTally.objects.create(commitment=commitment, held_on=held_on, place=place, recorded_by=actor,
                                        **counts)
    audit.record(actor=actor, action="evaluation.tally", obj=commitment, organisation=owner_org(commitment),
                 detail={"tally": tally.pk, "held_on": held_on.isoformat(), "counts": counts,
                         "members": members})
    return tally


@transaction.atomic
def tally_void(*, actor, tally: MeetingTally, reason: str) -> None:
    """A wrongly entered tally is voided with a reason (kept on record, no longer counted)."""
    commitment = _published(tally.commitment)
    if not can_record_tally(actor, commitment):
        raise PermissionDenied
    if _evaluation(commitment).released_at:
        raise Conflict(RELEASED)
    reason, error = _text(reason, "作废原因", limit=200)
    if error:
        raise ValidationError({"reason": error})
    if MeetingTally.objects.filter(pk=tally.pk, voided_at__isnull=True).update(
            voided_at=timezone.now(), voided_by=actor, void_reason=reason) != 1:
        raise Conflict("该计票记录已被作废。")
    audit.record(actor=actor, action="evaluation.tally_void", obj=commitment, organisation=owner_org(commitment),
                 detail={"tally": tally.pk, "reason": reason})


# --- 组织考核 and releasing results --------------------------------------------------------------

@transaction.atomic
def assess(*, actor, commitment: Commitment, version: int, result: str, grade: str, reason: str) -> Assessment:
    """Secretaries of the reviewing organisation (or above) record the finding, grade and reason."""
    commitment = _published(commitment)
    if not can_assess(actor, commitment):
        raise PermissionDenied
    evaluation = _evaluation(commitment)
    if evaluation.version != version:
        raise Conflict(STALE)
    open_order = RectificationOrder.objects.filter(commitment=commitment).exclude(
        status=RectificationStatus.CLOSED).first()
    if open_order is not None and commitment.assessments.exists():
        raise Conflict("整改尚未验收，验收后才能重新考核。")
    if evaluation.released_at:
        last = commitment.assessments.order_by("-assessed_at", "-id").first()
        closed_since = RectificationOrder.objects.filter(
            commitment=commitment, status=RectificationStatus.CLOSED, closed_at__gt=last.assessed_at).exists()
        if not closed_since:
            raise Conflict(RELEASED + "整改验收后方可重新考核。")
    errors = {}
    if result not in Fulfilment.values:
        errors["result"] = "请选择考核结果。"
    if grade not in Grade.values:
        errors["grade"] = "请选择等次。"
    elif result == Fulfilment.UNFULFILLED and grade in (Grade.EXCELLENT, Grade.GOOD):
        errors["grade"] = "考核结果为“未兑现”的，等次不能评为优秀或良好。"
    elif result == Fulfilment.FULFILLED and grade == Grade.POOR:
        errors["grade"] = "考核结果为“已兑现”的，等次不能评为较差。"
    reason, error = _text(reason, "考核意见")
    if error:
        errors["reason"] = error
    if errors:
        raise ValidationError(errors)
    assessor_org = acting_org(actor, commitment.reviewer_org, SECRETARY_ROLES)
    assessment = Assessment.objects.create(commitment=commitment, result=result, grade=grade, reason=reason,
                                           assessor_org=assessor_org, assessed_by=actor)
    # The new assessment is the latest (append-only): the dashboards count by the denormalised column.
    Commitment.objects.filter(pk=commitment.pk).update(latest_result=result)
    commitment.latest_result = result
    _bump(evaluation)
    audit.record(actor=actor, action="evaluation.assess", obj=commitment, organisation=assessor_org,
                 detail={"result": result, "grade": grade, "released": bool(evaluation.released_at)})
    public_cache.changed()
    return assessment


@transaction.atomic
def commitment_result_refresh(*, commitment: Commitment) -> str | None:
    """Seeding code and tests that write Assessment rows themselves: copy the latest assessment's
    result to Commitment.latest_result (assess() keeps it itself)."""
    latest = commitment.assessments.order_by("-assessed_at", "-id").values_list("result", flat=True).first()
    Commitment.objects.filter(pk=commitment.pk).update(latest_result=latest)
    commitment.latest_result = latest
    return latest


@transaction.atomic
def results_release(*, actor, commitment: Commitment, version: int, today: datetime.date | None = None) -> Evaluation:
    """Publish the results (result, satisfaction rate, leader comments) on the noticeboard, once the
    public window has closed and the commitment has been assessed."""
    today = today or timezone.localdate()
    commitment = _published(commitment)
    if not can_assess(actor, commitment):
        raise PermissionDenied
    evaluation = _evaluation(commitment)
    if evaluation.version != version:
        raise Conflict(STALE)
    if evaluation.released_at:
        raise Conflict("评议结果已经公布。")
    if commitment.campaign.rating_state(today) != "closed":
        raise ValidationError(f"群众评议截止（{cn_date(commitment.campaign.evaluation_deadline)}）后才能公布评议结果。")
    if not commitment.assessments.exists():
        raise ValidationError("尚未进行组织考核，不能公布评议结果。")
    _bump(evaluation, released_at=timezone.now(), released_by=actor)
    # Released results close the voices, so the hashes that kept one ballot per browser and
    # capped each network have done their work: they are erased with the release (the ballots
    # still count). So are the campaign's suggesters' hashes past the hour the box counts.
    erased = {"ballots": _ballot_hashes_erase(Ballot.objects.filter(commitment=commitment)),
              "suggestions": suggestion_hashes_erase(campaign=commitment.campaign,
                                                     before=timezone.now() - SUGGESTION_BOX_WINDOW)}
    v = summary_for(commitment, today=today).verdict
    audit.record(actor=actor, action="evaluation.release", obj=commitment, organisation=commitment.reviewer_org,
                 detail={"score": v.score, "result": v.result, "satisfaction_rate": v.satisfaction_rate,
                         "erased_hashes": erased})
    public_cache.changed()
    return evaluation


def results_release_bulk(*, actor, targets: list[tuple[int, int]],
                         today: datetime.date | None = None) -> tuple[list[int], dict[int, str]]:
    """Release several commitments' results; each in its own transaction. (released ids, {id: reason})."""
    released, failed = [], {}
    found = {c.pk: c for c in Commitment.objects.select_related("member__branch", "organisation", "reviewer_org")
             .filter(pk__in=[pk for pk, _ in targets])}
    for pk, version in targets:
        # Checked before the commitment's state, which is none of the business of who may not act on it.
        if pk not in found or not can_assess(actor, found[pk]):
            failed[pk] = NOT_FOUND_OR_FORBIDDEN
            continue
        try:
            results_release(actor=actor, commitment=found[pk], version=version, today=today)
        except PermissionDenied:
            failed[pk] = NOT_FOUND_OR_FORBIDDEN
        except Conflict as exc:
            failed[pk] = exc.message
        except ValidationError as exc:
            failed[pk] = "；".join(exc.messages)
        else:
            released.append(pk)
    return released, failed


# --- 责令整改 -----------------------------------------------------------------------------------

def _locked_order(order: RectificationOrder) -> RectificationOrder:
    return (RectificationOrder.objects.select_for_update(of=("self",))
            .select_related("commitment", "commitment__organisation", "commitment__member__branch",
                            "commitment__reviewer_org", "issuer_org")
            .get(pk=order.pk))


def _deadline_error(deadline, *, after: datetime.date) -> str | None:
    if deadline is None:
        return "请填写整改期限。"
    if deadline <= after:
        return f"整改期限须晚于{cn_date(after)}。"
    return None


@transaction.atomic
def rectification_order(*, actor, commitment: Commitment, grounds: str, required_actions: str,
                        deadline: datetime.date | None, today: datetime.date | None = None) -> RectificationOrder:
    """The reviewing organisation, or any above it (督促检查), orders a commitment whose fulfilment
    or satisfaction is poor to rectify by a deadline."""
    today = today or timezone.localdate()
    commitment = _published(commitment)
    if not can_assess(actor, commitment):
        raise PermissionDenied
    _evaluation(commitment)
    if RectificationOrder.objects.filter(commitment=commitment).exclude(status=RectificationStatus.CLOSED).exists():
        raise Conflict("该承诺已有未完成的整改通知。")
    # The actor may order rectification, so may see (and act on) the interim figure (六（二）).
    summary = summary_for(commitment, today=today)
    basis = rectification_grounds(summary, interim=True)
    if not basis:
        raise ValidationError(
            f"该承诺考核结果不是“基本兑现”或“未兑现”，群众满意率不低于{commitment.campaign.satisfaction_threshold}%，"
            "也没有逾期未完成的事项，不符合责令整改的条件。")
    interim_basis = interim_ground(summary) in basis
    errors = {}
    grounds, error = _text(grounds, "整改原因")
    if error:
        errors["grounds"] = error
    required_actions, error = _text(required_actions, "整改要求")
    if error:
        errors["required_actions"] = error
    if error := _deadline_error(deadline, after=today):
        errors["deadline"] = error
    if errors:
        raise ValidationError(errors)
    issuer_org = acting_org(actor, commitment.reviewer_org, SECRETARY_ROLES)
    order = RectificationOrder.objects.create(commitment=commitment, issuer_org=issuer_org, issued_by=actor,
                                              grounds=grounds, required_actions=required_actions, deadline=deadline,
                                              interim_basis=interim_basis)
    RectificationStep.objects.create(order=order, kind=RectificationStep.Kind.ISSUE, text=required_actions,
                                     deadline=deadline, actor=actor)
    audit.record(actor=actor, action="rectification.issue", obj=commitment, organisation=issuer_org,
                 detail={"order": order.pk, "deadline": deadline.isoformat(), "basis": basis,
                         **({"interim_rate": summary.interim_rate} if interim_basis else {})})
    return order


def _move(order: RectificationOrder, version: int, sources, **fields) -> None:
    updated = (RectificationOrder.objects.filter(pk=order.pk, version=version, status__in=sources)
               .update(version=F("version") + 1, **fields))
    if updated != 1:
        raise Conflict(STALE_ORDER)
    order.refresh_from_db()


@transaction.atomic
def rectification_respond(*, actor, order: RectificationOrder, version: int, response: str) -> RectificationOrder:
    """The owner (its officers, or the member on a written pledge) reports what was done."""
    order = _locked_order(order)
    if not can_respond_rectification(actor, order):
        raise PermissionDenied
    if order.version != version or order.status != RectificationStatus.OPEN:
        raise Conflict(STALE_ORDER)
    response, error = _text(response, "整改情况")
    if error:
        raise ValidationError({"response": error})
    _move(order, version, [RectificationStatus.OPEN], status=RectificationStatus.RESPONDED)
    RectificationStep.objects.create(order=order, kind=RectificationStep.Kind.RESPOND, text=response, actor=actor)
    audit.record(actor=actor, action="rectification.respond", obj=order.commitment,
                 organisation=owner_org(order.commitment), detail={"order": order.pk})
    return order


@transaction.atomic
def rectification_extend(*, actor, order: RectificationOrder, version: int, deadline: datetime.date | None,
                         opinion: str, today: datetime.date | None = None) -> RectificationOrder:
    """The issuing organisation gives more time; the owner must respond again."""
    today = today or timezone.localdate()
    order = _locked_order(order)
    if not can_verify_rectification(actor, order):
        raise PermissionDenied
    if order.version != version or order.status == RectificationStatus.CLOSED:
        raise Conflict(STALE_ORDER)
    errors = {}
    if error := _deadline_error(deadline, after=max(order.deadline, today)):
        errors["deadline"] = error
    opinion, error = _text(opinion, "延期说明")
    if error:
        errors["opinion"] = error
    if errors:
        raise ValidationError(errors)
    previous = order.deadline
    _move(order, version, [RectificationStatus.OPEN, RectificationStatus.RESPONDED],
          status=RectificationStatus.OPEN, deadline=deadline)
    RectificationStep.objects.create(order=order, kind=RectificationStep.Kind.EXTEND, text=opinion,
                                     deadline=deadline, actor=actor)
    audit.record(actor=actor, action="rectification.extend", obj=order.commitment, organisation=order.issuer_org,
                 detail={"order": order.pk, "from": previous.isoformat(), "to": deadline.isoformat()})
    return order


@transaction.atomic
def rectification_close(*, actor, order: RectificationOrder, version: int, opinion: str) -> RectificationOrder:
    """The issuing organisation verifies the response and closes the order (整改完成)."""
    order = _locked_order(order)
    if not can_verify_rectification(actor, order):
        raise PermissionDenied
    if order.version != version:
        raise Conflict(STALE_ORDER)
    if order.status == RectificationStatus.CLOSED:
        raise Conflict("该整改已验收完成。")
    if order.status != RectificationStatus.RESPONDED:
        raise Conflict("整改单位尚未反馈整改情况，不能验收。")
    responder = order.steps.filter(kind=RectificationStep.Kind.RESPOND).order_by("-id").values_list(
        "actor_id", flat=True).first()
    if responder == actor.pk:
        raise PermissionDenied("整改情况的反馈人不能自行验收。")
    opinion, error = _text(opinion, "验收意见")
    if error:
        raise ValidationError({"opinion": error})
    _move(order, version, [RectificationStatus.RESPONDED], status=RectificationStatus.CLOSED,
          closed_at=timezone.now())
    RectificationStep.objects.create(order=order, kind=RectificationStep.Kind.CLOSE, text=opinion, actor=actor)
    audit.record(actor=actor, action="rectification.close", obj=order.commitment, organisation=order.issuer_org,
                 detail={"order": order.pk})
    return order
