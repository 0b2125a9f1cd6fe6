from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top layer: pages that gather every app (home and to-dos, coverage, ledger, reminders,
    the public noticeboard) and the demo, scale and backup commands. Nothing imports it."""

    name = "portal"
    verbose_name = "综合页面"
