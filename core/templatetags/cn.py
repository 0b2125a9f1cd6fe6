"""Chinese dates for templates: {{ d|cn_date }} → 2010年10月31日, {{ d|cn_month }} → 1975年3月."""
import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def cn_date(value) -> str:
    """2010年10月31日; aware datetimes are shown in local time; ISO strings (frozen snapshots) too."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def cn_month(value) -> str:
    """1975年3月."""
    if not value:
        return ""
    return f"{value.year}年{value.month}月"


@register.filter
def cn_datetime(value) -> str:
    """2010年10月31日 14:05."""
    if not value:
        return ""
    value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"


@register.filter
def days_until(value) -> int | None:
    """Whole days from today to the date (negative once it has passed)."""
    if not value:
        return None
    return (value - timezone.localdate()).days
