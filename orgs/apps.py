from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "组织与党员"

    def ready(self):
        from . import checks, signals  # noqa: F401  (registers the system checks, connects the audit receivers)
