"""评诺 internal pages: the evaluation list with bulk release, one commitment's evaluation page
with a form for each voice and for 责令整改, and the rectification lists.

Each POST fetches its object through the predicate that draws its form (404 otherwise), calls
one service, and either redirects with a message or draws the evaluation page again with the
form's errors (a stale version shows the service's Chinese conflict message).
"""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from commitments import selectors as commitment_selectors
from commitments.lifecycle import is_in_force
from commitments.selectors import campaign_from_request, campaign_list, commitment_get_for
from commitments.views.crumbs import commitment_crumb
from core.pages import attach_errors, paginate, run_service
from core.templatetags.cn import cn_date
from orgs.models import Organisation
from orgs.permissions import READER_ROLES, SECRETARY_ROLES, scope_for
from orgs.selectors import get_visible_or_404, organisation_list_for

from .. import selectors, services
from ..forms import (AssessmentForm, BulkReleaseForm, CloseForm, EvaluationFilterForm, ExtendForm, LeaderCommentForm,
                     OrderFilterForm, RectificationOrderForm, ReleaseForm, RespondForm, TallyForm, TallyVoidForm)
from ..models import Fulfilment, Grade, MeetingTally, Rating, RectificationOrder, RectificationStatus
from ..permissions import (can_assess, can_comment_as_leader, can_record_tally, can_respond_rectification,
                           can_see_interim_satisfaction, can_verify_rectification, can_view_evaluation)
from ..scoring import VOICE_LABELS

RATING_LABELS = dict(Rating.choices)
RESULT_LABELS = dict(Fulfilment.choices)
GRADE_LABELS = dict(Grade.choices)
WINDOW_LABELS = {"before": "群众评议未开始", "open": "群众评议进行中", "closed": "群众评议已结束"}


def _published_commitment(request, pk, predicate=can_view_evaluation):
    commitment = commitment_get_for(request.user, pk, predicate=predicate)
    if not is_in_force(commitment):
        raise Http404
    return commitment


def _order(request, pk, predicate):
    queryset = RectificationOrder.objects.select_related(
        "issuer_org", "commitment", "commitment__campaign", "commitment__organisation", "commitment__member",
        "commitment__member__branch", "commitment__member__user", "commitment__reviewer_org")
    return get_visible_or_404(queryset, pk, lambda o: predicate(request.user, o))


def _detail_url(commitment, anchor: str = "") -> str:
    return reverse("evaluations:detail", args=[commitment.pk]) + (f"#{anchor}" if anchor else "")


# --- the list ------------------------------------------------------------------------------

def _with_query(request, name: str) -> str:
    query = request.GET.urlencode()
    return reverse(name) + (f"?{query}" if query else "")


def _list_page(request, bulk_form: BulkReleaseForm | None = None, selected=()):
    user = request.user
    if not scope_for(user).has_any(READER_ROLES):
        raise Http404
    campaign = campaign_from_request(request)
    data = request.GET.copy()
    if campaign is not None:
        data["campaign"] = str(campaign.year)
    form = EvaluationFilterForm(data, organisations=organisation_list_for(user).order_by("path"),
                                states=[(k, label) for k, (label, _) in selectors.STATES.items()],
                                campaigns=campaign_list())
    valid = form.is_valid()
    if not valid and form.has_error("org", "invalid_choice"):
        raise Http404  # an organisation outside the user's reach (a name matching none is a field error)
    params = form.cleaned_data if valid else {k: form.cleaned_data.get(k) for k in form.fields
                                              if k not in form.errors}
    context = {"form": form, "campaign": campaign, "bulk_form": bulk_form or BulkReleaseForm(),
               "selected": set(selected), "bulk_action": _with_query(request, "evaluations:release_bulk")}
    if campaign is None:
        return render(request, "evaluations/evaluation_list.html", context)
    qs = selectors.evaluation_list_for(user, campaign=campaign, org=params.get("org"),
                                       kind=params.get("kind") or "", state=params.get("state") or "",
                                       q=(params.get("q") or "").strip())
    page = paginate(request, qs)
    today = timezone.localdate()
    summaries = selectors.summaries_for(list(page.object_list), today=today)
    window_open = campaign.rating_state(today) == "open"
    rows = []
    for c in page.object_list:
        s = summaries[c.pk]
        rows.append({
            "c": c, "s": s, "v": s.verdict, "state": s.state_label,
            "leader_labels": [RATING_LABELS[r] for r in s.leader_ratings],
            "overdue": s.open_order is not None and s.open_order.is_overdue(today),
            "releasable": can_assess(user, c) and not s.is_released,
            # 六（二）: the interim 满意率 during the window, for the reviewing organisation and above.
            "interim": window_open and can_see_interim_satisfaction(user, c),
            "target": f"{c.pk}:{s.version}",
        })
    window = campaign.rating_state(today)
    # The awards basis of the chosen organisation, else of the user's top one.
    awards_org = params.get("org")
    if awards_org is None and (roots := scope_for(user).roots(READER_ROLES)):
        awards_org = Organisation.objects.filter(path=roots[0]).first()
    context.update({
        "awards_org": awards_org,
        "page": page, "rows": rows, "window": window, "window_label": WINDOW_LABELS[window],
        "filtered": any(params.get(k) for k in ("org", "kind", "state", "q")),
        "any_releasable": any(r["releasable"] for r in rows),
        "shows_interim": any(r["interim"] for r in rows),
    })
    return render(request, "evaluations/evaluation_list.html", context)


@require_GET
def evaluation_list(request):
    """Published commitments in the user's reading scope with their three voices and verdicts."""
    return _list_page(request)


@require_POST
def release_bulk(request):
    """Release the checked rows' results; each failure is reported with its reason."""
    if not scope_for(request.user).has_any(SECRETARY_ROLES):
        raise Http404
    form = BulkReleaseForm(request.POST)
    selected = request.POST.getlist("targets")
    if not form.is_valid():
        return _list_page(request, bulk_form=form, selected=selected)
    try:
        released, failed = services.results_release_bulk(actor=request.user, targets=form.cleaned_data["targets"])
    except ValidationError as exc:
        attach_errors(form, exc)
        return _list_page(request, bulk_form=form, selected=selected)
    if released:
        messages.success(request, f"已公布 {len(released)} 条承诺的评议结果。")
    if failed:
        labels = commitment_selectors.owner_labels_for(request.user, failed)
        messages.warning(request, f"有 {len(failed)} 条未能公布，请逐条查看：")
        for pk, reason in failed.items():
            messages.warning(request, f"{labels.get(pk, f'编号 {pk} 的承诺')}：{reason}")
    return redirect(_with_query(request, "evaluations:list"))


# --- one commitment ------------------------------------------------------------------------

def _assess_block(summary, assessments, orders) -> str:
    """Why a new assessment would be refused now (mirrors services.assess), or ""."""
    if summary.open_order is not None and assessments:
        return "整改尚未验收，验收后才能重新考核。"
    if summary.is_released:
        last = assessments[0] if assessments else None
        if last is None or not any(o.closed_at and o.closed_at > last.assessed_at for o in orders):
            return "评议结果已经公布。整改验收后方可重新考核。"
    return ""


def _release_block(summary) -> str:
    c = summary.commitment
    if summary.rating_state != "closed":
        return f"群众评议截止（{cn_date(c.campaign.evaluation_deadline)}）后才能公布评议结果。"
    if summary.assessment is None:
        return "尚未进行组织考核，不能公布评议结果。"
    return ""


def _detail_page(request, commitment, bound=None, *, status=200):
    """The evaluation page; `bound` is {context name: form} for a POST that failed."""
    bound = bound or {}
    user = request.user
    today = timezone.localdate()
    d = selectors.evaluation_detail(commitment, today=today)
    summary, orders = d["summary"], d["orders"]
    v = summary.verdict
    released = summary.is_released
    for o in orders:
        o.overdue = o.is_overdue(today)
    open_order = next((o for o in orders if o.status != RectificationStatus.CLOSED), None)
    may_assess = can_assess(user, commitment)
    may_comment = can_comment_as_leader(user, commitment)
    may_tally = can_record_tally(user, commitment)
    # 六（二）: while the window is open, the reviewing organisation and those above see the interim
    # 满意率 and may order rectification from it; the owner and the public never see it.
    see_interim = summary.rating_state == "open" and can_see_interim_satisfaction(user, commitment)
    own_comment = next((x for x in d["comments"] if x.author_id == user.pk), None)
    ctx = {
        "c": commitment, **d, "v": v, "today": today, "state": summary.state_label, "released": released,
        "window": summary.rating_state, "window_label": WINDOW_LABELS[summary.rating_state],
        "parts": [(VOICE_LABELS[k], score, weight) for k, (score, weight) in v.parts.items()],
        "weights": [(VOICE_LABELS[k], w) for k, w in commitment.campaign.weights.items()],
        "open_order": open_order, "open_order_overdue": open_order is not None and open_order.is_overdue(today),
        "can_comment": may_comment and not released, "can_tally": may_tally and not released,
        "can_assess": may_assess, "own_comment": own_comment,
        "interim": {"rate": summary.interim_rate, "votes": summary.tally.total,
                    "below": summary.interim_below_threshold} if see_interim else None,
        "trail": [commitment_crumb(commitment)],
    }
    # Draw each form only when the service could accept it, or to show the errors of a failed POST.
    if ctx["can_comment"] or "comment_form" in bound:
        ctx["comment_form"] = bound.get("comment_form") or LeaderCommentForm(initial={
            "rating": own_comment.rating if own_comment else None,
            "comment": own_comment.comment if own_comment else ""})
    if ctx["can_tally"] or "tally_form" in bound:
        ctx["tally_form"] = bound.get("tally_form") or TallyForm(
            initial={"held_on": today, "mass_representatives": 0},
            member_count=selectors.tally_member_count(commitment))
    ctx["void_form"], ctx["void_tally_id"] = bound.get("void_form"), bound.get("void_tally_id")
    if may_assess:
        ctx["assess_block"] = _assess_block(summary, d["assessments"], orders)
        ctx["release_block"] = "" if released else _release_block(summary)
        ctx["release_form"] = bound.get("release_form") or ReleaseForm(initial={"version": summary.version})
        if not ctx["assess_block"] or "assess_form" in bound:
            ctx["assess_form"] = bound.get("assess_form") or AssessmentForm(initial={"version": summary.version})
        if open_order is None or "rectify_form" in bound:
            ctx["grounds"] = selectors.rectification_grounds(summary, interim=see_interim)
            if ctx["grounds"] or "rectify_form" in bound:
                ctx["rectify_form"] = bound.get("rectify_form") or RectificationOrderForm(
                    initial={"grounds": "；".join(ctx["grounds"]) + "。"})
    if open_order is not None:
        if (open_order.status == RectificationStatus.OPEN and can_respond_rectification(user, open_order)
                or "respond_form" in bound):
            ctx["respond_form"] = bound.get("respond_form") or RespondForm(initial={"version": open_order.version})
        if can_verify_rectification(user, open_order):
            ctx["can_verify"] = True
            ctx["extend_form"] = bound.get("extend_form") or ExtendForm(initial={"version": open_order.version})
            if open_order.status == RectificationStatus.RESPONDED or "close_form" in bound:
                ctx["close_form"] = bound.get("close_form") or CloseForm(initial={"version": open_order.version})
    return render(request, "evaluations/evaluation_detail.html", ctx, status=status)


@require_GET
def detail(request, pk):
    """One published commitment's 评诺: the verdict, the three voices, results and rectification."""
    return _detail_page(request, _published_commitment(request, pk))


def _act(request, commitment, form_name, form, call, success: str, anchor: str):
    """Run `call` if the form is valid; redirect with `success`, or draw the page with the errors."""
    if form.is_valid() and run_service(form, lambda: call(form.cleaned_data)):
        messages.success(request, success)
        return redirect(_detail_url(commitment, anchor))
    return _detail_page(request, commitment, {form_name: form})


@require_POST
def comment(request, pk):
    """A leader writes or rewrites their comment."""
    commitment = _published_commitment(request, pk, can_comment_as_leader)
    return _act(request, commitment, "comment_form", LeaderCommentForm(request.POST),
                lambda d: services.leader_comment_save(actor=request.user, commitment=commitment,
                                                       rating=d["rating"], comment=d["comment"]),
                "领导点评已保存。", "comments")


@require_POST
def tally(request, pk):
    """Officers of the reviewing organisation record the ballots counted at a 民主测评 meeting."""
    commitment = _published_commitment(request, pk, can_record_tally)
    form = TallyForm(request.POST, member_count=selectors.tally_member_count(commitment))
    return _act(request, commitment, "tally_form", form,
                lambda d: services.tally_record(actor=request.user, commitment=commitment, held_on=d["held_on"],
                                                place=d["place"], satisfied=d["satisfied"], basic=d["basic"],
                                                unsatisfied=d["unsatisfied"], attendees=d["attendees"],
                                                expected=d["expected"],
                                                mass_representatives=d["mass_representatives"]),
                "民主测评计票已登记。", "public")


@require_POST
def tally_void(request, pk):
    """Officers void a wrongly entered tally, giving the reason (it stays on record)."""
    queryset = MeetingTally.objects.select_related(
        "commitment", "commitment__campaign", "commitment__organisation", "commitment__member",
        "commitment__member__branch", "commitment__member__user", "commitment__reviewer_org",
        "commitment__public_version", "commitment__organisation__parent", "commitment__recorder",
        "commitment__last_submitted_by")
    obj = get_visible_or_404(queryset, pk, lambda t: can_record_tally(request.user, t.commitment))
    commitment = obj.commitment
    if not is_in_force(commitment):
        raise Http404
    form = TallyVoidForm(request.POST)
    if form.is_valid() and run_service(form, lambda: services.tally_void(
            actor=request.user, tally=obj, reason=form.cleaned_data["reason"])):
        messages.success(request, f"已作废{cn_date(obj.held_on)}{obj.place}的计票记录。")
        return redirect(_detail_url(commitment, "public"))
    return _detail_page(request, commitment, {"void_form": form, "void_tally_id": obj.pk})


@require_POST
def assess(request, pk):
    """Secretaries of the reviewing organisation (or above) record 组织考核."""
    commitment = _published_commitment(request, pk, can_assess)
    return _act(request, commitment, "assess_form", AssessmentForm(request.POST),
                lambda d: services.assess(actor=request.user, commitment=commitment, version=d["version"],
                                          result=d["result"], grade=d["grade"], reason=d["reason"]),
                "组织考核结果已保存。", "assessment")


@require_POST
def release(request, pk):
    """Publish the results on the noticeboard once the window has closed and it is assessed."""
    commitment = _published_commitment(request, pk, can_assess)
    return _act(request, commitment, "release_form", ReleaseForm(request.POST),
                lambda d: services.results_release(actor=request.user, commitment=commitment, version=d["version"]),
                "评议结果已公布。", "verdict")


@require_POST
def rectify(request, pk):
    """Order a commitment whose fulfilment or satisfaction is poor to rectify by a deadline."""
    commitment = _published_commitment(request, pk, can_assess)
    return _act(request, commitment, "rectify_form", RectificationOrderForm(request.POST),
                lambda d: services.rectification_order(actor=request.user, commitment=commitment,
                                                       grounds=d["grounds"], required_actions=d["required_actions"],
                                                       deadline=d["deadline"]),
                "整改通知已下达。", "rectification")


def _order_act(request, order, form_name, form, call, success: str):
    commitment = _published_commitment(request, order.commitment_id)
    return _act(request, commitment, form_name, form, call, success, "rectification")


@require_POST
def order_respond(request, pk):
    """The owner's drafters report what was done."""
    order = _order(request, pk, can_respond_rectification)
    return _order_act(request, order, "respond_form", RespondForm(request.POST),
                      lambda d: services.rectification_respond(actor=request.user, order=order, version=d["version"],
                                                               response=d["response"]),
                      "整改情况已反馈，等待验收。")


@require_POST
def order_extend(request, pk):
    """The issuing organisation gives more time."""
    order = _order(request, pk, can_verify_rectification)
    return _order_act(request, order, "extend_form", ExtendForm(request.POST),
                      lambda d: services.rectification_extend(actor=request.user, order=order, version=d["version"],
                                                              deadline=d["deadline"], opinion=d["opinion"]),
                      "整改期限已延长。")


@require_POST
def order_close(request, pk):
    """The issuing organisation verifies the response and closes the order."""
    order = _order(request, pk, can_verify_rectification)
    return _order_act(request, order, "close_form", CloseForm(request.POST),
                      lambda d: services.rectification_close(actor=request.user, order=order, version=d["version"],
                                                             opinion=d["opinion"]),
                      "整改已验收完成。")


# --- rectification lists -------------------------------------------------------------------

TABS = {"answer": ("待我整改", selectors.orders_to_answer), "verify": ("我下达的 / 待验收", selectors.orders_to_verify)}


@require_GET
def rectifications(request):
    """Orders the user must answer, and orders the user's organisations issued (to verify)."""
    tab = request.GET.get("tab")
    tab = tab if tab in TABS else "answer"
    today = timezone.localdate()
    form = OrderFilterForm(request.GET)
    params = form.cleaned_data if form.is_valid() else {}
    qs = TABS[tab][1](request.user)
    counts = {key: fn(request.user).exclude(status=RectificationStatus.CLOSED).count() for key, (_, fn) in TABS.items()}
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("overdue"):
        qs = qs.filter(deadline__lt=today).exclude(status=RectificationStatus.CLOSED)
    # Unfinished orders first, the most pressing deadline first; finished ones after, newest first.
    qs = qs.order_by(Case(When(status=RectificationStatus.CLOSED, then=Value(1)), default=Value(0),
                          output_field=IntegerField()),
                     Case(When(~Q(status=RectificationStatus.CLOSED), then="deadline")), "-closed_at", "-id")
    page = paginate(request, qs)
    user = request.user
    rows = [{"o": o, "overdue": o.is_overdue(today),
             "to_respond": o.status == RectificationStatus.OPEN and can_respond_rectification(user, o),
             "to_close": o.status == RectificationStatus.RESPONDED and can_verify_rectification(user, o)}
            for o in page]
    return render(request, "evaluations/rectification_list.html", {
        "tab": tab, "tabs": [(key, label, counts[key]) for key, (label, _) in TABS.items()], "form": form,
        "page": page, "rows": rows, "today": today,
        "filtered": bool(params.get("status") or params.get("overdue")),
    })


urlpatterns = [
    path("evaluations/", evaluation_list, name="list"),
    path("evaluations/release/", release_bulk, name="release_bulk"),
    path("evaluations/rectifications/", rectifications, name="rectifications"),
    path("evaluations/commitments/<int:pk>/", detail, name="detail"),
    path("evaluations/commitments/<int:pk>/comment/", comment, name="comment"),
    path("evaluations/commitments/<int:pk>/tallies/", tally, name="tally"),
    path("evaluations/tallies/<int:pk>/void/", tally_void, name="tally_void"),
    path("evaluations/commitments/<int:pk>/assess/", assess, name="assess"),
    path("evaluations/commitments/<int:pk>/release/", release, name="release"),
    path("evaluations/commitments/<int:pk>/rectify/", rectify, name="rectify"),
    path("evaluations/rectifications/<int:pk>/respond/", order_respond, name="order_respond"),
    path("evaluations/rectifications/<int:pk>/extend/", order_extend, name="order_extend"),
    path("evaluations/rectifications/<int:pk>/close/", order_close, name="order_close"),
]
