"""Reads for the stamped paper forms scanned back after 亮诺 (services/stamped.py): the archive list
of a commitment or a version for those who may see it, one scan (404 for missing and forbidden
alike), and what the noticeboard shows (only scans chosen for it, of the public version)."""
from django.db.models import F, QuerySet
from django.http import Http404

from orgs.selectors import get_visible_or_404

from . import uploads
from .models import Commitment, CommitmentVersion, ScanDisplay, StampedCopy, StampedScan
from .permissions import can_view_stamped_scans


def published_versions_of(commitment: Commitment) -> list[CommitmentVersion]:
    """The versions of a commitment that were published (a scan is uploaded against one), newest first."""
    return list(CommitmentVersion.objects.filter(commitment=commitment, publications__isnull=False)
                .distinct().order_by("-number"))


def stamped_scans_of(commitment: Commitment, *, version: CommitmentVersion | None = None) -> list[StampedScan]:
    """Every scan of a commitment (or of one version), withdrawn ones too, newest version first, with
    their uploader and withdrawer (one query; each scan's `commitment` is the one given)."""
    qs = StampedScan.objects.filter(commitment=commitment).select_related("version", "uploaded_by", "withdrawn_by")
    if version is not None:
        qs = qs.filter(version=version)
    scans = list(qs.order_by("-version__number", "withdrawn_at", "-id"))
    for scan in scans:
        scan.commitment = commitment
    return scans


def stamped_scan_get_for(user, pk, *, predicate=can_view_stamped_scans) -> StampedScan:
    """One scan of a commitment whose scans the user may see (or manage, per `predicate`); else 404."""
    queryset = StampedScan.objects.select_related(
        "commitment", "commitment__organisation", "commitment__organisation__parent", "commitment__member",
        "commitment__member__branch", "commitment__public_version", "commitment__campaign", "version",
        "uploaded_by", "withdrawn_by")
    return get_visible_or_404(queryset, pk, lambda scan: predicate(user, scan.commitment))


def _shown() -> QuerySet[StampedScan]:
    """Scans the noticeboard shows: of the 公示 copy, chosen for it, not withdrawn, of the version
    that is public now (a scan of a superseded version leaves the board with its version)."""
    # ... and only while the commitment is on the noticeboard at all (网络 among its channels).
    return (StampedScan.objects.filter(copy=StampedCopy.PUBLIC, withdrawn_at__isnull=True,
                                       version_id=F("commitment__public_version_id"),
                                       commitment__online_since__isnull=False)
            .exclude(public_display=ScanDisplay.NONE))


def public_stamped_scans(commitment: Commitment) -> list[StampedScan]:
    """The scans a published commitment's public page shows, in upload order (one query)."""
    scans = list(_shown().filter(commitment=commitment).select_related("version").order_by("id"))
    for scan in scans:
        scan.commitment = commitment
    return scans


def public_stamped_scan_get(pk) -> StampedScan:
    """A scan the noticeboard shows; 404 for anything else (not chosen, withdrawn, another copy,
    a superseded version, unknown)."""
    try:
        return _shown().get(pk=pk)
    except (StampedScan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def public_file_of(scan: StampedScan):
    """The open file the public is shown for such a scan: an image's display copy, or the PDF."""
    return open(uploads.stamped_path(scan.display_path or scan.path), "rb")  # noqa: SIM115 - FileResponse closes it
