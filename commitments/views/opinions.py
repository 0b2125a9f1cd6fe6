"""定诺 inputs: the public suggestion box, officers' opinion register and reference items.

Each view: request → one selector or service call → response. A GET never writes; every state
change is a POST that ends in a redirect. The suggestion box is the only page open without login.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.pages import attach_errors, message_errors, paginate, run_service
from orgs.selectors import organisation_get_for

from .. import selectors, services
from ..forms_opinions import (AdoptForm, DeclineForm, OpinionRecordForm, PublicSuggestionForm, ReferenceForm,
                              SuggestionFilterForm)
from ..models import ReferenceItem, Suggestion
from ..permissions import can_handle_opinions, can_publish_references, can_start_org_commitment
from ..services.opinions import Throttled, reference_fingerprint

T = "commitments/opinions/"


def _crumbs(user, org) -> list:
    return selectors.visible_ancestors(user, org) + [org]


# --- the public suggestion box ----------------------------------------------------------------

@login_not_required
@require_http_methods(["GET", "POST"])
def suggest(request, pk):
    """意见箱: anyone leaves a suggestion for an active organisation, without logging in."""
    org = selectors.public_org(pk)
    form = PublicSuggestionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.suggestion_submit_public(
                    organisation=org, content=form.cleaned_data["content"], contact=form.cleaned_data["contact"],
                    client_address=request.META.get("REMOTE_ADDR"))
            except Throttled as exc:
                form.add_error(None, exc.messages)
                status = 429
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                return redirect(reverse("commitments:suggest", args=[org.pk]) + "?sent=1")
        elif form.is_robot:
            status = 400
    return render(request, T + "suggest.html", {
        "org": org, "form": form, "sent": request.method == "GET" and request.GET.get("sent") == "1",
        # Back to the organisation's noticeboard page (the public's own way back, not the staff home).
        "trail": [(org.name, reverse("portal:public_org", args=[org.pk]))],
    }, status=status)


# --- officers: the opinion register ------------------------------------------------------------

@require_GET
def opinion_list(request, pk):
    """An organisation's suggestions and recorded opinions, with filters and the public box's address."""
    org = organisation_get_for(request.user, pk, predicate=can_handle_opinions)
    filters = SuggestionFilterForm(request.GET)
    params = filters.cleaned_data if filters.is_valid() else {}
    qs = selectors.suggestion_list_for(request.user, org, channel=params.get("channel", ""),
                                       outcome=params.get("outcome", ""))
    return render(request, T + "opinion_list.html", {
        "org": org, "ancestors": _crumbs(request.user, org), "filters": filters,
        "page": paginate(request, qs), "counts": selectors.suggestion_outcome_counts(org),
        "box_url": request.build_absolute_uri(reverse("commitments:suggest", args=[org.pk])),
    })


@require_http_methods(["GET", "POST"])
def opinion_create(request, pk):
    """Officers record an opinion gathered at a 座谈会, on a 调研走访 or from the paper box."""
    org = organisation_get_for(request.user, pk, predicate=can_handle_opinions)
    form = OpinionRecordForm(request.POST if request.method == "POST" else None,
                             initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        result = {}
        if run_service(form, lambda: result.setdefault("s", services.opinion_record(
                actor=request.user, organisation=org, **form.cleaned_data))):
            messages.success(request, "意见建议已登记。")
            return redirect("commitments:opinion_detail", pk=result["s"].pk)
    return render(request, T + "opinion_form.html", {"form": form, "org": org,
                                                     "ancestors": _crumbs(request.user, org)})


def _detail_page(request, suggestion: Suggestion, *, adopt_form=None, decline_form=None):
    org = suggestion.organisation
    campaign = selectors.current_campaign()
    pending = suggestion.outcome == Suggestion.Outcome.PENDING
    context = {"s": suggestion, "org": org, "ancestors": _crumbs(request.user, org), "campaign": campaign,
               "items": list(suggestion.items.all()), "pending": pending,
               # A form posted against a suggestion someone else handled meanwhile: say so above the outcome.
               "stale_form": None if pending else (adopt_form or decline_form)}
    if pending and campaign is not None:
        commitments = selectors.adoptable_commitments_for(request.user, suggestion, campaign)
        own = selectors.org_commitment_of(org, campaign)
        if adopt_form is None:
            adopt_form = AdoptForm(commitments=commitments, initial={
                "version": suggestion.version, "content": suggestion.content,
                "deadline": campaign.evaluation_deadline,
                "commitment": own.pk if own is not None and own.is_editable else None})
        context.update({
            "adopt_form": adopt_form,
            "has_targets": commitments.exists(),
            "own_commitment": own,
            "can_start": own is None and can_start_org_commitment(request.user, org),
            "decline_form": decline_form or DeclineForm(initial={"version": suggestion.version}),
        })
    elif pending:
        context["decline_form"] = decline_form or DeclineForm(initial={"version": suggestion.version})
    return render(request, T + "opinion_detail.html", context)


@require_GET
def opinion_detail(request, pk):
    """One suggestion, its outcome, and (while pending) the adopt and decline forms."""
    return _detail_page(request, selectors.suggestion_get_for(request.user, pk))


@require_POST
def opinion_adopt(request, pk):
    """采纳: the suggestion becomes an item of a commitment the officer drafts."""
    suggestion = selectors.suggestion_get_for(request.user, pk)
    commitments = selectors.adoptable_commitments_for(request.user, suggestion, selectors.current_campaign())
    form = AdoptForm(request.POST, commitments=commitments)
    if form.is_valid():
        d = form.cleaned_data
        if run_service(form, lambda: services.suggestion_adopt(
                actor=request.user, suggestion=suggestion, version=d["version"], commitment=d["commitment"],
                content=d["content"], measures=d["measures"], deadline=d["deadline"],
                responsible=d["responsible"])):
            c = d["commitment"]
            messages.success(request, f"已采纳，并作为承诺事项加入“{c.owner_name}的{c.kind_label}”。")
            return redirect("commitments:opinion_detail", pk=suggestion.pk)
    return _detail_page(request, suggestion, adopt_form=form)


@require_POST
def opinion_decline(request, pk):
    """暂不采纳, with the reason the officer gives."""
    suggestion = selectors.suggestion_get_for(request.user, pk)
    form = DeclineForm(request.POST)
    if form.is_valid() and run_service(form, lambda: services.suggestion_decline(
            actor=request.user, suggestion=suggestion, version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"])):
        messages.success(request, "已标记为暂不采纳。")
        return redirect("commitments:opinion_detail", pk=suggestion.pk)
    return _detail_page(request, suggestion, decline_form=form)


@require_POST
def opinion_start_commitment(request, pk):
    """Start the organisation's commitment for this year so that the suggestion can be adopted into it."""
    suggestion = selectors.suggestion_get_for(request.user, pk)
    campaign = selectors.current_campaign()
    if campaign is None:
        messages.error(request, "尚未设置活动年度，请联系系统管理员。")
    else:
        try:
            services.commitment_start(actor=request.user, campaign=campaign, organisation=suggestion.organisation)
        except ValidationError as exc:
            message_errors(request, exc)
        else:
            messages.success(request, f"已建立{suggestion.organisation.name}{campaign.year}年度的公开承诺草稿。")
    return redirect(reverse("commitments:opinion_detail", args=[suggestion.pk]) + "#adopt")


# --- reference items ---------------------------------------------------------------------------

def _reference_page(request, org, form, status=200):
    references = list(selectors.reference_list_for(request.user, org))
    by_audience = [(label, [r for r in references if r.audience == value])
                   for value, label in ReferenceItem.Audience.choices]
    return render(request, T + "reference_list.html", {
        "org": org, "ancestors": _crumbs(request.user, org), "form": form, "by_audience": by_audience,
        "count": len(references), "inherited": selectors.references_inherited_by(org),
    }, status=status)


@require_http_methods(["GET", "POST"])
def reference_list(request, pk):
    """承诺事项参考 an organisation publishes for its subtree, and the form to publish one more."""
    org = organisation_get_for(request.user, pk, predicate=can_publish_references)
    form = ReferenceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if run_service(form, lambda: services.reference_create(
                actor=request.user, organisation=org, audience=d["audience"], category=d["category"],
                content=d["content"], measures=d["measures"])):
            messages.success(request, "参考事项已发布。")
            return redirect("commitments:reference_list", pk=org.pk)
    return _reference_page(request, org, form)


@require_http_methods(["GET", "POST"])
def reference_edit(request, pk):
    """Edit one reference item; items already drafted from it keep their own text."""
    reference = selectors.reference_get_for(request.user, pk)
    org = reference.organisation
    initial = {f: getattr(reference, f) for f in ("audience", "category", "content", "measures")}
    initial["fingerprint"] = reference_fingerprint(reference)
    form = ReferenceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if run_service(form, lambda: services.reference_update(
                actor=request.user, reference=reference, fingerprint=d["fingerprint"], audience=d["audience"],
                category=d["category"], content=d["content"], measures=d["measures"])):
            messages.success(request, "参考事项已保存。")
            return redirect("commitments:reference_list", pk=org.pk)
    return render(request, T + "reference_form.html", {
        "form": form, "reference": reference, "org": org, "ancestors": _crumbs(request.user, org)})


@require_POST
def reference_set_active(request, pk):
    """Withdraw a reference item (active=0) or publish it again (active=1)."""
    reference = selectors.reference_get_for(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.reference_set_active(actor=request.user, reference=reference, active=active)
    except ValidationError as exc:
        message_errors(request, exc)
    else:
        messages.success(request, "参考事项已重新发布。" if active else "参考事项已撤回，下级党组织和党员将不再看到。")
    return redirect("commitments:reference_list", pk=reference.organisation_id)


@require_POST
def reference_import(request, pk):
    """导入指导意见中的参考事项: one item per heading of 三、承诺内容; importing again adds nothing."""
    org = organisation_get_for(request.user, pk, predicate=can_publish_references)
    try:
        created = services.references_import_guidance(actor=request.user, organisation=org)
    except ValidationError as exc:
        message_errors(request, exc)
    else:
        if created:
            messages.success(request, f"已导入指导意见中的参考事项{len(created)}条。")
        else:
            messages.info(request, "指导意见中的参考事项均已导入，未重复添加。")
    return redirect("commitments:reference_list", pk=org.pk)
