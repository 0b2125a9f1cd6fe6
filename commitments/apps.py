from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "公开承诺"

    def ready(self):
        from orgs.signals import member_transferred, organisation_moved

        from . import checks  # noqa: F401  (registers the deployment checks)
        from .services import moves

        # Commitments follow their owner when orgs moves it (orgs declares the hooks).
        member_transferred.connect(moves.on_member_transferred, dispatch_uid="commitments.follow_member")
        organisation_moved.connect(moves.on_organisation_moved, dispatch_uid="commitments.follow_organisation")
