"""Exemption (免于承诺), deferral (延期承诺) and make-up (补课) of members who cannot pledge now."""
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from orgs.selectors import ancestors_of, member_get_for
from orgs.views import run_service

from .. import selectors, services
from ..forms import ExemptionForm
from ..models import Exemption
from ..permissions import can_defer, can_exempt


@require_http_methods(["GET", "POST"])
def exemption_create(request, pk):
    member = member_get_for(request.user, pk, predicate=can_defer)
    campaign = selectors.current_campaign()
    if campaign is None:
        raise Http404
    form = ExemptionForm(request.POST or None, initial={"kind": Exemption.Kind.DEFER})
    if not can_exempt(request.user, member):
        # Officers record deferrals; only secretaries approve an exemption.
        form.fields["kind"].choices = [(Exemption.Kind.DEFER, Exemption.Kind.DEFER.label)]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if run_service(form, lambda: services.exemption_grant(
                actor=request.user, member=member, campaign=campaign, kind=d["kind"], reason=d["reason"],
                makeup_due=d["makeup_due"])):
            messages.success(request, f"已为“{member.name}”办理{Exemption.Kind(d['kind']).label}。")
            return redirect("commitments:branch_pledges", pk=member.branch_id)
    return render(request, "commitments/exemption_form.html", {
        "form": form, "member": member, "campaign": campaign,
        "ancestors": ancestors_of(member.branch) + [member.branch]})


def _exemption_for(request, pk, predicate):
    """The exemption if the user passes `predicate` on its member; otherwise 404."""
    exemption = get_object_or_404(Exemption.objects.select_related("member__branch"), pk=pk)
    if not predicate(request.user, exemption.member):
        raise Http404
    return exemption


@require_POST
def exemption_made_up(request, pk):
    exemption = _exemption_for(request, pk, can_defer)
    try:
        services.exemption_make_up(actor=request.user, exemption=exemption)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已登记“{exemption.member.name}”补课。请为其填写承诺。")
    return redirect("commitments:branch_pledges", pk=exemption.member.branch_id)


@require_POST
def exemption_revoke(request, pk):
    exemption = get_object_or_404(Exemption.objects.select_related("member__branch"), pk=pk)
    predicate = can_exempt if exemption.kind == Exemption.Kind.EXEMPT else can_defer
    if not predicate(request.user, exemption.member):
        raise Http404
    services.exemption_revoke(actor=request.user, exemption=exemption)
    messages.success(request, f"已撤销“{exemption.member.name}”的{exemption.get_kind_display()}。")
    return redirect("commitments:branch_pledges", pk=exemption.member.branch_id)
