"""Plain Chinese 403/404/500 pages with DEBUG off: no traceback, no SQL, nothing about what exists.

The module doubles as a URLconf: the project's URLs plus views that fail on purpose.
"""
import re

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import ProgrammingError
from django.test import Client
from django.urls import path, reverse

from config.urls import urlpatterns as project_urlpatterns
from tests.commitments.publishing import published
from tests.conftest import login

SQL = 'SELECT "orgs_member"."id_number" FROM "orgs_member" WHERE secret_column = 42'


@login_not_required
def broken_view(request):
    raise ProgrammingError(f'column "secret_column" does not exist\nLINE 1: {SQL}')


@login_not_required
def forbidden_view(request):
    raise PermissionDenied("only the secretary of 第一党支部 may do this")


urlpatterns = [path("test-broken/", broken_view), path("test-forbidden/", forbidden_view), *project_urlpatterns]
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
handler403 = "config.errors.permission_denied"

pytestmark = pytest.mark.urls(__name__)

LEAKS = ("Traceback", "SELECT", "secret_column", "orgs_member", "ProgrammingError", "File \"", "line ",
         "Django", "DEBUG", "第一党支部")


def unmasked(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def assert_no_leak(html: str):
    for text in LEAKS:
        assert text not in html, text


def test_debug_is_off_under_the_tests(settings):
    assert settings.DEBUG is False


def test_a_failing_view_gives_the_plain_500_page(db, settings):
    response = Client(raise_request_exception=False).get("/test-broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "系统暂时出现问题" in html and "返回首页" in html and 'lang="zh-CN"' in html
    assert_no_leak(html)


def test_the_500_page_for_a_signed_in_user_shows_no_detail_either(world):
    client = login(Client(raise_request_exception=False), world.secretary_a)
    response = client.get("/test-broken/")
    assert response.status_code == 500
    assert "系统暂时出现问题" in response.content.decode()
    assert_no_leak(response.content.decode())


def test_unknown_url_gives_the_chinese_404_page(world):
    client = login(Client(), world.secretary_a)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在或您无权查看" in html
    assert "/no/such/page/" not in html and "Using the URLconf" not in html
    assert_no_leak(html)


def test_an_object_out_of_reach_is_the_same_404_as_a_missing_one(world):
    c = published(world, member=world.member_a)
    client = login(Client(), world.secretary_b)  # branch B's secretary: branch A is out of reach
    forbidden = client.get(reverse("commitments:detail", args=[c.pk]))
    missing = client.get(reverse("commitments:detail", args=[c.pk + 1000]))
    assert forbidden.status_code == missing.status_code == 404
    assert "页面不存在或您无权查看" in forbidden.content.decode()
    # Identical but for the masked CSRF token of the logout form.
    assert unmasked(forbidden) == unmasked(missing)
    assert "李娜" not in forbidden.content.decode()


def test_an_unknown_public_page_is_a_404_for_the_public_too(world):
    response = Client().get(reverse("portal:public_org", args=[999999]))
    assert response.status_code == 404
    assert "页面不存在或您无权查看" in response.content.decode()


def test_permission_denied_gives_the_chinese_403_page(db):
    response = Client().get("/test-forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "您无权进行此操作" in html
    assert_no_leak(html)


def test_a_post_without_a_csrf_token_gives_the_chinese_403_page(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "secretary_a", "password": "x"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期，请刷新后重试" in html
    assert "CSRF" not in html and "Forbidden" not in html and "Referer" not in html
