"""Deployment checks of the settings the printed forms depend on (`manage.py check --deploy`)."""
import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "0.0.0.0", "::"}


def _is_local(host: str) -> bool:
    host = host.strip("[]").lower()
    if not host or host in _LOCAL_NAMES or host.endswith((".localhost", ".local", ".localdomain")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." not in host  # a bare machine name only resolves on the machine's own network
    return address.is_loopback or address.is_unspecified or address.is_link_local


@register(Tags.security, deploy=True)
def site_url_check(app_configs=None, **kwargs):
    """SITE_URL is printed as the 公示 copy's QR code and address and sent in e-mails: paper on a
    noticeboard cannot be corrected once posted, so production refuses an unset or local address."""
    url = (getattr(settings, "SITE_URL", "") or "").strip()
    parts = urlsplit(url)
    problem = ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = f"SITE_URL={url!r} 不是完整的网址"
    elif _is_local(parts.hostname):
        problem = f"SITE_URL={url!r} 指向本机"
    elif getattr(settings, "SECURE_SSL_REDIRECT", False) and parts.scheme != "https":
        problem = f"SITE_URL={url!r} 不是 https 网址，而系统只用 HTTPS 提供服务"
    if not problem:
        return []
    return [Error(
        f"{problem}：公示联上的二维码和网址、通知邮件中的链接都会指向无法访问的地址。",
        hint="在环境变量中把 SITE_URL 设为群众访问本系统的正式网址，如 https://dj.example.gov.cn。",
        id="commitments.E001",
    )]
