"""六（二）督促检查 during the year: while 群众评议 is open, the reviewing organisation and those above
see an interim 满意率 and may order rectification from it; the order says so. The owner (the
member, the owner organisation's officers) and the public never see the interim figure."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from evaluations.models import RectificationOrder
from evaluations.permissions import can_see_interim_satisfaction
from evaluations.results_export import _rectification
from evaluations.selectors import summary_for
from orgs.models import AuditEvent
from tests.evaluations.builders import closed_window, open_window

from .builders import CLOSED, DAY, OPEN, complete_items, ordered, published_org, published_pledge, tally

pytestmark = pytest.mark.django_db
GROUND = "评议期间的阶段性群众满意率低于70%"
FIGURE = "33.3"


@pytest.fixture
def pledge(world):
    """member_a's pledge (reviewed by branch A), every item done, one meeting tally: 1 satisfied,
    2 unsatisfied, i.e. 33.3 %."""
    c = published_pledge(world)
    complete_items(world, c)
    tally(world, c, satisfied=1, unsatisfied=2)
    return c


def test_interim_rate_only_while_the_window_is_open(world, pledge):
    assert summary_for(pledge, today=OPEN).interim_rate == 33.3
    assert summary_for(pledge, today=OPEN).interim_below_threshold
    assert summary_for(pledge, today=OPEN).verdict.satisfaction_rate is None  # the verdict still withholds it
    assert summary_for(pledge, today=CLOSED).interim_rate is None
    assert summary_for(pledge, today=DAY(2010, 10, 31)).interim_rate is None  # before the window


def test_who_may_see_the_interim_figure(world, pledge):
    org = published_org(world)  # branch A's own commitment, reviewed by the committee
    may = can_see_interim_satisfaction
    # A member's pledge: its branch reviews it (六（二）各党支部要加强对党员承诺的监督), and those above.
    assert may(world.secretary_a, pledge) and may(world.committee_secretary, pledge) and may(world.city_secretary, pledge)
    assert not may(world.member_user_a, pledge) and not may(world.staff_a, pledge)
    assert not may(world.secretary_b, pledge) and not may(world.outsider, pledge)
    # An organisation's commitment: its own officers are the owner; the parent reviews it.
    assert may(world.committee_secretary, org) and not may(world.secretary_a, org) and not may(world.staff_a, org)


def test_order_during_the_window_on_the_interim_rate_says_so(world, pledge):
    order = ordered(world, pledge, actor=world.secretary_a, today=OPEN, grounds=GROUND + "。")
    assert order.interim_basis and order.issuer_org == world.branch_a
    event = AuditEvent.objects.get(action="rectification.issue")
    assert event.detail["basis"] == [GROUND] and event.detail["interim_rate"] == 33.3
    summary = summary_for(pledge, today=OPEN)
    assert "依据评议期间的阶段性满意率" in _rectification(summary, OPEN)


def test_interim_rate_at_the_threshold_is_no_ground(world):
    c = published_pledge(world)
    complete_items(world, c)
    tally(world, c, satisfied=5, basic=2, unsatisfied=3)  # exactly 70 %
    with pytest.raises(ValidationError):
        ordered(world, c, actor=world.secretary_a, today=OPEN)
    assert not RectificationOrder.objects.exists()


def test_owner_cannot_order_on_the_interim_rate(world, pledge):
    for actor in (world.staff_a, world.member_user_a):
        with pytest.raises(PermissionDenied):
            ordered(world, pledge, actor=actor, today=OPEN)


def test_order_after_the_window_is_not_interim(world, pledge):
    order = ordered(world, pledge, actor=world.secretary_a, today=CLOSED)
    assert not order.interim_basis


# --- pages ---------------------------------------------------------------------------------

def page(client, c):
    response = client.get(reverse("evaluations:detail", args=[c.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_reviewer_and_above_see_the_interim_figure_on_the_evaluation_page(world, pledge, as_user):
    open_window(world)
    for user in (world.secretary_a, world.committee_secretary):
        html = page(as_user(user), pledge)
        assert "阶段性满意率" in html and f"{FIGURE}%" in html and "低于70%" in html
        assert GROUND in html  # offered as a ground of the order
        assert reverse("evaluations:rectify", args=[pledge.pk]) in html


def test_owner_and_public_do_not_see_the_interim_figure(world, pledge, as_user):
    open_window(world)
    for user in (world.staff_a, world.member_user_a):
        html = page(as_user(user), pledge)
        assert "阶段性满意率" not in html and FIGURE not in html and "评议结束后计算" in html
    list_html = as_user(world.staff_a).get(reverse("evaluations:list")).content.decode()
    assert "阶段性满意率" not in list_html and FIGURE not in list_html
    public = Client().get(reverse("portal:public_commitment", args=[pledge.pk])).content.decode()
    assert "满意率" not in public and FIGURE not in public


def test_owner_officers_of_an_organisation_do_not_see_it(world, as_user):
    org = published_org(world)
    tally(world, org, satisfied=1, unsatisfied=2)
    open_window(world)
    assert "阶段性满意率" not in page(as_user(world.secretary_a), org)
    assert "阶段性满意率" in page(as_user(world.committee_secretary), org)


def test_not_shown_once_the_window_is_closed(world, pledge, as_user):
    closed_window(world)
    html = page(as_user(world.secretary_a), pledge)
    assert "阶段性满意率" not in html and "满意率</dt>" in html and f"{FIGURE}%" in html  # the final rate


def test_reviewer_orders_from_the_page_and_the_owner_reads_the_basis_not_the_figure(world, pledge, as_user):
    open_window(world)
    response = as_user(world.secretary_a).post(reverse("evaluations:rectify", args=[pledge.pk]), {
        "rectify-grounds": GROUND + "。", "rectify-required_actions": "走访群众、改进服务并报告。",
        "rectify-deadline": "2099-01-31"})
    assert response.status_code == 302
    order = RectificationOrder.objects.get()
    assert order.interim_basis
    for user in (world.member_user_a, world.staff_a):
        html = page(as_user(user), pledge)
        assert "依据评议期间的阶段性满意率" in html and FIGURE not in html
    lst = as_user(world.staff_a).get(reverse("evaluations:rectifications")).content.decode()
    assert "依据评议期间的阶段性满意率" in lst
