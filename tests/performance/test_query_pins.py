"""Query counts of every list and dashboard page, pinned at 1× and 10× data.

The same pages are requested over two datasets built by seed_scale, one ten times the other; a
page whose query count grows with the data (an N+1) fails here, as does one over the budget of
issue 8 (20 queries per logged-in page). Timings are measured in bench/, never in tests.
"""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments.models import Commitment, CommitmentStatus
from orgs.models import BRANCH_KINDS, Organisation, Role, RoleGrant
from portal.scale import seed_scale

User = get_user_model()
BUDGET = 20
SMALL, LARGE = 150, 1500


def _dataset(members: int, year: int) -> dict:
    seed_scale(members=members, year=year, seed=year, out=lambda *_: None)
    root = Organisation.objects.filter(parent__isnull=True).order_by("-id").first()
    under = Organisation.objects.filter(path__startswith=root.path)
    branch = (under.filter(kind__in=BRANCH_KINDS).order_by("path").first())
    committee = under.filter(depth=1).order_by("path").first()
    published = (Commitment.objects.filter(campaign__year=year, status=CommitmentStatus.PUBLISHED,
                                           member__branch=branch).order_by("id").first())
    org_published = (Commitment.objects.filter(campaign__year=year, status=CommitmentStatus.PUBLISHED,
                                               organisation__path__startswith=root.path).order_by("id").first())
    grant = lambda org, role: RoleGrant.objects.filter(organisation=org, role=role).select_related("user").first().user  # noqa: E731
    return {"root": root, "branch": branch, "committee": committee, "published": published,
            "org_published": org_published, "root_user": grant(root, Role.SECRETARY),
            "admin": grant(root, Role.ADMIN), "branch_user": grant(branch, Role.SECRETARY)}


def pages(d):
    """(label, user key or None for the public, URL[, request headers])."""
    root, branch = d["root"].pk, d["branch"].pk
    return [
        ("首页待办（工委书记）", "root_user", reverse("home")),
        ("首页待办（支部书记）", "branch_user", reverse("home")),
        ("组织树", "root_user", reverse("orgs:tree")),
        ("组织树（展开到支部）", "root_user", reverse("orgs:tree") + f"?open={branch}"),
        ("组织树搜索", "root_user", reverse("orgs:tree") + "?q=党支部"),
        ("组织查找建议", "root_user", reverse("orgs:org_suggest") + "?q=党支部&scope=read"),
        ("下级组织分页", "root_user", reverse("orgs:tree_children", args=[root]) + "?page=1",
         {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}),
        ("组织详情", "root_user", reverse("orgs:detail", args=[d["committee"].pk])),
        ("党员名册第1页", "root_user", reverse("orgs:member_list")),
        ("党员名册第3页", "root_user", reverse("orgs:member_list") + "?page=3"),
        ("账号管理", "admin", reverse("orgs:user_list")),
        ("承诺列表", "root_user", reverse("commitments:list")),
        ("支部党员承诺", "branch_user", reverse("commitments:branch_pledges", args=[branch])),
        ("承诺详情（含版本）", "branch_user", reverse("commitments:detail", args=[d["published"].pk])),
        ("审核队列（工委）", "root_user", reverse("reviews:queue")),
        ("审核队列（支部）", "branch_user", reverse("reviews:queue")),
        ("覆盖情况（根）", "root_user", reverse("portal:coverage") + f"?org={root}"),
        ("覆盖情况（支部）", "branch_user", reverse("portal:coverage") + f"?org={branch}"),
        ("空白点名单", "root_user", reverse("portal:coverage_members") + f"?org={root}&status=blank"),
        ("已归档盖章件名单", "root_user", reverse("portal:coverage_commitments") + f"?org={root}&state=stamped"),
        ("未归档盖章件名单", "root_user", reverse("portal:coverage_commitments") + f"?org={root}&state=unstamped"),
        ("评诺列表", "root_user", reverse("evaluations:list")),
        ("整改", "root_user", reverse("evaluations:rectifications")),
        ("公示首页", None, reverse("portal:noticeboard")),
        ("公示：组织页", None, reverse("portal:public_org", args=[branch])),
        ("公示：承诺页", None, reverse("portal:public_commitment", args=[d["org_published"].pk])),
    ]


def _count(d) -> dict[str, int]:
    counts = {}
    for label, who, url, *headers in pages(d):
        headers = headers[0] if headers else {}
        client = Client()
        if who:
            client.force_login(d[who])
        client.get(url, **headers)  # warm: session, caches that are meant to be warm
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, **headers)
        assert response.status_code == 200, (label, url, response.status_code)
        counts[label] = len(ctx)
    return counts


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_the_data_and_stay_in_budget():
    small = _count(_dataset(SMALL, 2031))
    large = _count(_dataset(LARGE, 2032))
    # A page may need a query less when a list happens to be empty; it may never need more.
    grew = {label: (small[label], large[label]) for label in small if large[label] > small[label]}
    assert not grew, f"query counts grew with 10× data (1×, 10×): {grew}"
    print("\n".join(f"{label}: {small[label]} / {large[label]}" for label in small))
    over = {label: n for label, n in large.items() if n > BUDGET}
    assert not over, f"pages over the budget of {BUDGET} queries: {over}"
