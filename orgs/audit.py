"""The one function every app writes its audit entries through.

The client address is taken from a context variable that AuditContextMiddleware sets per
request, so services record it without taking the request as an argument.
"""
from contextvars import ContextVar

from django.db import models

from .models import AuditEvent

client_ip_var: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)


def record(*, actor, action: str, obj: models.Model | None = None, organisation=None,
           result: str = "success", detail: dict | None = None) -> AuditEvent:
    """Append one audit row. Call it inside the transaction of the action it records."""
    if organisation is None and obj is not None:
        organisation = _organisation_of(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=_display_name(user) if user else "匿名",
        organisation=organisation,
        client_ip=client_ip_var.get(),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        result=result,
        detail=detail or {},
    )


def _display_name(user) -> str:
    full = f"{user.last_name}{user.first_name}".strip()
    return f"{full}({user.get_username()})" if full else user.get_username()


def _organisation_of(obj):
    from .models import Member, Organisation, RoleGrant

    if isinstance(obj, Organisation):
        return obj
    if isinstance(obj, Member):
        return obj.branch
    if isinstance(obj, RoleGrant):
        return obj.organisation
    # A member's pledge belongs to the member's branch; an organisation's commitment to the organisation.
    member = getattr(obj, "member", None)
    if isinstance(member, Member):
        return member.branch
    return getattr(obj, "organisation", None)
