"""覆盖情况 (六（一）加强领导和指导, 六（三）确保全面覆盖): the coverage dashboard of a subtree and
the lists behind each of its figures. Readers of an organisation (its officers and the
administrators over it) see its subtree; anything else is a 404."""
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from commitments import selectors
from commitments.models import CommitmentStatus
from commitments.permissions import can_defer, can_exempt_org, can_start_org_commitment, can_start_pledge
from core.pages import paginate
from evaluations.models import Fulfilment
from orgs.models import MemberCategory
from orgs.permissions import READER_ROLES, scope_for
from orgs.selectors import organisation_get_for
from portal import coverage

COVERAGE_ROWS_PER_PAGE = 50


def _org_from_request(request):
    """?org=<pk> if the user reads it (else 404); by default the user's top reading root."""
    pk = request.GET.get("org")
    if pk:
        return organisation_get_for(request.user, pk)
    scope = scope_for(request.user)
    roots = scope.roots(READER_ROLES)
    if not roots:
        raise Http404
    org_id = next(g.organisation_id for g in scope.grants if g.path == roots[0] and g.role in READER_ROLES)
    return organisation_get_for(request.user, org_id)


def _context(request):
    """The organisation, the campaign and what every coverage page shows above its content."""
    org = _org_from_request(request)
    campaign = selectors.campaign_from_request(request)
    year = {"campaign": campaign.year} if campaign is not None else {}
    base_query = urlencode({"org": org.pk, **year})
    ancestors = selectors.visible_ancestors(request.user, org)
    # Breadcrumbs: each ancestor's coverage, then (on the lists) this organisation's dashboard.
    url = reverse("portal:coverage")
    trail = [(a.name, f"{url}?{urlencode({'org': a.pk, **year})}") for a in ancestors]
    return org, campaign, {
        "org": org, "campaign": campaign, "campaigns": selectors.campaign_list(),
        "ancestors": ancestors,
        "base_query": base_query,
        "trail": trail, "list_trail": [*trail, (org.name, f"{url}?{base_query}")],
        "dashboard_title": f"{org.name} · 覆盖情况",
        # ?own=1: the organisation's own rows only (the 本级 line of the dashboard), not its subtree.
        "own": request.GET.get("own") == "1",
    }


def _query(org, campaign, **extra) -> str:
    return urlencode({"org": org.pk, "campaign": campaign.year, **extra})


@require_GET
def coverage_dashboard(request):
    """Figures over the organisation's subtree for one campaign, per direct child, with charts."""
    org, campaign, ctx = _context(request)
    if campaign is None:
        return render(request, "portal/coverage/dashboard.html", ctx)
    cov = coverage.coverage_for(request.user, org, campaign, fresh=request.GET.get("fresh") == "1")
    # A province's top level has hundreds of children: the table and the charts show a page of them
    # (the totals cover all).
    rows = Paginator(cov.rows, COVERAGE_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    for row in rows:
        # The organisation's own line links to lists of its own rows, not of its whole subtree.
        row.query = _query(row.org, campaign, own=1) if row.is_self else _query(row.org, campaign)
    roots = scope_for(request.user).roots(READER_ROLES)
    return render(request, "portal/coverage/dashboard.html", {
        **ctx, "cov": cov, "t": cov.total, "rows": rows,
        "chart_data": cov.chart_data(rows=[r for r in rows if not r.is_self]),
        "cache_minutes": max(1, settings.COVERAGE_CACHE_SECONDS // 60),
        # Users with several separate subtrees switch between their tops here.
        "tops": coverage.organisations_at(roots) if len(roots) > 1 else [],
    })


@require_GET
def coverage_members(request):
    """Registered members under the organisation in one state (blank spots by default: 空白点)."""
    org, campaign, ctx = _context(request)
    if campaign is None:
        raise Http404
    today = timezone.localdate()
    state = request.GET.get("state", "blank")
    state = state if state in coverage.MEMBER_STATE_GROUPS else ""
    category = request.GET.get("category", "")
    category = category if category in MemberCategory.values else ""
    qs = coverage.member_list(org, campaign, state=state, own=ctx["own"], today=today)
    counts, counted_at = coverage.member_state_counts(org, campaign, today, own=ctx["own"],
                                                      fresh=request.GET.get("fresh") == "1")
    if category:
        qs = qs.filter(category=category)
        page = paginate(request, qs)
    else:
        # The per-state counts already say how long the list is (no second count of the register).
        states = coverage.MEMBER_STATE_GROUPS[state][1] if state else counts.keys()
        page = paginate(request, qs, count=sum(counts[s] for s in states))
    is_current = campaign.pk == getattr(selectors.current_campaign(), "pk", None)
    for m in page:
        # The pledge and exemption pages act on the current campaign only.
        m.can_pledge = (is_current and not m.pledge_pk and m.state in ("blank", "made_up", "pending_makeup",
                                                                       "overdue_makeup")
                        and can_start_pledge(request.user, m))
        m.can_excuse = is_current and m.state == "blank" and can_defer(request.user, m)
        # 补课 is recorded once the pledge is submitted (the row then shows the pledge's state).
        m.can_make_up = (m.excuse_kind == "defer" and m.made_up_on is None and m.state in coverage.PLEDGED_STATES
                         and can_defer(request.user, m))
        m.is_blank = m.state in coverage.BLANK_STATES
        m.state_label = coverage.member_state_label(m.state)
    return render(request, "portal/coverage/members.html", {
        **ctx, "page": page, "state": state, "category": category, "categories": MemberCategory.choices,
        "filters": [(key, label, sum(counts[s] for s in states))
                    for key, (label, states) in coverage.MEMBER_STATE_GROUPS.items()
                    if key not in coverage.PLEDGED_STATES],
        "total": sum(counts.values()),
        "title": coverage.MEMBER_STATE_GROUPS[state][0] if state else "全部在册党员",
        "counted_at": counted_at, "cache_minutes": max(1, settings.COVERAGE_CACHE_SECONDS // 60),
        "today": today,
    })


ORG_STATE_LABELS = {"blank": "空白点（未填写或草稿未提交）", coverage.NONE: "尚未填写承诺",
                    coverage.DRAFT: "草稿未提交", "committed": "已承诺（已提交）",
                    **{s: f"承诺{coverage.state_label(s)}" for s in coverage.PLEDGED_STATES},
                    "exempt": "免于承诺（上级已认同）"}


@require_GET
def coverage_orgs(request):
    """Organisations under the organisation that must commit, by the state of their commitment."""
    org, campaign, ctx = _context(request)
    if campaign is None:
        raise Http404
    state = request.GET.get("state", "")
    state = state if state in ORG_STATE_LABELS else ""
    page = paginate(request, coverage.org_list(org, campaign, state=state, own=ctx["own"]))
    is_current = campaign.pk == getattr(selectors.current_campaign(), "pk", None)
    for o in page:
        o.can_start = is_current and o.commitment_state == coverage.NONE and can_start_org_commitment(request.user, o)
        o.can_exempt = (is_current and o.commitment_state == coverage.NONE and not o.excuse_pk
                        and can_exempt_org(request.user, o))
        o.is_blank = o.commitment_state in coverage.ORG_BLANK_STATES
        o.state_label = ORG_STATE_LABELS[o.commitment_state]
    return render(request, "portal/coverage/orgs.html", {
        **ctx, "page": page, "state": state, "title": ORG_STATE_LABELS.get(state, "应承诺的党组织"),
        "filters": [("", "全部")] + [(k, v) for k, v in ORG_STATE_LABELS.items()],
    })


COMMITMENT_STATE_LABELS = {
    **{key: f"{step}：{label}" for key, label, step in coverage.FUNNEL},
    "stamped": "亮诺：已归档盖章件", "unstamped": "亮诺：已公开、未归档盖章件",
    "fulfilled": "考核结果：已兑现", "partly": "考核结果：基本兑现", "unfulfilled": "考核结果：未兑现",
    "overdue": "有逾期未完成事项",
    **{s.value: f"状态：{s.label}" for s in CommitmentStatus if s != CommitmentStatus.WITHDRAWN},
}


@require_GET
def coverage_commitments(request):
    """Commitments under the organisation at one step of the funnel, with one assessment result,
    or with items overdue; of organisations, members or both."""
    org, campaign, ctx = _context(request)
    if campaign is None:
        raise Http404
    state = request.GET.get("state", "")
    state = state if state in COMMITMENT_STATE_LABELS else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in coverage.KINDS else ""
    page = paginate(request, coverage.commitment_list(org, campaign, state=state, kind=kind, own=ctx["own"]))
    for c in page:
        c.result_label = Fulfilment(c.latest_result).label if c.latest_result else ""
    return render(request, "portal/coverage/commitments.html", {
        **ctx, "page": page, "state": state, "kind": kind,
        "title": COMMITMENT_STATE_LABELS.get(state, "全部承诺"),
        "kind_label": coverage.KIND_LABELS.get(kind, ""),
        "kinds": [("", "全部")] + list(coverage.KIND_LABELS.items()),
        "filters": [("", "全部")] + list(COMMITMENT_STATE_LABELS.items()),
    })
