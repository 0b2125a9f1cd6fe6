"""The fields rosters from other systems carry: 党员类型 and 转正时间, dates to the month or the day,
民族, 学历, 籍贯; phone spellings on the member form. Register, detail page and form."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.dates import DateError, PartialDate, cn_partial_date, parse_partial_date
from orgs.models import AuditEvent, DatePrecision, Member, MembershipType
from tests.conftest import make_member

DAY, MONTH = DatePrecision.DAY, DatePrecision.MONTH


# --- dates to the precision given -------------------------------------------------------------

@pytest.mark.parametrize("text,date,precision", [
    ("2016.07", datetime.date(2016, 7, 1), MONTH),
    ("2016-07", datetime.date(2016, 7, 1), MONTH),
    ("2016/7", datetime.date(2016, 7, 1), MONTH),
    ("2016年7月", datetime.date(2016, 7, 1), MONTH),
    ("2016 年 7 月", datetime.date(2016, 7, 1), MONTH),
    ("201607", datetime.date(2016, 7, 1), MONTH),
    ("２０１６．０７", datetime.date(2016, 7, 1), MONTH),
    ("2016.07.00", datetime.date(2016, 7, 1), MONTH),   # some systems write an unknown day as 00
    ("2016-07-01", datetime.date(2016, 7, 1), DAY),
    ("2016.7.1", datetime.date(2016, 7, 1), DAY),
    ("2016/7/15", datetime.date(2016, 7, 15), DAY),
    ("2016年7月15日", datetime.date(2016, 7, 15), DAY),
    ("20160715", datetime.date(2016, 7, 15), DAY),
    ("2016-07-15 00:00:00", datetime.date(2016, 7, 15), DAY),
])
def test_partial_dates_keep_their_precision(text, date, precision):
    assert parse_partial_date(text) == PartialDate(date, precision)


@pytest.mark.parametrize("text,message", [
    ("2016", "只有年份"), ("2016-13", "月份“13”不正确"), ("2016-02-30", "不存在"), ("去年七月", "无法识别"),
])
def test_partial_dates_refused(text, message):
    with pytest.raises(DateError) as exc:
        parse_partial_date(text)
    assert message in str(exc.value)


def test_chinese_display_never_invents_a_day():
    assert cn_partial_date(datetime.date(2016, 7, 1), MONTH) == "2016年7月"
    assert cn_partial_date(datetime.date(2016, 7, 1), DAY) == "2016年7月1日"
    assert cn_partial_date(None, DAY) == ""
    m = Member(joined_party_on=datetime.date(2016, 7, 1), joined_party_precision=MONTH,
               full_member_on=datetime.date(2017, 7, 1))
    assert (m.joined_party_display, m.full_member_display) == ("2016年7月", "2017年7月1日")


# --- the model's checks -----------------------------------------------------------------------

def _member(world, **kw):
    return Member(branch=world.branch_a, name="赵敏", gender="F", birth_month=datetime.date(1990, 5, 1), **kw)


def test_eighteen_years_compared_by_month_at_month_precision(world):
    _member(world, joined_party_on=datetime.date(2008, 5, 1), joined_party_precision=MONTH).clean()
    with pytest.raises(ValidationError) as exc:
        _member(world, joined_party_on=datetime.date(2008, 4, 1), joined_party_precision=MONTH).clean()
    assert "年满十八岁" in exc.value.message_dict["joined_party_on"][0]


def test_month_precision_drops_any_day(world):
    m = _member(world, joined_party_on=datetime.date(2016, 7, 15), joined_party_precision=MONTH)
    m.clean()
    assert m.joined_party_on == datetime.date(2016, 7, 1)


@pytest.mark.parametrize("kw,message", [
    (dict(membership=MembershipType.PROBATIONARY, full_member_on=datetime.date(2017, 7, 1)), "预备党员尚未转正"),
    (dict(full_member_on=datetime.date(2015, 7, 1)), "转正时间应在入党时间之后"),
    (dict(full_member_on=datetime.date(2016, 7, 20), full_member_precision=MONTH), "转正时间应在入党时间之后"),
    (dict(full_member_on=datetime.date(2099, 7, 1)), "不能晚于今天"),
])
def test_full_membership_checks(world, kw, message):
    with pytest.raises(ValidationError) as exc:
        _member(world, joined_party_on=datetime.date(2016, 7, 1), **kw).clean()
    assert message in exc.value.message_dict["full_member_on"][0]


def test_full_member_a_year_later_is_fine(world):
    _member(world, joined_party_on=datetime.date(2016, 7, 1), joined_party_precision=MONTH,
            full_member_on=datetime.date(2017, 7, 1), full_member_precision=MONTH).clean()


# --- the member form --------------------------------------------------------------------------

def _post(world, member, **changes):
    data = {"name": member.name, "gender": member.gender, "birth_month": "1975-03", "post": member.post,
            "joined_party_on": "1998-07-01", "membership": "full", "full_member_on": "", "phone": "",
            "category": "general", "status": "active", "ethnicity": "", "education": "", "native_place": "",
            "note": "", "version": member.version, **changes}
    return data


@pytest.mark.parametrize("written,stored", [
    ("138-2345-6789", "13823456789"), ("+86 13823456789", "13823456789"), ("（0756）2234567", "0756-2234567"),
    ("0756-2234567转801", "0756-2234567-801"),
])
def test_member_form_accepts_phone_spellings_and_stores_one_form(world, as_user, written, stored):
    m = world.member_a
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]), _post(world, m, phone=written))
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.phone == stored


def test_member_form_refuses_an_impossible_phone(world, as_user):
    m = world.member_a
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]),
                                           _post(world, m, phone="138-2345-678"))
    assert response.status_code == 200 and "电话号码格式不正确" in response.content.decode()


def test_member_form_month_only_dates_and_the_new_fields(world, as_user):
    m = world.member_a
    client = as_user(world.staff_a)
    response = client.post(reverse("orgs:member_edit", args=[m.pk]), _post(
        world, m, joined_party_on="2016.07", full_member_on="2017年7月", ethnicity="壮族", education="大学本科",
        native_place="广西桂林"))
    assert response.status_code == 302
    m.refresh_from_db()
    assert (m.joined_party_on, m.joined_party_precision) == (datetime.date(2016, 7, 1), MONTH)
    assert (m.full_member_on, m.full_member_precision) == (datetime.date(2017, 7, 1), MONTH)
    assert (m.ethnicity, m.education, m.native_place) == ("壮族", "大学本科", "广西桂林")
    changes = AuditEvent.objects.filter(action="member.update").latest("id").detail["changes"]
    assert changes["joined_party_precision"] == ["day", "month"]

    page = client.get(reverse("orgs:member_detail", args=[m.pk])).content.decode()
    assert "2016年7月</dd>" in page and "2016年7月1日" not in page and "2017年7月</dd>" in page
    assert "壮族" in page and "大学本科" in page and "广西桂林" in page and "正式党员" in page
    form = client.get(reverse("orgs:member_edit", args=[m.pk])).content.decode()
    assert 'value="2016年7月"' in form and 'value="2017年7月"' in form

    # Back to a full date: the precision follows what was typed.
    client.post(reverse("orgs:member_edit", args=[m.pk]), _post(
        world, Member.objects.get(pk=m.pk), joined_party_on="2016-07-15", full_member_on="2017-07-15"))
    m.refresh_from_db()
    assert (m.joined_party_on, m.joined_party_precision) == (datetime.date(2016, 7, 15), DAY)
    assert m.joined_party_display == "2016年7月15日"


def test_member_form_probationary_member_has_no_full_date(world, as_user):
    m = world.member_a
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]), _post(
        world, m, membership="probationary", full_member_on="2017-07"))
    assert response.status_code == 200 and "预备党员尚未转正" in response.content.decode()
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]), _post(
        world, m, membership="probationary", joined_party_on="2010-03"))
    assert response.status_code == 302
    assert Member.objects.get(pk=m.pk).membership == MembershipType.PROBATIONARY


def test_member_form_bad_date_in_chinese(world, as_user):
    m = world.member_a
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]),
                                           _post(world, m, joined_party_on="2016年13月"))
    assert response.status_code == 200 and "月份“13”不正确" in response.content.decode()


# --- the register -----------------------------------------------------------------------------

def test_register_shows_and_filters_membership_and_month_dates(world, as_user):
    make_member(world.branch_a, "钱预备", membership=MembershipType.PROBATIONARY,
                joined_party_on=datetime.date(2010, 3, 1), joined_party_precision=MONTH)
    client = as_user(world.staff_a)
    page = client.get(reverse("orgs:member_list")).content.decode()
    assert "党员类型" in page and "预备党员" in page and "2010年3月<" in page and "2010年3月1日" not in page
    page = client.get(reverse("orgs:member_list"), {"membership": "probationary"}).content.decode()
    assert "钱预备" in page and "李娜" not in page
    page = client.get(reverse("orgs:member_list"), {"membership": "full"}).content.decode()
    assert "钱预备" not in page and "李娜" in page
