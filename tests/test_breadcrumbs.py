"""components/breadcrumbs.html is the one breadcrumb trail: no other template draws its own."""
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.template.loader import render_to_string
from django.urls import reverse

# Being rewritten elsewhere; they keep their own markup until then.
SKIPPED = {"components/breadcrumbs.html", "orgs/import_crumbs.html", "orgs/org_import_crumbs.html"}


def _render(context, user=None):
    request = RequestFactory().get("/")
    request.user = user if user is not None else AnonymousUser()
    return render_to_string("components/breadcrumbs.html", context, request=request)


def test_ancestors_trail_then_current_in_order(world):
    html = _render({
        "ancestors": [world.committee],
        "trail": [("审计日志", "/audit/"), ("第二项", "/second/?a=1&b=2")],
        "current": "第3号记录",
    }, world.committee_secretary)
    home = f'<a href="{reverse("home")}">首页</a>'
    org = f'<a href="{reverse("orgs:detail", args=[world.committee.pk])}">{world.committee.name}</a>'
    first, second = '<a href="/audit/">审计日志</a>', '<a href="/second/?a=1&amp;b=2">第二项</a>'
    current = '<li class="breadcrumb-item active" aria-current="page">第3号记录</li>'
    positions = [html.index(part) for part in (home, org, first, second, current)]
    assert positions == sorted(positions)
    assert html.count('aria-current="page"') == 1
    assert '<nav aria-label="当前位置" class="mb-3">' in html
    assert '<ol class="breadcrumb">' in html


def test_an_ancestor_the_viewer_cannot_open_is_plain_text(world):
    """A branch secretary sees the parent committee's name, not a link that answers 404."""
    html = _render({"ancestors": [world.root, world.committee, world.branch_a], "current": "x"},
                   world.secretary_a)
    assert world.committee.name in html and world.root.name in html
    assert reverse("orgs:detail", args=[world.committee.pk]) not in html
    assert reverse("orgs:detail", args=[world.root.pk]) not in html
    assert f'<a href="{reverse("orgs:detail", args=[world.branch_a.pk])}">' in html


def test_labels_are_escaped():
    html = render_to_string("components/breadcrumbs.html", {
        "trail": [("<b>x</b>", "/x/")], "current": "<i>y</i>"})
    assert "<b>" not in html and "<i>" not in html


def test_public_starts_from_the_noticeboard():
    html = render_to_string("components/breadcrumbs.html", {
        "public": True, "trail": [("某支部", "/p/1/")], "current": "群众评议"})
    assert f'<a href="{reverse("portal:noticeboard")}">公示栏</a>' in html
    assert "首页" not in html
    assert html.index("公示栏") < html.index("某支部") < html.index('aria-current="page">群众评议')


def test_no_template_hand_rolls_breadcrumbs():
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    assert roots
    offenders = [
        str(path.relative_to(root))
        for root in roots for path in root.rglob("*.html")
        if str(path.relative_to(root)) not in SKIPPED and "breadcrumb-item" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
