"""Phone numbers as people write them (orgs/validators.py): one stored form per number."""
import pytest
from django.core.exceptions import ValidationError

from orgs.validators import is_phone, normalise_phone, split_phones, validate_phone


@pytest.mark.parametrize("written,stored", [
    ("13823456789", "13823456789"),
    ("138-2345-6789", "13823456789"),
    ("138 2345 6789", "13823456789"),
    ("１３８ ２３４５ ６７８９", "13823456789"),
    ("+86 13823456789", "13823456789"),
    ("+86-138-2345-6789", "13823456789"),
    ("(+86)13823456789", "13823456789"),
    ("0086 13823456789", "13823456789"),
    ("8613823456789", "13823456789"),
    ("手机：13823456789", "13823456789"),
    ("0756-2234567", "0756-2234567"),
    ("07562234567", "0756-2234567"),
    ("0756 2234567", "0756-2234567"),
    ("(0756)2234567", "0756-2234567"),
    ("（0756）2234567", "0756-2234567"),
    ("0756－2234567", "0756-2234567"),
    ("+86 756 2234567", "0756-2234567"),
    ("010-65123456", "010-65123456"),
    ("02087654321", "020-87654321"),
    ("0756-2234567转801", "0756-2234567-801"),
    ("0756-2234567 转 801", "0756-2234567-801"),
    ("0756-2234567-801", "0756-2234567-801"),
    ("(0756)2234567分机801", "0756-2234567-801"),
    ("0756-2234567 ext. 801", "0756-2234567-801"),
    ("2234567", "2234567"),
    ("22345678", "22345678"),
    ("400-123-4567", "400-123-4567"),
    ("4001234567", "400-123-4567"),
    ("12345", "12345"),
])
def test_spellings_of_one_number_have_one_stored_form(written, stored):
    assert normalise_phone(written) == stored
    assert is_phone(stored)
    validate_phone(written)
    assert normalise_phone(stored) == stored  # stable


@pytest.mark.parametrize("impossible", [
    "1380013800",          # ten digits
    "138001380001",        # twelve
    "12823456789",         # no mobile prefix 12x
    "138-2345-678",
    "0756-1234567",        # a local number never starts with 1 (or 0)
    "0756-223456",         # six digits
    "13823456789转801",     # mobiles have no extensions
    "0756-2234567转1234567",
    "abc",
    "138abc45678",
    "1234",
    "+1 202 555 0100",
])
def test_impossible_numbers_are_refused(impossible):
    assert not is_phone(normalise_phone(impossible))
    with pytest.raises(ValidationError) as exc:
        validate_phone(impossible)
    assert "电话号码格式不正确" in exc.value.messages[0]


def test_empty_is_allowed():
    validate_phone("")
    assert normalise_phone("") == "" and normalise_phone(None) == ""


@pytest.mark.parametrize("cell,numbers", [
    ("13800138000/0756-2234567", ["13800138000", "0756-2234567"]),
    ("13800138000、13900139000", ["13800138000", "13900139000"]),
    ("138 0013 8000", ["13800138000"]),
    ("0756-2234567", ["0756-2234567"]),
    ("13800138000/abc", ["13800138000/abc"]),  # not a list of numbers: one bad value
    ("", []),
])
def test_a_cell_may_hold_several_numbers(cell, numbers):
    assert split_phones(cell) == numbers
