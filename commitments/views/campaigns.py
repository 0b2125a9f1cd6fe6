"""Campaign years: the list everyone signed in can read, set-up by root administrators."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.pages import run_service

from .. import selectors, services
from ..forms import CampaignForm
from ..models import Campaign
from ..permissions import can_manage_campaigns


@require_GET
def campaign_list(request):
    """Every campaign year with its deadlines; last years' stay readable."""
    return render(request, "commitments/campaign_list.html", {
        "campaigns": selectors.campaign_list(), "can_manage": can_manage_campaigns(request.user)})


@require_http_methods(["GET", "POST"])
def campaign_create(request):
    if not can_manage_campaigns(request.user):
        raise Http404
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = {}
        if run_service(form, lambda: result.setdefault("c", services.campaign_create(
                actor=request.user, data=form.cleaned_data))):
            messages.success(request, f"已新建活动年度“{result['c'].name}”。")
            return redirect("commitments:campaign_list")
    return render(request, "commitments/campaign_form.html", {"form": form, "campaign": None})


@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk):
    if not can_manage_campaigns(request.user):
        raise Http404
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.campaign_update(
                actor=request.user, campaign=campaign, data=form.cleaned_data)):
            messages.success(request, "活动年度已保存。")
            return redirect("commitments:campaign_list")
    return render(request, "commitments/campaign_form.html", {"form": form, "campaign": campaign})
