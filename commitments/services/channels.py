"""亮诺 after the fact: a channel added to the current publication (四（三）).

A commitment published at a 会议 only is not on the internet noticeboard; the branch can put it
there later by adding 网络. A Publication is never changed, so the addition is a new record for
the same version that `supplements` the current one (its channels plus the added ones, dated the
day of the addition): the ledger keeps both, and the noticeboard dates the commitment from the day
it went online (`Commitment.online_since`).
"""
import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from core.templatetags.cn import cn_date
from orgs import audit

from .. import public_cache
from ..models import Commitment, Publication, PublishChannel
from ..permissions import can_publish
from .lifecycle import _check_version, _locked


def current_publication(commitment: Commitment) -> Publication | None:
    """The latest publication record of the commitment's public version, or None."""
    if commitment.public_version_id is None:
        return None
    return (Publication.objects.filter(commitment=commitment, version_id=commitment.public_version_id)
            .order_by("-published_on", "-id").first())


@transaction.atomic
def publication_add_channels(*, actor, commitment: Commitment, version: int, channels: list[str],
                             published_on: datetime.date) -> Publication:
    """Whoever may publish the commitment adds channels (e.g. 网络) to its current publication."""
    commitment = _locked(commitment)
    if not can_publish(actor, commitment):
        raise PermissionDenied
    _check_version(commitment, version)
    current = current_publication(commitment)
    if current is None:
        raise Conflict("该承诺尚未公开，请先登记公开。")
    added = [c for c in PublishChannel.values if c in set(channels) and c not in current.channels]
    errors = {}
    if not added:
        errors["channels"] = "请选择尚未使用的公开方式。"
    if published_on > timezone.localdate():
        errors["published_on"] = "公开日期不能晚于今天。"
    elif published_on < current.published_on:
        errors["published_on"] = f"公开日期不能早于本版本的公开日期（{cn_date(current.published_on)}）。"
    if errors:
        raise ValidationError(errors)
    fields = {"version": F("version") + 1, "updated_at": timezone.now()}
    if PublishChannel.INTERNET in added:
        fields["online_since"] = published_on
    if Commitment.objects.filter(pk=commitment.pk, version=version).update(**fields) != 1:
        raise Conflict("该承诺已被他人修改或处理，请刷新页面后重试。")
    merged = [c for c in PublishChannel.values if c in set(current.channels) | set(added)]
    publication = Publication.objects.create(commitment=commitment, version_id=commitment.public_version_id,
                                             published_on=published_on, channels=merged, supplements=current,
                                             published_by=actor)
    audit.record(actor=actor, action="commitment.publish_channels", obj=commitment,
                 organisation=commitment.owner_org,
                 detail={"version": commitment.public_version.number, "on": published_on.isoformat(),
                         "added": added, "channels": merged})
    public_cache.changed()  # 网络 puts it on the noticeboard
    return publication
