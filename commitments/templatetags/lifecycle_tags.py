"""The status badge, drawn from the lifecycle's table: {% status_badge status label %}."""
from django import template
from django.utils.html import format_html

from commitments.lifecycle import STATUS_BADGES

register = template.Library()


@register.simple_tag
def status_badge(status, label="") -> str:
    """A commitment status as a coloured badge; any other state (coverage's 已免于承诺, say) plain,
    with its own label."""
    if status in STATUS_BADGES:
        css, text = STATUS_BADGES[status]
        return format_html('<span class="badge {}">{}</span>', css, text)
    return format_html('<span class="badge text-bg-light border">{}</span>', label)
