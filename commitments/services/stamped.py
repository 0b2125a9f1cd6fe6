"""亮诺 after printing (四（三）): the form is printed in triplicate, signed, stamped (盖章) and put
on the noticeboard; staff scan or photograph the stamped paper and upload it against the published
version it carries. The scan is the archive copy. A mistaken or replaced one is withdrawn with a
reason, never deleted, so the history stays.

A scan of the 公示 copy of the public version may be chosen for the online noticeboard, beside or
instead of the text the system shows there; all displayed scans of one version (the pages of one
form, say) share one way of being shown. Files are checked and stored like evidence
(commitments/uploads.py) under MEDIA_ROOT/stamped; images also get an upright, phone-sized copy
without metadata, which is what the public is shown.

Who: the officers who publish the commitment (can_manage_stamped_scans); the owner member may
view their own pledge's scans. Every write re-checks that, validates, changes the row by
compare-and-set on `revision` (a stale form loses with a Chinese message) and writes its audit row
in the same transaction; a write the noticeboard can show makes the public pages stale.
"""
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from orgs import audit

from .. import public_cache, uploads
from ..models import Commitment, CommitmentVersion, ScanDisplay, StampedCopy, StampedScan
from ..permissions import can_manage_stamped_scans, can_view_stamped_scans

STALE = "该盖章件已被他人撤回或修改，请刷新页面后重试。"
ONLY_PUBLIC_COPY = "只有“公示”联的扫描件可以在公示栏显示。"
ONLY_PUBLIC_VERSION = "只有现行公开版本的公示联可以在公示栏显示。"
REASON_MAX = 200


def _display_errors(display: str, *, copy: str, version_id, public_version_id) -> list[str]:
    if display not in ScanDisplay.values:
        return ["请选择是否在公示栏显示。"]
    if display == ScanDisplay.NONE:
        return []
    if copy != StampedCopy.PUBLIC:
        return [ONLY_PUBLIC_COPY]
    if version_id is not None and version_id != public_version_id:
        return [ONLY_PUBLIC_VERSION]
    return []


def _align_display(scan: StampedScan, display: str) -> list[int]:
    """The other displayed scans of the same version take the same way of being shown (the
    noticeboard shows one form one way); their ids."""
    if display == ScanDisplay.NONE:
        return []
    others = (StampedScan.objects.filter(commitment_id=scan.commitment_id, version_id=scan.version_id,
                                         withdrawn_at__isnull=True)
              .exclude(pk=scan.pk).exclude(public_display__in=(ScanDisplay.NONE, display)))
    ids = list(others.values_list("pk", flat=True))
    if ids:
        StampedScan.objects.filter(pk__in=ids).update(public_display=display, revision=F("revision") + 1)
    return ids


def stamped_scan_upload(*, actor, commitment: Commitment, version_id, copy: str, upload,
                        public_display: str = ScanDisplay.NONE) -> StampedScan:
    """The officers who publish the commitment upload a scan or photo of one stamped copy of a
    published version, optionally choosing it for the noticeboard."""
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "public_version")
                  .get(pk=commitment.pk))
    if not can_manage_stamped_scans(actor, commitment):
        raise PermissionDenied
    published = {v.pk: v for v in CommitmentVersion.objects.filter(commitment=commitment,
                                                                    publications__isnull=False).distinct()}
    if not published:
        raise Conflict("该承诺尚未公开。登记公开后，才能上传签字盖章的承诺书。")
    errors: dict[str, list[str]] = {}
    try:
        version = published.get(int(version_id))
    except (TypeError, ValueError):
        version = None
    if version is None:
        errors["version"] = ["请选择已公开的版本。"]
    if copy not in StampedCopy.values:
        errors["copy"] = ["请选择扫描的是哪一联。"]
    if display_errors := _display_errors(public_display, copy=copy, version_id=version.pk if version else None,
                                         public_version_id=commitment.public_version_id):
        errors["public_display"] = display_errors
    checked = None
    if upload is None:
        errors["file"] = ["请选择要上传的扫描件或照片。"]
    else:
        try:
            checked = uploads.check_upload(upload, limit=settings.STAMPED_SCAN_MAX_BYTES,
                                           max_pages=settings.STAMPED_SCAN_MAX_PAGES, default_name="扫描件")
        except ValidationError as exc:
            errors["file"] = exc.messages
    if errors:
        raise ValidationError(errors)
    shown = uploads.display_copy(checked) if checked["pages"] is None else None

    written = []
    try:
        with transaction.atomic():
            written.append(uploads.write(checked, uploads.STAMPED_DIR))
            if shown is not None:
                written.append(uploads.write(shown, uploads.STAMPED_DIR))
            scan = StampedScan.objects.create(
                commitment=commitment, version=version, copy=copy, path=written[0],
                display_path=written[1] if shown is not None else "", original_name=checked["original_name"],
                content_type=checked["content_type"], size=checked["size"], sha256=checked["sha256"],
                pages=checked["pages"], width=shown["width"] if shown else None,
                height=shown["height"] if shown else None, public_display=public_display, uploaded_by=actor)
            aligned = _align_display(scan, public_display)
            audit.record(actor=actor, action="stamped_scan.upload", obj=scan, organisation=commitment.owner_org,
                         detail={"commitment": commitment.pk, "version": version.number, "copy": copy,
                                 "sha256": checked["sha256"], "size": checked["size"], "pages": checked["pages"],
                                 "display": public_display, "aligned": aligned})
            if public_display != ScanDisplay.NONE:
                public_cache.changed()
    except BaseException:
        # The row is gone with the transaction; the files must go too (as for evidence).
        for relative in written:
            uploads.stamped_path(relative).unlink(missing_ok=True)
        raise
    return scan


def _locked(scan: StampedScan) -> StampedScan:
    return (StampedScan.objects.select_for_update(of=("self",))
            .select_related("commitment", "commitment__organisation", "commitment__member__branch", "version")
            .get(pk=scan.pk))


def _check_revision(scan: StampedScan, revision) -> None:
    if scan.revision != revision:
        raise Conflict(STALE)


@transaction.atomic
def stamped_scan_set_display(*, actor, scan: StampedScan, revision: int, display: str) -> StampedScan:
    """The officers who publish the commitment choose whether and how the noticeboard shows a scan
    of the 公示 copy of the public version: not at all, beside or instead of the system's text."""
    scan = _locked(scan)
    commitment = scan.commitment
    if not can_manage_stamped_scans(actor, commitment):
        raise PermissionDenied
    _check_revision(scan, revision)
    if scan.is_withdrawn:
        raise Conflict("该盖章件已撤回，不能在公示栏显示。")
    if errors := _display_errors(display, copy=scan.copy, version_id=scan.version_id,
                                 public_version_id=commitment.public_version_id):
        raise ValidationError({"public_display": errors})
    if display == scan.public_display:
        return scan
    updated = (StampedScan.objects.filter(pk=scan.pk, revision=revision, withdrawn_at__isnull=True)
               .update(public_display=display, revision=F("revision") + 1))
    if updated != 1:
        raise Conflict(STALE)
    before = scan.public_display
    scan.refresh_from_db()
    aligned = _align_display(scan, display)
    audit.record(actor=actor, action="stamped_scan.display", obj=scan, organisation=commitment.owner_org,
                 detail={"commitment": commitment.pk, "version": scan.version.number, "from": before, "to": display,
                         "aligned": aligned})
    public_cache.changed()
    return scan


@transaction.atomic
def stamped_scan_withdraw(*, actor, scan: StampedScan, revision: int, reason: str) -> StampedScan:
    """The officers who publish the commitment withdraw a mistaken or replaced scan, with a reason;
    the row and the file stay on record, and it leaves the noticeboard."""
    scan = _locked(scan)
    commitment = scan.commitment
    if not can_manage_stamped_scans(actor, commitment):
        raise PermissionDenied
    if scan.is_withdrawn:
        raise Conflict("该盖章件已被他人撤回，请刷新页面查看。")
    _check_revision(scan, revision)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请填写撤回原因。"]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"撤回原因不超过{REASON_MAX}字。"]})
    was_displayed = scan.public_display
    updated = (StampedScan.objects.filter(pk=scan.pk, revision=revision, withdrawn_at__isnull=True)
               .update(withdrawn_at=timezone.now(), withdrawn_by=actor, withdraw_reason=reason,
                       public_display=ScanDisplay.NONE, revision=F("revision") + 1))
    if updated != 1:
        raise Conflict(STALE)
    scan.refresh_from_db()
    audit.record(actor=actor, action="stamped_scan.withdraw", obj=scan, organisation=commitment.owner_org,
                 detail={"commitment": commitment.pk, "version": scan.version.number, "copy": scan.copy,
                         "reason": reason, "was_displayed": was_displayed, "sha256": scan.sha256})
    if was_displayed != ScanDisplay.NONE:
        public_cache.changed()
    return scan


@transaction.atomic
def stamped_scan_download(*, actor, scan: StampedScan):
    """The officers who publish the commitment, and the owner member, open a scan as uploaded
    (withdrawn ones too: they are on record); each opening is audited."""
    commitment = scan.commitment
    if not can_view_stamped_scans(actor, commitment):
        raise PermissionDenied
    handle = open(uploads.stamped_path(scan.path), "rb")  # noqa: SIM115 - FileResponse closes it
    audit.record(actor=actor, action="stamped_scan.download", obj=scan, organisation=commitment.owner_org,
                 detail={"commitment": commitment.pk, "version": scan.version_id, "sha256": scan.sha256})
    return handle

