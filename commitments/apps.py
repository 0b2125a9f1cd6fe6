from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "公开承诺"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deployment checks)
