"""审诺 pages: the review queue, one review, a bulk approval.

Each view: request → one selector or service call → response. A GET never writes; every
decision is a POST that ends in a redirect. Users who may not review get 404, as for missing ids.
"""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from commitments import selectors as commitment_selectors
from commitments.models import Decision
from commitments.permissions import can_review
from commitments.selectors import campaign_from_request
from core.pages import attach_errors, paginate, run_service

from . import selectors, services
from .forms import BulkApproveForm, QueueFilterForm, ReviewForm, sign_shown

DONE_MESSAGES = {
    Decision.APPROVE: "已审定通过{name}，可进入亮诺。",
    Decision.RETURN: "已将{name}退回修改，承诺人可按审定意见修改后重新提交。",
}


def _require_reviewer(user) -> None:
    if not selectors.is_reviewer(user):
        raise Http404


def _with_query(request, name: str) -> str:
    """The URL of `name` carrying the queue's current filters."""
    query = request.GET.urlencode()
    return reverse(name) + (f"?{query}" if query else "")


def _queue_filters(request):
    """The queue's filter form and the filters it yields, from the query string."""
    user = request.user
    campaign = campaign_from_request(request)
    data = request.GET.copy()
    if campaign is not None:
        data["campaign"] = str(campaign.year)  # an unknown year falls back to the current one
    form = QueueFilterForm(data, organisations=selectors.queue_org_choices_for(user))
    valid = form.is_valid()
    if not valid and form.has_error("org", "invalid_choice"):
        raise Http404  # an organisation outside the user's reach (a name matching none is a field error)
    params = form.cleaned_data if valid else {
        k: form.cleaned_data.get(k) for k in form.fields if k not in form.errors}
    filters = {"campaign": campaign, "include_subtree": bool(params.get("subtree")), "org": params.get("org"),
               "kind": params.get("kind") or ""}
    return form, filters, bool(params.get("org") or params.get("kind"))


@require_GET
def queue(request):
    """What awaits the user's review in the chosen campaign, oldest submission first."""
    _require_reviewer(request.user)
    user = request.user
    form, filters, filtered = _queue_filters(request)
    page = paginate(request, selectors.review_queue_for(user, **filters))
    rows = [{"c": c, "reviewable": can_review(user, c), "bulk_blockers": selectors.bulk_approval_blockers(c)}
            for c in page]
    return render(request, "reviews/queue.html", {
        "form": form, "page": page, "rows": rows, "campaign": filters["campaign"],
        "include_subtree": filters["include_subtree"], "filtered": filtered,
        "bulk_url": _with_query(request, "reviews:bulk_approve"),
    })


def _bulk_page(request, form: BulkApproveForm | None = None, selected=()):
    """The bulk page: the queue's rows (same filters) with their items, eligible ones to tick."""
    user = request.user
    filter_form, filters, filtered = _queue_filters(request)
    page = paginate(request, selectors.bulk_queue_for(user, **filters))
    rows = selectors.bulk_rows_for(page)
    eligible = [r for r in rows if r.eligible and can_review(user, r.commitment)]
    return render(request, "reviews/bulk.html", {
        "filter_form": filter_form, "page": page, "campaign": filters["campaign"], "filtered": filtered,
        "eligible": eligible, "others": [r for r in rows if r.blockers],
        "form": form or BulkApproveForm(user=user), "selected": set(selected),
        "shown": sign_shown(user, eligible), "action": _with_query(request, "reviews:bulk_approve"),
        "queue_url": _with_query(request, "reviews:queue"),
        "trail": [("审诺 · 待审核承诺", _with_query(request, "reviews:queue"))],
    })


@require_http_methods(["GET", "POST"])
def bulk_approve(request):
    """Bulk approval of routine pledges: the GET lists them with their items; the POST approves the
    ticked ones among those listed with one opinion, each failure reported with its reason."""
    _require_reviewer(request.user)
    if request.method == "GET":
        return _bulk_page(request)
    form = BulkApproveForm(request.POST, user=request.user)
    if not form.is_valid():
        return _bulk_page(request, form=form, selected=request.POST.getlist("targets"))
    try:
        approved, failed = services.review_bulk_approve(
            actor=request.user, targets=form.cleaned_data["targets"], shown=form.cleaned_data["shown"],
            opinion=form.cleaned_data["opinion"])
    except ValidationError as exc:
        attach_errors(form, exc)
        return _bulk_page(request, form=form, selected=request.POST.getlist("targets"))
    if approved:
        messages.success(request, f"已批量审定通过 {len(approved)} 条承诺。")
    if failed:
        labels = commitment_selectors.owner_labels_for(request.user, failed)
        messages.warning(request, f"有 {len(failed)} 条未能审定通过，请逐条查看：")
        for pk, reason in failed.items():
            messages.warning(request, f"{labels.get(pk, f'编号 {pk} 的承诺')}：{reason}")
    return redirect(_with_query(request, "reviews:queue"))


@require_http_methods(["GET", "POST"])
def review(request, pk):
    """Judge the latest submitted version: five criteria, the opinion, approve or return."""
    commitment = selectors.review_get_for(request.user, pk)
    data = selectors.review_page_for(commitment)
    if data.version is None:
        # Never submitted: there is nothing to review yet; the commitment's own page says why.
        return redirect("commitments:detail", pk=commitment.pk)
    if request.method == "POST":
        form = ReviewForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            if run_service(form, lambda: services.review_decide(
                    actor=request.user, commitment=commitment, version=d["version"], decision=d["decision"],
                    criteria=form.criteria_data(), opinion=d["opinion"])):
                messages.success(request, DONE_MESSAGES[d["decision"]].format(
                    name=f"{commitment.owner_name}的{commitment.kind_label}"))
                return redirect("reviews:queue")
            # Someone may have decided meanwhile: show the page as it is now, the typed text kept.
            commitment = selectors.review_get_for(request.user, pk)
            data = selectors.review_page_for(commitment)
    else:
        form = ReviewForm(initial={"version": commitment.version})
    return render(request, "reviews/review.html", {
        "c": commitment, "d": data, "form": form,
        "show_form": data.is_pending or form.is_bound,
        "member": commitment.member if commitment.is_member_pledge else None,
        "trail": [("审诺 · 待审核承诺", reverse("reviews:queue"))],
    })
