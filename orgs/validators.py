"""Field validators with Chinese messages, shared by forms, services and imports."""
import re
import unicodedata

from django.core.exceptions import ValidationError

ORG_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

# --- phone numbers -----------------------------------------------------------------------------
#
# Stored forms (what normalise_phone returns, and the only shapes validate_phone accepts after
# normalising):
#   mobile                 13823456789            (11 digits, no separators, no +86)
#   landline               0756-2234567           (area code, hyphen, 7–8 digit number)
#   landline + extension   0756-2234567-801       (转801, 分机801, ext 801 are written this way)
#   local number           2234567                (no area code given)
#   400/800 numbers        400-123-4567
#   hotlines               12345
# People write the same numbers as 138-2345-6789, 138 2345 6789, +86 13823456789,
# (0756)2234567, （0756）2234567, 0756 2234567, 07562234567 or 0756-2234567转801.

_MOBILE = re.compile(r"1[3-9]\d{9}")
_AREA_3 = re.compile(r"(0[12]\d)([2-9]\d{6,7})")       # 010 and 020–029: three-digit area codes
_AREA_4 = re.compile(r"(0[3-9]\d{2})([2-9]\d{6,7})")   # every other area code has four digits
_LOCAL = re.compile(r"[2-9]\d{6,7}")
_SERVICE = re.compile(r"([48]00)(\d{3})(\d{4})")
_HOTLINE = re.compile(r"1\d{4,5}")                      # 12345-style government hotlines
_STORED = re.compile(r"1[3-9]\d{9}|(0\d{2,3}-)?[2-9]\d{6,7}(-\d{1,6})?|[48]00-\d{3}-\d{4}|1\d{4,5}")

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―－﹣−~～"), "-")
_EXTENSION = re.compile(r"\s*(?:转|分机|内线|ext\.?|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^(?:手机|电话|手机号|手机号码|电话号码|座机|办公电话|固话|联系电话|tel|mobile)\s*[:：]?\s*",
                    re.IGNORECASE)
# Between two numbers in one cell (spaces and hyphens group the digits of one number instead).
PHONE_LIST_SEPARATORS = re.compile(r"\s*[/、，,;；|]\s*|\s+或\s+")

PHONE_MESSAGE = "电话号码格式不正确：手机号为11位数字，座机如 0756-2121234（分机写作 0756-2121234转801）。"


def _country_code_dropped(text: str) -> str:
    """+86 / 0086 / (86) in front: a mobile keeps its digits, a landline gets its 0 back."""
    m = re.match(r"^(?:\+\s*86|0086|\(\s*\+?86\s*\))[\s-]*", text)
    if m is None:
        digits = re.sub(r"\D", "", text)
        # 8613823456789 typed without the plus.
        if len(digits) == 13 and _MOBILE.fullmatch(digits[2:]) and digits.startswith("86"):
            return digits[2:]
        return text
    rest = text[m.end():].lstrip("(（ ")
    return rest if rest.startswith(("0", "1")) else "0" + rest


def _one_number(digits: str) -> str | None:
    if _MOBILE.fullmatch(digits) or _HOTLINE.fullmatch(digits) or _LOCAL.fullmatch(digits):
        return digits
    if m := _SERVICE.fullmatch(digits):
        return "-".join(m.groups())
    if (m := _AREA_3.fullmatch(digits)) or (m := _AREA_4.fullmatch(digits)):
        return f"{m[1]}-{m[2]}"
    return None


def normalise_phone(value: str) -> str:
    """The stored form of one phone number as people write it (see above); a text that is no
    phone number comes back tidied (full-width made half-width, spaces dropped) and
    validate_phone refuses it."""
    if value and _STORED.fullmatch(value):
        return value  # already stored form: most cells of a clean roster
    text = unicodedata.normalize("NFKC", value or "").translate(_DASHES).strip()
    if not text:
        return ""
    text = _LABEL.sub("", text)
    extension = ""
    if m := _EXTENSION.search(text):
        extension, text = m[1], text[:m.start()]
    text = _country_code_dropped(text)
    groups = re.findall(r"\d+", text)
    if groups and not re.search(r"[^\d\s()\-.+]", text):
        number = _one_number("".join(groups))
        if number is None and not extension and len(groups) >= 2 and len(groups[-1]) <= 6:
            # 0756-2234567-801: the last group is an extension when the rest is a landline.
            head = _one_number("".join(groups[:-1]))
            if head is not None and "-" in head:
                number, extension = head, groups[-1]
        if number is not None:
            if not extension:
                return number
            if ("-" in number and not number.startswith(("400", "800"))) or _LOCAL.fullmatch(number):
                return f"{number}-{extension}"
    return "".join(text.split()) + (f"转{extension}" if extension else "")


def split_phones(value: str) -> list[str]:
    """The numbers of a cell that may hold several (13800138000/0756-2234567), each in its stored
    form; one element (maybe not a valid number) when the cell is not a list of valid numbers."""
    whole = normalise_phone(value)
    if is_phone(whole) or not PHONE_LIST_SEPARATORS.search(value or ""):
        return [whole] if whole else []
    parts = [normalise_phone(p) for p in PHONE_LIST_SEPARATORS.split(value) if p.strip()]
    return parts if parts and all(is_phone(p) for p in parts) else [whole]


def is_phone(value: str) -> bool:
    """True for a number already in its stored form."""
    return bool(value) and _STORED.fullmatch(value) is not None


def validate_phone(value: str) -> None:
    """A mainland mobile number, a landline with optional area code and extension, a 400/800
    number or a short hotline, written in any of the usual ways."""
    if not value:
        return
    if not is_phone(normalise_phone(value)):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")


def validate_org_code(value: str) -> None:
    if value and not ORG_CODE_RE.match(value):
        raise ValidationError("组织编码只能包含字母、数字、点、下划线和连字符，最长32位。",
                              code="invalid_code")
