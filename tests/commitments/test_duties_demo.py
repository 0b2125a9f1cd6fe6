"""Every demo role's home page lists exactly that person's to-dos (the demo of `seed_demo`, in a
campaign year whose deadlines have all passed)."""
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

User = get_user_model()

EXPECTED = {
    "admin": ["党组织未设监督电话"],
    "security": [],
    "auditor": [],
    # The city level: its own pledge, who is behind below, the reviews waiting below.
    "reviewer": ["填写我的公开承诺", "下级 57 个党组织逾期未提交承诺", "下级组织 6 条待审核", "党员信息待补全",
                 "党组织未设监督电话"],
    "city_secretary": ["填写我的公开承诺", "下级 57 个党组织逾期未提交承诺", "下级组织 6 条待审核", "党员信息待补全",
                       "党组织未设监督电话"],
    # The committee: its own commitment, its branches, the branch commitment it reviews, the
    # exemption proposal it approves (nobody else is asked to).
    "dw_secretary": ["填写我的公开承诺", "起草中共珠海市发展和改革局机关委员会的公开承诺", "下级 5 个党组织逾期未提交承诺",
                     "1 条待审核", "下级组织 5 条待审核", "1 条免于承诺待审核认同", "党员信息待补全",
                     "党组织未设监督电话"],
    # The branch: the pledge drafted for the secretary waits for him; the members not yet pledged,
    # the returned and the unpublished pledges, the reviews and the assessment are the branch's.
    "zb_secretary": ["确认我的公开承诺", "7 名党员尚未提交承诺", "1 份代拟的承诺被退回", "1 份已审定的承诺尚未公开",
                     "5 条待审核", "1 条待考核", "党员信息待补全"],
    "zb_staff": ["填写我的公开承诺", "7 名党员尚未提交承诺", "1 份代拟的承诺被退回", "1 份已审定的承诺尚未公开",
                 "党员信息待补全"],
    "zb2_secretary": ["填写我的公开承诺", "13 名党员尚未提交承诺", "党员信息待补全"],
    "member": ["提交我的公开承诺"],
    "member2": ["填写我的公开承诺"],
}


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--year", "2010", stdout=io.StringIO())


def _todos(html: str) -> list[str]:
    section = html.split('id="todo-h"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<a href="[^"]*" class="fw-semibold">([^<]+)</a>', section)


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_demo_role_sees_its_own_duties(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    html = client.get(reverse("home")).content.decode()
    assert _todos(html) == EXPECTED[username]
    if not EXPECTED[username]:
        assert "目前没有待办事项" in html


def test_every_demo_to_do_leads_somewhere_its_owner_may_open(demo):
    for username in EXPECTED:
        client = Client()
        client.force_login(User.objects.get(username=username))
        html = client.get(reverse("home")).content.decode()
        section = html.split('id="todo-h"', 1)[1].split("</section>", 1)[0]
        for url in re.findall(r'<a href="([^"]*)" class="fw-semibold">', section):
            assert client.get(url.replace("&amp;", "&")).status_code == 200, (username, url)
