"""Field validators with Chinese messages, shared by forms, services and imports."""
import re

from django.core.exceptions import ValidationError

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Landline: optional area code (0 + 2–3 digits), 7–8 digit number, optional extension.
_LANDLINE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")
_SHORT_SERVICE = re.compile(r"^1\d{4,5}$")  # 12345-style hotlines

ORG_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def normalise_phone(value: str) -> str:
    """Drop spaces (half- and full-width) and turn full-width digits and dashes half-width."""
    value = (value or "").translate(str.maketrans("０１２３４５６７８９－（）　", "0123456789-() "))
    value = value.replace("(", "").replace(")", "").replace(" ", "")
    if value.startswith("+86"):
        value = value[3:]
    return value


def validate_phone(value: str) -> None:
    """A mainland mobile number, a landline with optional area code, or a short hotline."""
    if not value:
        return
    v = normalise_phone(value)
    if not (_MOBILE.match(v) or _LANDLINE.match(v) or _SHORT_SERVICE.match(v)):
        raise ValidationError("电话号码格式不正确：手机号为11位数字，座机如 0756-2121234。",
                              code="invalid_phone")


def validate_org_code(value: str) -> None:
    if value and not ORG_CODE_RE.match(value):
        raise ValidationError("组织编码只能包含字母、数字、点、下划线和连字符，最长32位。",
                              code="invalid_code")
