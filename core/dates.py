"""Dates as rosters and people write them, kept to the precision they were given.

Rosters give 入党时间 to the day (1998-07-01, 1998年7月1日) as often as to the month (1998.07,
1998-07, 1998/7, 1998年7月). A month is stored as the first of the month with the precision
"month", and is shown 1998年7月 — never 1998年7月1日, which would invent a day. The member form
and the roster import read text through the same function (parse_partial_date).
"""
import datetime
import re
from dataclasses import dataclass

# The values of models.DatePrecision (models imports this module, not the other way round).
DAY, MONTH = "day", "month"

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# The common spellings, read without the general clean-up below (a roster has thousands).
_PLAIN = re.compile(r"(\d{4})([-./])(\d{1,2})(?:\2(\d{1,2}))?")
_SPACED = re.compile(r"\s*([-./:年月日])\s*")
_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2})?$")


class DateError(ValueError):
    """Text that is no date; the message is Chinese and names the text."""


@dataclass(frozen=True)
class PartialDate:
    date: datetime.date
    precision: str = DAY

    def __str__(self) -> str:
        return cn_partial_date(self.date, self.precision)


def cn_partial_date(value: datetime.date | None, precision: str = DAY) -> str:
    """1998年7月 (month precision) or 1998年7月1日 (day); "" for no date."""
    if not value:
        return ""
    if precision == MONTH:
        return f"{value.year}年{value.month}月"
    return f"{value.year}年{value.month}月{value.day}日"


def make_date(year: int, month: int, day: int | None, raw: str) -> PartialDate:
    """The date of year, month and (maybe) day, or a DateError naming what is wrong."""
    if not 1 <= month <= 12:
        raise DateError(f"“{raw}”中的月份“{month}”不正确，月份应为1到12")
    try:
        value = datetime.date(year, month, day or 1)
    except ValueError:
        raise DateError(f"日期“{raw}”不存在") from None
    return PartialDate(value, DAY if day else MONTH)


def parse_partial_date(text: str) -> PartialDate | None:
    """A date from text: 1998-07-01, 1998.7.1, 1998/7/1, 1998年7月1日, 19980701 (day) or 1998-07,
    1998.07, 1998/7, 1998年7月, 199807 (month). Full-width digits and spaces around separators are
    accepted; a trailing time of day (1998-07-01 00:00:00) is dropped. None for empty text."""
    raw = " ".join(str(text or "").split())
    if not raw:
        return None
    if m := _PLAIN.fullmatch(raw):
        return make_date(int(m[1]), int(m[3]), int(m[4]) if m[4] else None, raw)
    value = _SPACED.sub(r"\1", raw.translate(_FULLWIDTH))
    value = _TIME.sub("", value)
    value = "".join(value.split())
    if re.fullmatch(r"\d{4}年?", value):
        raise DateError(f"“{raw}”只有年份，请写到月份，如 {value[:4]}-03")
    m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})?", value)
    if m is None:
        value = re.sub(r"[年月]", "-", value).replace("日", "").replace("号", "")
        value = re.sub(r"[./\-—~]+", "-", value).strip("-")
        m = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", value)
    if m is None:
        raise DateError(f"无法识别日期“{raw}”，请写成 1998-07、1998.07、1998年7月 或 1998年7月1日 的样子")
    return make_date(int(m[1]), int(m[2]), int(m[3]) if m[3] else None, raw)
