from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "evaluations"
    verbose_name = "评诺"

    def ready(self):
        # Imported here: selectors use the models, not loaded yet when apps.py is.
        from commitments import hooks as commitment_hooks

        from .selectors import commitment_page_context

        # A commitment's page shows its 评诺 summary (commitments draws it, evaluations computes it).
        commitment_hooks.register_detail_context(commitment_page_context)
