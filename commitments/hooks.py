"""Registries that the apps above commitments fill in at start-up (their AppConfig.ready), so that
a commitment's page can show what they add without commitments importing them
(docs/ARCHITECTURE.md)."""
from collections.abc import Callable

# Providers of extra context for a commitment's page: provider(commitment) -> dict. evaluations
# adds its 评诺 summary (ratings, assessment, result) this way.
_detail_providers: list[Callable] = []


def register_detail_context(provider: Callable) -> None:
    """Add provider(commitment) -> dict to the commitment page's context (once per provider)."""
    if provider not in _detail_providers:
        _detail_providers.append(provider)


def detail_context(commitment) -> dict:
    """What the registered providers add to a commitment's page."""
    context = {}
    for provider in _detail_providers:
        context.update(provider(commitment))
    return context
