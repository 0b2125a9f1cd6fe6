"""The organisation tree loads level by level: top organisations and their children on the
page, deeper levels on demand (or with ?open= without JavaScript), and a search with paths."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orgs import tree
from orgs.models import Organisation, OrgKind
from tests.conftest import make_member, make_org

TREE = reverse("orgs:tree")
XHR = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def _children(client, org, **extra):
    return client.get(reverse("orgs:tree_children", args=[org.pk]), **extra)


def test_tree_draws_tops_and_children_with_counts(world, as_user):
    html = as_user(world.city_secretary).get(TREE).content.decode()
    assert "中共珠海市直属机关工作委员会" in html and "市某局机关党委" in html and "市另一局党组" in html
    assert "第一党支部" not in html and "第三党支部" not in html  # grandchildren load on demand
    assert "2 个下级 · 5 名党员" in html  # the root: two committees, five members in all
    assert "3 个下级 · 4 名党员" in html  # the committee: a, a2, b, c
    # A collapsed node's control is a link that works without JavaScript, and names what it opens.
    assert f'href="{TREE}?open={world.committee.pk}#org-{world.committee.pk}"' in html
    assert f'data-children-url="{reverse("orgs:tree_children", args=[world.committee.pk])}"' in html
    assert 'aria-expanded="false"' in html and "市某局机关党委的下级组织" in html
    assert 'src="/static/js/org-tree.js"' in html


def test_open_draws_the_chain_down_to_an_organisation(world, as_user):
    client = as_user(world.city_secretary)
    html = client.get(TREE, {"open": world.general.pk}).content.decode()
    assert "第一党支部" in html and "综合党总支" in html and "第三党支部" in html
    assert "第四党支部" not in html  # the other committee stays collapsed
    assert "1 个下级 · 1 名党员" in html  # 综合党总支
    # An open node's control closes it: back to its parent opened.
    assert f'href="{TREE}?open={world.committee.pk}#org-{world.general.pk}"' in html
    assert client.get(TREE, {"open": "x"}).status_code == 404


def test_open_outside_scope_is_404(world, as_user):
    client = as_user(world.committee_secretary)
    assert client.get(TREE, {"open": world.branch_d.pk}).status_code == 404
    assert client.get(TREE, {"open": world.general.pk}).status_code == 200


def test_children_fragment_and_plain_link(world, as_user):
    client = as_user(world.committee_secretary)
    response = _children(client, world.committee, **XHR)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert [m for m in re.findall(r'class="tree-name" href="[^"]+">([^<]+)<', html)] == [
        "第一党支部", "第二党支部", "综合党总支"]
    assert "2 名党员" in html and "1 个下级 · 1 名党员" in html
    # Without JavaScript the URL is the tree opened there.
    response = _children(client, world.general)
    assert response.status_code == 302
    assert response["Location"] == f"{TREE}?open={world.general.pk}#org-{world.general.pk}"
    assert _children(client, world.committee2, **XHR).status_code == 404


def test_inactive_children_are_left_out_and_not_counted(world, as_user):
    Organisation.objects.filter(pk=world.branch_b.pk).update(is_active=False)
    html = _children(as_user(world.committee_secretary), world.committee, **XHR).content.decode()
    assert "第二党支部" not in html
    html = as_user(world.committee_secretary).get(TREE).content.decode()
    assert "2 个下级" in html


def test_search_lists_matches_with_their_path(world, as_user):
    client = as_user(world.city_secretary)
    html = client.get(TREE, {"q": "第三"}).content.decode()
    assert "第三党支部" in html and "第一党支部" not in html
    assert "中共珠海市直属机关工作委员会 › 市某局机关党委 › 综合党总支" in html
    assert f"{TREE}?open={world.branch_c.pk}#org-{world.branch_c.pk}" in html
    html = client.get(TREE, {"q": "c2-d"}).content.decode()  # a code, any case
    assert "第四党支部" in html and "（共 1 个）" in html


def test_member_counts_follow_the_expanded_levels(world):
    # Counted once per shown node: members directly in a committee count for it too.
    make_member(world.branch_c, "赵六")
    counts = tree._member_counts([world.root.path], [world.root.path, world.committee.path])
    paths = [o.path for o in (world.root, world.committee, world.general, world.committee2, world.branch_a)]
    assert tree._totals(counts, paths) == dict(zip(paths, [6, 5, 2, 1, 2]))


def _grow(world, n):
    """n more committees under the root, each with n branches with members, and a deeper level."""
    for i in range(n):
        committee = make_org(world.root, f"扩展党委{n}-{i}", OrgKind.COMMITTEE, code=f"X{n}-{i}")
        for j in range(n):
            branch = make_org(committee, f"扩展党总支{n}-{i}-{j}", OrgKind.GENERAL_BRANCH, code=f"X{n}-{i}-{j}")
            make_member(make_org(branch, f"扩展支部{n}-{i}-{j}", code=f"X{n}-{i}-{j}-B"), f"党员{n}{i}{j}")


def _queries(client, url, **extra):
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **extra).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url", ["tree", "open", "children", "search"])
def test_query_counts_do_not_grow_with_the_tree(world, as_user, url):
    client = as_user(world.city_secretary)

    def count():
        first = Organisation.objects.get(code="X2-0")  # the open chain: root → X2-0 → its children
        return _queries(client, {
            "tree": TREE, "open": f"{TREE}?open={first.pk}",
            "children": reverse("orgs:tree_children", args=[world.root.pk]), "search": f"{TREE}?q=党",
        }[url], **XHR)

    _grow(world, 2)
    small = count()
    _grow(world, 6)
    assert count() == small


def test_many_children_come_a_page_at_a_time(world, as_user, monkeypatch):
    monkeypatch.setattr(tree, "CHILDREN_SHOWN", 2)
    client = as_user(world.committee_secretary)
    html = client.get(TREE).content.decode()
    # 第一、第二 drawn (by sort order, then name), 综合党总支 behind a "more" link to page 2.
    assert "第一党支部" in html and "第二党支部" in html and "综合党总支" not in html
    more = f'{reverse("orgs:tree_children", args=[world.committee.pk])}?page=2'
    assert f'href="{more}" data-tree-more>显示更多下级（还有 1 个）' in html
    fragment = client.get(more, **XHR).content.decode()
    assert "综合党总支" in fragment and "第一党支部" not in fragment and "data-tree-more" not in fragment
    assert "1 个下级 · 1 名党员" in fragment
    # Without JavaScript the same link is a page of its own, with the tree's breadcrumbs.
    page = client.get(more).content.decode()
    assert "市某局机关党委的下级组织" in page and "综合党总支" in page and "共 3 个，第 2 页" in page
    # An organisation on the ?open= chain is drawn even past the first page.
    html = client.get(TREE, {"open": world.general.pk}).content.decode()
    assert "综合党总支" in html and "第三党支部" in html and "还有 0 个" not in html
    assert client.get(more.replace("page=2", "page=x"), **XHR).status_code == 200


def test_slow_member_counts_are_cached_and_say_when(world, as_user, settings):
    """As on the coverage dashboard: a count that took COVERAGE_CACHE_MIN_SECONDS (here: any) is
    kept, the page says when it was counted, and ?fresh=1 counts again."""
    from django.core.cache import cache

    cache.clear()
    settings.COVERAGE_CACHE_SECONDS, settings.COVERAGE_CACHE_MIN_SECONDS = 300, 0
    client = as_user(world.committee_secretary)
    first = client.get(TREE).content.decode()
    assert "4 名党员" in first and 'data-testid="counted-at"' not in first
    make_member(world.branch_b, "新来的")
    cached = client.get(TREE).content.decode()
    assert "3 个下级 · 4 名党员" in cached and 'data-testid="counted-at"' in cached and "每5分钟更新" in cached
    assert "3 个下级 · 5 名党员" in client.get(TREE, {"fresh": "1"}).content.decode()
    assert "3 个下级 · 5 名党员" in client.get(TREE).content.decode()
    cache.clear()
