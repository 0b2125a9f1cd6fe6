"""The lifecycle of a commitment in one place: its states, the allowed moves, the five steps
(定诺→审诺→亮诺→践诺→评诺) and what a user can do with it now.

Pure definitions: nothing here writes (the moves are made by commitments/services/lifecycle.py,
through one compare-and-set). Every page, template and PDF asks these instead of re-deriving
them from the status, `public_version_id` or the campaign dates.
"""
import dataclasses
import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict

from .models import EDITABLE_STATUSES, CommitmentStatus, PublishChannel
from .permissions import can_confirm_pledge, can_edit_commitment, can_publish, can_review, can_view_commitment

S = CommitmentStatus

# The arrows of the lifecycle (DOMAIN.md). An arrow not in this table does not exist.
ALLOWED: dict[str, set[str]] = {
    # 四（一）自愿: staff drafting for a member with an account send it to the member to confirm.
    # A draft never submitted may be discarded (kept as WITHDRAWN, see commitment_discard).
    S.DRAFT: {S.SUBMITTED, S.CONFIRMING, S.WITHDRAWN},
    S.RETURNED: {S.SUBMITTED, S.CONFIRMING},
    # The member confirms (on to review) or sends it back to the drafters with a note.
    S.CONFIRMING: {S.SUBMITTED, S.DRAFT},
    S.SUBMITTED: {S.APPROVED, S.RETURNED},
    S.APPROVED: {S.PUBLISHED},
    # Once public the text is frozen; a change starts a revision that is reviewed again (四（三）).
    S.PUBLISHED: {S.DRAFT},
    S.WITHDRAWN: set(),
}
ACTION_LABELS = {S.CONFIRMING: "提交本人确认", S.SUBMITTED: "提交", S.APPROVED: "审定", S.RETURNED: "退回",
                 S.PUBLISHED: "公开", S.DRAFT: "修订", S.WITHDRAWN: "作废"}


# How each state is shown (templates/commitments/partials/status_badge.html); a withdrawn draft
# and coverage's own states fall back to a plain badge with their label.
STATUS_BADGES = {state: (css, S(state).label) for state, css in (
    (S.DRAFT, "text-bg-secondary"), (S.CONFIRMING, "text-bg-info"), (S.SUBMITTED, "text-bg-warning"),
    (S.RETURNED, "text-bg-danger"), (S.APPROVED, "text-bg-success"), (S.PUBLISHED, "text-bg-primary"))}


def sources_of(to: str) -> list[str]:
    """The states from which a move to `to` is allowed."""
    return [state for state, targets in ALLOWED.items() if to in targets]


def may_move(commitment, to: str) -> bool:
    """Whether the commitment's state allows the move to `to` ("when", not "who")."""
    return to in ALLOWED.get(commitment.status, ())


class InvalidTransition(Conflict):
    """The commitment's state does not allow the move (answers "when", not "who")."""

    def __init__(self, current: str, to: str):
        super().__init__(f"该承诺当前为“{S(current).label}”，不能{ACTION_LABELS.get(to, '进行此操作')}。")
        self.current, self.to = current, to


# --- the five steps (方法步骤) ----------------------------------------------------------------

class Stage(models.TextChoices):
    SET = "set", "定诺"
    REVIEW = "review", "审诺"
    PUBLISH = "publish", "亮诺"
    FULFIL = "fulfil", "践诺"
    EVALUATE = "evaluate", "评诺"


# Once a version is public it stands (revisions included) and progress is recorded against it:
# 践诺 runs from publication, and goes on through 评诺.
IN_FORCE = (Stage.FULFIL, Stage.EVALUATE)


def stage_of(commitment, *, today: datetime.date | None = None) -> Stage | None:
    """Which of the five steps the commitment is at (None for a discarded draft).

    The only place that decides 践诺 and 评诺: a commitment with a public version (published, or
    reopened for a revision while the public version stands) is in 践诺 until the campaign's
    群众评议 opens (Campaign.rating_opens), in 评诺 from then on. Before publication the status
    decides: approved → 亮诺, submitted → 审诺, drafting (draft, returned, confirming) → 定诺.
    Reads `campaign` only for a public commitment (select it with the commitment).
    """
    status = commitment.status
    if status == S.WITHDRAWN:
        return None
    if is_in_force(commitment):
        window = commitment.campaign.rating_state(today or timezone.localdate())
        return Stage.FULFIL if window == "before" else Stage.EVALUATE
    if status == S.APPROVED:
        return Stage.PUBLISH
    if status == S.SUBMITTED:
        return Stage.REVIEW
    return Stage.SET


def is_in_force(commitment) -> bool:
    """A version of the commitment is public (践诺 or 评诺): progress and appraisal apply.

    Never reads the campaign: in force is the same in 践诺 and 评诺 (see stage_of). Publishing sets
    the public version, and a discarded draft never had one.
    """
    return commitment.public_version_id is not None


def in_force_q(prefix: str = "") -> Q:
    """is_in_force as a filter on commitments reached through `prefix`."""
    return Q(**{f"{prefix}public_version__isnull": False})


def stage_q(stage: str, today: datetime.date, prefix: str = "") -> Q:
    """Commitments (reached through `prefix`) at `stage` on `today`: stage_of as a filter."""
    p = prefix
    public = in_force_q(p)
    # Campaign.rating_opens: evaluation_opens, else the day after the 亮诺 deadline.
    rating_open = (Q(**{f"{p}campaign__evaluation_opens__lte": today})
                   | Q(**{f"{p}campaign__evaluation_opens__isnull": True,
                          f"{p}campaign__publish_deadline__lt": today}))
    live = ~Q(**{f"{p}status": S.WITHDRAWN})
    if stage == Stage.EVALUATE:
        return live & public & rating_open
    if stage == Stage.FULFIL:
        return live & public & ~rating_open
    before = live & ~public
    if stage == Stage.PUBLISH:
        return before & Q(**{f"{p}status": S.APPROVED})
    if stage == Stage.REVIEW:
        return before & Q(**{f"{p}status": S.SUBMITTED})
    if stage == Stage.SET:
        return before & Q(**{f"{p}status__in": (S.DRAFT, S.RETURNED, S.CONFIRMING)})
    raise ValueError(stage)


# --- what the forms print ---------------------------------------------------------------------

PRINTABLE_STATUSES = (S.APPROVED, S.PUBLISHED)


def is_printable(commitment) -> bool:
    """The annex form can be printed: approved (about to be published), published, or reopened
    while a public version stands (that version is printed, see pdf.printable_version)."""
    return commitment.public_version_id is not None or commitment.status in PRINTABLE_STATUSES


def printable_q() -> Q:
    """is_printable as a filter."""
    return Q(status__in=PRINTABLE_STATUSES) | Q(public_version__isnull=False)


# --- what a user can do now -------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Action:
    """One button: `key` names it, `url_name` is where it goes (with the commitment's pk),
    `method` is "get" (a link) or "post" (a form carrying the version), `confirm` the question
    asked before a post, `to` the state it moves to (None: no move)."""
    key: str
    label: str
    url_name: str
    method: str = "get"
    confirm: str = ""
    to: str | None = None


def submit_action(commitment, *, to_member: bool) -> Action:
    """The submit button: to the member to confirm (四（一）自愿), or to review."""
    if to_member:
        return Action("submit", "提交本人确认", "commitments:submit", "post", to=S.CONFIRMING, confirm=(
            f"代为填写的承诺须经{commitment.member.name}本人确认后才交{commitment.reviewer_org.name}审核，"
            "确认期间不能修改。确定提交本人确认吗？"))
    return Action("submit", "提交审核", "commitments:submit", "post", to=S.SUBMITTED, confirm=(
        f"提交后内容将被固定为第{commitment.submitted_count + 1}版，交{commitment.reviewer_org.name}审核，"
        "审核期间不能修改。确定提交吗？"))


def available_actions(user, commitment, *, submit_to_member: bool = False,
                      current_publication=None) -> list[Action]:
    """The buttons `user` sees on `commitment`: each only when both who (commitments.permissions)
    and when (ALLOWED, the stage) allow it.

    `submit_to_member`: the submit goes to the member to confirm (services.submit_route);
    `current_publication`: the latest publication of the public version, if any (for 增加公开方式).
    Needs the relations commitment_get_for selects; runs no query of its own.
    """
    actions = []
    status = commitment.status
    drafter = can_edit_commitment(user, commitment)
    if drafter and status in EDITABLE_STATUSES:
        actions.append(Action("edit", "修改", "commitments:edit"))
        to = S.CONFIRMING if submit_to_member else S.SUBMITTED
        if may_move(commitment, to):
            actions.append(submit_action(commitment, to_member=submit_to_member))
    if drafter and commitment.is_discardable and may_move(commitment, S.WITHDRAWN):
        actions.append(Action("discard", "作废草稿", "commitments:discard", "post", to=S.WITHDRAWN, confirm=(
            "作废后此草稿不再计入任何统计，记录保留备查，之后可以重新填写。确定作废这份未提交的草稿吗？")))
    if may_move(commitment, S.APPROVED) and can_review(user, commitment):
        actions.append(Action("review", "审核", "reviews:review", to=S.APPROVED))
    if status == S.CONFIRMING and may_move(commitment, S.SUBMITTED) and can_confirm_pledge(user, commitment):
        actions.append(Action("confirm", "确认我的承诺", "commitments:confirm", to=S.SUBMITTED))
    reader = can_view_commitment(user, commitment)
    if reader and is_printable(commitment):
        actions.append(Action("print", "打印承诺书（一式三份）", "commitments:form_pdf"))
    if reader and is_in_force(commitment) and commitment.online_since is not None:
        actions.append(Action("public_page", "公示页面", "portal:public_commitment"))
    if status == S.PUBLISHED and may_move(commitment, S.DRAFT) and drafter:
        actions.append(Action("revise", "修订承诺", "commitments:revise", "post", to=S.DRAFT, confirm=(
            "已公开的承诺修改后须重新审核、再次公开；修订期间公示栏继续显示原版本。确定开始修订吗？")))
    publisher = None
    if may_move(commitment, S.PUBLISHED):
        publisher = can_publish(user, commitment)
        if publisher:
            actions.append(Action("publish", "登记公开", "commitments:publish", "post", to=S.PUBLISHED, confirm=(
                "公开后承诺内容即被固定，并在公示栏向群众公布；如需修改须重新审核。确定公开吗？")))
    if (current_publication is not None and len(current_publication.channels) < len(PublishChannel.values)
            and (publisher if publisher is not None else can_publish(user, commitment))):
        actions.append(Action("add_channels", "增加公开方式", "commitments:add_channels", "post"))
    return actions
