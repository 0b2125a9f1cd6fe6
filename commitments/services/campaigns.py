"""Campaign years: set up by the administrators of a whole tree."""
from django.core.exceptions import PermissionDenied
from django.db import transaction

from orgs import audit

from .. import public_cache
from ..models import Campaign
from ..permissions import can_manage_campaigns

CAMPAIGN_FIELDS = ("name", "year", "pledge_deadline", "publish_deadline", "evaluation_deadline",
                   "leader_min_items", "is_current", "evaluation_opens", "weight_leader", "weight_public",
                   "weight_assessment", "satisfaction_threshold", "committing_kinds", "exemption_approver_depth")


@transaction.atomic
def campaign_create(*, actor, data: dict) -> Campaign:
    """A root administrator opens a campaign year; marking it current unmarks the others."""
    if not can_manage_campaigns(actor):
        raise PermissionDenied
    campaign = Campaign(**{k: data[k] for k in CAMPAIGN_FIELDS if k in data})
    if campaign.is_current:
        # Unset first so the one-current constraint holds; a failed validation rolls this back.
        Campaign.objects.filter(is_current=True).update(is_current=False)
    campaign.full_clean()
    campaign.save()
    audit.record(actor=actor, action="campaign.create", obj=campaign, detail={"year": campaign.year})
    public_cache.changed()
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, data: dict) -> Campaign:
    """A root administrator changes a campaign's name, deadlines or settings."""
    if not can_manage_campaigns(actor):
        raise PermissionDenied
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    changes = {}
    for key in CAMPAIGN_FIELDS:
        if key in data and data[key] != getattr(campaign, key):
            changes[key] = [str(getattr(campaign, key)), str(data[key])]
            setattr(campaign, key, data[key])
    if campaign.is_current and "is_current" in changes:
        Campaign.objects.filter(is_current=True).exclude(pk=campaign.pk).update(is_current=False)
    campaign.full_clean()
    campaign.save()
    audit.record(actor=actor, action="campaign.update", obj=campaign, detail={"changes": changes})
    public_cache.changed()
    return campaign
