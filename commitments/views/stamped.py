"""亮诺 after printing: upload the signed and stamped form, look at a scan, withdraw it, choose what
the noticeboard shows; and the public view of a scan chosen for the noticeboard.

The officers who publish the commitment manage its scans; the owner member sees their own
pledge's; everyone else gets a 404, as for a scan that does not exist.
"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict
from core.pages import attach_errors, message_errors, run_service

from .. import selectors, selectors_stamped, services
from ..forms_stamped import StampedScanDisplayForm, StampedScanUploadForm, StampedScanWithdrawForm
from ..models import ScanDisplay, StampedCopy
from ..permissions import can_manage_stamped_scans
from .crumbs import commitment_crumb
from .files import file_response


@require_http_methods(["GET", "POST"])
def stamped_scan_upload(request, pk):
    """Upload a scan or photo of one signed and stamped copy of a published version."""
    commitment = selectors.commitment_get_for(request.user, pk, predicate=can_manage_stamped_scans)
    versions = selectors_stamped.published_versions_of(commitment)
    if not versions:
        raise Http404
    kwargs = {"commitment": commitment, "versions": versions}
    if request.method == "POST":
        form = StampedScanUploadForm(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            if run_service(form, lambda: services.stamped_scan_upload(
                    actor=request.user, commitment=commitment, version_id=data["version"], copy=data["copy"],
                    upload=data["file"], public_display=data["public_display"])):
                messages.success(request, "盖章的承诺书已上传存档。" + (
                    "已在公示栏显示。" if data["public_display"] != ScanDisplay.NONE else ""))
                return redirect("commitments:detail", pk=commitment.pk)
    else:
        wanted = request.GET.get("version", "")
        chosen = next((v.pk for v in versions if str(v.pk) == wanted), versions[0].pk)
        form = StampedScanUploadForm(initial={"version": chosen, "public_display": ScanDisplay.NONE}, **kwargs)
    return render(request, "commitments/stamped/upload.html", {
        "c": commitment, "form": form, "trail": [commitment_crumb(commitment)]})


def _scan_page(request, scan, *, display_form=None, withdraw_form=None):
    commitment = scan.commitment
    can_manage = can_manage_stamped_scans(request.user, commitment) and not scan.is_withdrawn
    if can_manage:
        display_form = display_form or StampedScanDisplayForm(
            initial={"revision": scan.revision, "public_display": scan.public_display}, commitment=commitment)
        withdraw_form = withdraw_form or StampedScanWithdrawForm(initial={"revision": scan.revision})
    return render(request, "commitments/stamped/scan_detail.html", {
        "c": commitment, "scan": scan, "can_manage": can_manage,
        "may_display": scan.copy == StampedCopy.PUBLIC and scan.version_id == commitment.public_version_id,
        "display_form": display_form, "withdraw_form": withdraw_form,
        "trail": [commitment_crumb(commitment), (f"第{scan.version.number}版", reverse(
            "commitments:version", args=[commitment.pk, scan.version.number]))],
        "current": f"{scan.copy_label}联盖章件",
    })


@require_GET
def stamped_scan_detail(request, pk):
    """One scan: which version and copy, who uploaded it when, the file; the managers' actions."""
    return _scan_page(request, selectors_stamped.stamped_scan_get_for(request.user, pk))


@require_GET
def stamped_scan_file(request, pk):
    """The file as uploaded (an image opens, a PDF downloads); each opening is audited."""
    scan = selectors_stamped.stamped_scan_get_for(request.user, pk)
    try:
        handle = services.stamped_scan_download(actor=request.user, scan=scan)
    except (PermissionDenied, FileNotFoundError):
        raise Http404 from None
    return file_response(handle, content_type=scan.content_type, filename=scan.original_name, is_image=scan.is_image,
                         cache_control="private, no-store")


def _post(request, scan, form, call, done: str, form_key: str):
    """Run a manager's action on a scan from its page: back to the page on success or when someone
    else moved the scan on (with the message), the page with the form's errors otherwise."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except Conflict as exc:
            message_errors(request, exc)
            return redirect("commitments:stamped_scan", pk=scan.pk)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("commitments:stamped_scan", pk=scan.pk)
    return _scan_page(request, scan, **{form_key: form})


@require_POST
def stamped_scan_display(request, pk):
    """Choose whether and how the noticeboard shows this scan of the 公示 copy."""
    scan = selectors_stamped.stamped_scan_get_for(request.user, pk, predicate=can_manage_stamped_scans)
    form = StampedScanDisplayForm(request.POST, commitment=scan.commitment)
    return _post(request, scan, form, lambda data: services.stamped_scan_set_display(
        actor=request.user, scan=scan, revision=data["revision"], display=data["public_display"]),
        "公示栏显示方式已保存。", "display_form")


@require_POST
def stamped_scan_withdraw(request, pk):
    """Withdraw a mistaken or replaced scan, with a reason; it stays on record."""
    scan = selectors_stamped.stamped_scan_get_for(request.user, pk, predicate=can_manage_stamped_scans)
    form = StampedScanWithdrawForm(request.POST)
    return _post(request, scan, form, lambda data: services.stamped_scan_withdraw(
        actor=request.user, scan=scan, revision=data["revision"], reason=data["reason"]),
        "扫描件已撤回，记录仍然保留。", "withdraw_form")


@login_not_required
@require_GET
def public_stamped_scan(request, pk):
    """A scan chosen for the noticeboard, for anyone; 404 for every other scan. Not audited: it is
    public by the officers' audited choice, and the public page shows it inline on every visit.
    Revalidated on each use (ETag), so a withdrawn scan leaves at once."""
    scan = selectors_stamped.public_stamped_scan_get(pk)
    etag = f'"{scan.sha256[:32]}-{scan.revision}"'
    max_age = getattr(settings, "PUBLIC_PAGE_MAX_AGE", 0)
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
    try:
        handle = selectors_stamped.public_file_of(scan)
    except FileNotFoundError:
        raise Http404 from None
    return file_response(handle, content_type=scan.content_type, filename=scan.original_name, is_image=scan.is_image,
                         cache_control=f"public, max-age={max_age}", etag=etag)
