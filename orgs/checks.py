"""System checks for settings the security rules depend on (run by every manage.py command)."""
from django.conf import settings
from django.core.checks import Error, register

# 网络安全法 第二十一条: network logs are kept for no less than six months.
MIN_AUDIT_RETENTION_DAYS = 180


@register()
def audit_retention_check(app_configs=None, **kwargs):
    """AUDIT_RETENTION_DAYS is the minimum the audit trail is kept online; the application itself
    never deletes audit rows, so this guards the operators' archiving policy set in settings."""
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if isinstance(days, bool) or not isinstance(days, int) or days < MIN_AUDIT_RETENTION_DAYS:
        return [Error(
            f"审计日志保存期限 AUDIT_RETENTION_DAYS={days!r} 少于{MIN_AUDIT_RETENTION_DAYS}天。",
            hint=f"网络安全法要求网络日志留存不少于六个月：请设为不小于{MIN_AUDIT_RETENTION_DAYS}的整数。",
            id="orgs.E001",
        )]
    return []
