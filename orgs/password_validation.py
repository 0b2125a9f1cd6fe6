"""Password rules of GB/T 22239-2019 level 2 (身份鉴别): complexity, no reuse, expiry.

Both validators are listed in settings.AUTH_PASSWORD_VALIDATORS, so every path that validates
a password (services, forms) applies them. Django calls `password_changed` after a user with a
new password is saved, which is where the history is kept.
"""
import datetime
import string

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from orgs.models import AccountSecurity, PasswordHistory

CLASS_NAMES = ("大写字母", "小写字母", "数字", "符号")


def character_classes(password: str) -> int:
    """How many of upper case, lower case, digits and symbols the password uses."""
    upper = any(ch.isupper() for ch in password)
    lower = any(ch.islower() for ch in password)
    digit = any(ch.isdigit() for ch in password)
    symbol = any(not ch.isalnum() or ch in string.punctuation for ch in password)
    return upper + lower + digit + symbol


class ComplexityValidator:
    """At least PASSWORD_MIN_LENGTH characters using PASSWORD_MIN_CLASSES of the four classes."""

    def __init__(self, min_length: int | None = None, min_classes: int | None = None):
        self._min_length = min_length
        self._min_classes = min_classes

    @property
    def min_length(self) -> int:
        return self._min_length or settings.PASSWORD_MIN_LENGTH

    @property
    def min_classes(self) -> int:
        return self._min_classes or settings.PASSWORD_MIN_CLASSES

    def validate(self, password, user=None):
        errors = []
        if len(password) < self.min_length:
            errors.append(ValidationError(f"密码太短，至少需要{self.min_length}个字符。",
                                          code="password_too_short"))
        if character_classes(password) < self.min_classes:
            errors.append(ValidationError(
                f"密码须包含大写字母、小写字母、数字和符号中的至少{self.min_classes}类。",
                code="password_too_simple"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        return (f"至少{self.min_length}个字符，包含大写字母、小写字母、数字和符号中的至少"
                f"{self.min_classes}类。")


class HistoryValidator:
    """Not the current password nor one of the last PASSWORD_HISTORY_COUNT; records each new one."""

    def __init__(self, count: int | None = None):
        self._count = count

    @property
    def count(self) -> int:
        return self._count if self._count is not None else settings.PASSWORD_HISTORY_COUNT

    def _recent_hashes(self, user) -> list[str]:
        hashes = []
        if user.pk is not None:
            stored = (type(user).objects.filter(pk=user.pk).values_list("password", flat=True).first())
            if stored:
                hashes.append(stored)
            if self.count:
                hashes += list(PasswordHistory.objects.filter(user_id=user.pk)
                               .values_list("password", flat=True)[: self.count])
        return list(dict.fromkeys(h for h in hashes if h))

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        for encoded in self._recent_hashes(user):
            if check_password(password, encoded):
                raise ValidationError(
                    f"新密码不能与当前密码或最近{max(self.count, 1)}次使用过的密码相同。",
                    code="password_reused")

    def password_changed(self, password, user=None):
        if user is None or user.pk is None or not user.password:
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        keep = max(self.count, 1)
        stale = list(PasswordHistory.objects.filter(user_id=user.pk).values_list("pk", flat=True)[keep:])
        if stale:
            PasswordHistory.objects.filter(pk__in=stale).delete()
        AccountSecurity.objects.update_or_create(user_id=user.pk,
                                                 defaults={"password_changed_at": timezone.now()})

    def get_help_text(self):
        return f"不能与最近{max(self.count, 1)}次使用过的密码相同。"


def password_expired(user, changed_at: datetime.datetime | None) -> bool:
    """True when an administrator's password is older than PASSWORD_MAX_AGE_DAYS (0: never)."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    if not days:
        return False
    changed_at = changed_at or user.date_joined
    return changed_at is not None and timezone.now() - changed_at > datetime.timedelta(days=days)
