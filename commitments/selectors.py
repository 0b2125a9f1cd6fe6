"""Reads for campaigns and commitments."""
from .models import Campaign


def current_campaign() -> Campaign | None:
    """The campaign marked current, else the latest year's."""
    return Campaign.objects.order_by("-is_current", "-year").first()
