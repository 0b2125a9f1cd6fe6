"""Links to organisation pages only for those who may open them: an ancestor a branch officer or a
member cannot open is drawn as plain text, never as a link to a 404."""
from django import template
from django.urls import reverse

from orgs.permissions import can_browse_org

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context, org) -> str:
    """The organisation page's address if the viewer may open it, else "". Works inside
    `{% include … only %}` too: the request stays on the context."""
    request = getattr(context, "request", None)
    user = getattr(request, "user", None)
    if user is None or not can_browse_org(user, org):
        return ""
    return reverse("orgs:detail", args=[org.pk])
