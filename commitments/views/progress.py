"""践诺 pages: an item-by-item record of progress with evidence, its public timeline, and the
only ways evidence files leave the server (each download checked and audited)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.pages import run_service

from .. import selectors, services
from ..forms_progress import ProgressEntryForm
from ..lifecycle import is_in_force
from ..permissions import can_record_progress
from .crumbs import commitment_crumb, public_commitment_trail
from .files import file_response


@require_GET
def progress_page(request, pk):
    """The commitment's items with their statuses and every progress entry, for its readers."""
    commitment = selectors.commitment_get_for(request.user, pk)
    if not is_in_force(commitment):
        raise Http404
    return render(request, "commitments/progress/progress_page.html", {
        "c": commitment, **selectors.progress_page_for(commitment),
        "can_record": can_record_progress(request.user, commitment),
        "trail": [commitment_crumb(commitment)],
    })


@require_GET
def branch_progress(request):
    """本支部践诺情况: a member's page of the records their branch shows its members (四（四）)."""
    return render(request, "commitments/progress/branch_progress.html", {
        "campaign": (campaign := selectors.campaign_from_request(request)),
        **selectors.branch_progress_for(request.user, campaign=campaign, page_number=request.GET.get("page")),
    })


@require_http_methods(["GET", "POST"])
def progress_record(request, pk):
    """Record one dated entry (what was done, its effect, evidence, scope) on a published item."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_record_progress)
    if not is_in_force(commitment):
        raise Http404
    rows = selectors.progress_items_for(commitment)
    if request.method == "POST":
        form = ProgressEntryForm(request.POST, request.FILES, items=rows)
        if form.is_valid():
            data = form.cleaned_data
            ok = run_service(form, lambda: services.progress_record(
                actor=request.user, commitment=commitment, item_id=data["item"], happened_on=data["happened_on"],
                done=data["done"], effect=data["effect"], completes_item=data["completes_item"],
                visibility=data["visibility"], files=data["files"]))
            if ok:
                messages.success(request, "践诺记录已登记。")
                return redirect("commitments:progress", pk=commitment.pk)
    else:
        item = request.GET.get("item", "")
        form = ProgressEntryForm(items=rows, initial={
            "happened_on": timezone.localdate(), "item": int(item) if item.isdigit() else None})
    return render(request, "commitments/progress/progress_record.html", {
        "c": commitment, "form": form,
        "trail": [commitment_crumb(commitment), ("践诺记录", reverse("commitments:progress", args=[commitment.pk]))],
    })


def _file_response(request, attachment, *, public: bool):
    try:
        handle = services.attachment_download(actor=request.user, attachment=attachment, public=public)
    except (PermissionDenied, FileNotFoundError):
        raise Http404 from None
    return file_response(handle, content_type=attachment.content_type, filename=attachment.original_name,
                         is_image=attachment.is_image,
                         cache_control="private, no-store" if not public else "public, max-age=300")


@require_GET
def attachment_download(request, pk):
    """An evidence file, for the commitment's readers (owner, officers, reviewers)."""
    return _file_response(request, selectors.attachment_get_for(request.user, pk), public=False)


@login_not_required
@require_GET
def public_progress(request, pk):
    """The noticeboard's 践诺 timeline: public entries of a published commitment only."""
    commitment = selectors.public_commitment(pk)
    owner_org = commitment.owner_org
    return render(request, "commitments/progress/public_progress.html", {
        "c": commitment, "owner_org": owner_org,
        **selectors.progress_page_for(commitment, public_only=True),
        "trail": public_commitment_trail(commitment, owner_org),
    })


@login_not_required
@require_GET
def public_attachment(request, pk):
    """An evidence file of a public entry (公示), for anyone."""
    return _file_response(request, selectors.public_attachment_get(pk), public=True)
