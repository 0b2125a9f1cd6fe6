from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "公开承诺"

    def ready(self):
        # Imported here, not at the top: these modules use the models, which are not loaded when
        # apps.py is (Django's documented place for connecting receivers and registering hooks).
        from orgs import hooks as org_hooks
        from orgs.signals import member_transferred, organisation_moved, public_data_changed

        from . import checks  # noqa: F401  (registers the deployment checks)
        from . import public_cache
        from .permissions import org_page_buttons
        from .services import moves

        # Commitments follow their owner when orgs moves it (orgs declares the hooks).
        member_transferred.connect(moves.on_member_transferred, dispatch_uid="commitments.follow_member")
        organisation_moved.connect(moves.on_organisation_moved, dispatch_uid="commitments.follow_organisation")
        # Organisation names, phones and members show on the noticeboard: renew its page cache.
        public_data_changed.connect(lambda sender, **kwargs: public_cache.changed(), weak=False,
                                    dispatch_uid="commitments.public_cache")
        # The organisation page's buttons for commitments (orgs draws them, commitments decides).
        org_hooks.register_org_page_context(org_page_buttons)
