"""Breadcrumb links to a commitment's pages: the trail= pairs for components/breadcrumbs.html."""
from django.urls import reverse


def commitment_crumb(commitment) -> tuple[str, str]:
    """(label, url) of the commitment's own page, e.g. 张三的党员承诺."""
    return f"{commitment.owner_name}的{commitment.kind_label}", reverse("commitments:detail", args=[commitment.pk])


def public_commitment_label(commitment) -> str:
    """How the noticeboard names a commitment in its crumbs: the member, or 本组织承诺."""
    return commitment.member.name if commitment.member_id else "本组织承诺"


def public_commitment_trail(commitment, owner_org) -> list[tuple[str, str]]:
    """The noticeboard crumbs after 公示栏 down to a published commitment: its owning organisation, then it."""
    return [
        (owner_org.name, reverse("portal:public_org", args=[owner_org.pk])),
        (public_commitment_label(commitment), reverse("portal:public_commitment", args=[commitment.pk])),
    ]
