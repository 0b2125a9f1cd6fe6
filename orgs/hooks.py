"""Registries that the apps above orgs fill in at start-up (their AppConfig.ready), so that orgs'
pages can show what those apps add without orgs importing them (docs/ARCHITECTURE.md). Events go
the other way through orgs/signals.py."""
from collections.abc import Callable

# Providers of extra context for an organisation's page: provider(user, org) -> dict. The
# commitments app adds its buttons (起草本组织承诺, 群众意见, 参考条目) this way.
_org_page_providers: list[Callable] = []


def register_org_page_context(provider: Callable) -> None:
    """Add provider(user, org) -> dict to the organisation page's context (once per provider)."""
    if provider not in _org_page_providers:
        _org_page_providers.append(provider)


def org_page_context(user, org) -> dict:
    """What the registered providers add to the organisation page for this user."""
    context = {}
    for provider in _org_page_providers:
        context.update(provider(user, org))
    return context
