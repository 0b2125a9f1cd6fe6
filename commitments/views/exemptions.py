"""Exemption (免于承诺: proposed by the branch, 审核认同 by the 机关党组织 above), deferral (延期承诺)
and make-up (补课) of members, and exemption of organisations by the level above."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict
from core.pages import message_errors, paginate, run_service
from orgs.permissions import READER_ROLES, scope_for
from orgs.selectors import ancestors_of, member_get_for, organisation_get_for

from .. import selectors, services
from ..forms import ExemptionDecisionForm, ExemptionForm, OrgExemptionForm
from ..models import Exemption, ExemptionStatus
from ..permissions import can_decide_exemption, can_defer, can_exempt_org, can_propose_exemption, can_revoke_exemption


@require_http_methods(["GET", "POST"])
def exemption_create(request, pk):
    member = member_get_for(request.user, pk, predicate=can_defer)
    campaign = selectors.current_campaign()
    if campaign is None:
        raise Http404
    kinds = [Exemption.Kind.DEFER] + ([Exemption.Kind.EXEMPT] if can_propose_exemption(request.user, member) else [])
    form = ExemptionForm(request.POST or None, initial={"kind": Exemption.Kind.DEFER}, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if run_service(form, lambda: services.exemption_propose(
                actor=request.user, member=member, campaign=campaign, kind=d["kind"], reason=d["reason"],
                makeup_due=d["makeup_due"])):
            if d["kind"] == Exemption.Kind.EXEMPT:
                messages.success(request, f"已提交“{member.name}”免于承诺的申请，待上级党组织审核认同。")
            else:
                messages.success(request, f"已为“{member.name}”办理延期承诺。")
            return redirect("commitments:branch_pledges", pk=member.branch_id)
    return render(request, "commitments/exemption_form.html", {
        "form": form, "member": member, "campaign": campaign,
        "ancestors": ancestors_of(member.branch) + [member.branch]})


@require_GET
def exemption_list(request):
    """免于或延期承诺: the proposals the user may decide first, then every record in reach."""
    campaign = selectors.campaign_from_request(request)
    if campaign is None or not scope_for(request.user).has_any(READER_ROLES):
        raise Http404
    status = request.GET.get("status", "")
    status = status if status in ExemptionStatus.values else ""
    page = paginate(request, selectors.exemption_list_for(request.user, campaign=campaign, status=status))
    for e in page:
        e.can_decide = (e.status == ExemptionStatus.PROPOSED and e.member_id is not None
                        and can_decide_exemption(request.user, e))
        e.can_revoke = e.is_live and can_revoke_exemption(request.user, e)
    return render(request, "commitments/exemption_list.html", {
        "page": page, "campaign": campaign, "status": status,
        "filters": [("", "全部")] + list(ExemptionStatus.choices)})


def _back(request):
    """To the page the form was on (a local ?next=), else the exemption list."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/"):
        return redirect(target)
    return redirect("commitments:exemption_list")


@require_POST
def exemption_decide(request, pk):
    exemption = selectors.exemption_get_for(request.user, pk, can_decide_exemption)
    form = ExemptionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择审核意见。")
        return _back(request)
    d = form.cleaned_data
    try:
        services.exemption_decide(actor=request.user, exemption=exemption, version=d["version"],
                                  approve=d["decision"] == "approve", note=d["note"])
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
    else:
        verdict = "认同" if d["decision"] == "approve" else "不予认同"
        messages.success(request, f"已{verdict}“{exemption.member.name}”免于承诺的申请。")
    return _back(request)


@require_POST
def exemption_made_up(request, pk):
    exemption = selectors.exemption_get_for(request.user, pk, lambda u, e: e.member_id and can_defer(u, e.member))
    try:
        services.exemption_make_up(actor=request.user, exemption=exemption)
    except (ValidationError, Conflict) as exc:
        message_errors(request, exc)
    else:
        messages.success(request, f"已登记“{exemption.member.name}”补课。")
    return redirect("commitments:branch_pledges", pk=exemption.member.branch_id)


@require_POST
def exemption_revoke(request, pk):
    exemption = selectors.exemption_get_for(request.user, pk, can_revoke_exemption)
    try:
        services.exemption_revoke(actor=request.user, exemption=exemption)
    except Conflict as exc:
        message_errors(request, exc)
    else:
        messages.success(request, f"已撤销“{exemption.subject_name}”的{exemption.get_kind_display()}。")
    if exemption.member_id and not request.POST.get("next"):
        return redirect("commitments:branch_pledges", pk=exemption.member.branch_id)
    return _back(request)


@require_http_methods(["GET", "POST"])
def organisation_exemption_create(request, pk):
    org = organisation_get_for(request.user, pk, predicate=can_exempt_org)
    campaign = selectors.current_campaign()
    if campaign is None:
        raise Http404
    form = OrgExemptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.organisation_exempt(actor=request.user, organisation=org,
                                                                  campaign=campaign,
                                                                  reason=form.cleaned_data["reason"])):
            messages.success(request, f"已认同“{org.name}”本年度免于承诺。")
            return redirect("commitments:exemption_list")
    return render(request, "commitments/org_exemption_form.html", {
        "form": form, "org": org, "campaign": campaign, "ancestors": ancestors_of(org)})
