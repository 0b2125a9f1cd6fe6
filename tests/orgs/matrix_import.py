"""Permission-matrix entries for the roster import (orgs/views_import.py).

A stored plan belongs to the officer who uploaded it: even officers over the same branch get a
404 for someone else's token.
"""
import functools
import io

import openpyxl

from orgs import roster_import
from tests.matrix_common import NO_ARGS, OFFICERS, Spec, allow


@functools.cache
def _roster():
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "性别", "出生年月", "所在党支部"])
    wb.active.append(["矩阵测试", "男", "1980-01", "第一党支部"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), roster_import.read_roster(buf.getvalue())


def prepare(world):
    """A previewed, not yet applied roster of staff A's (one new member for branch A).

    Runs before every case of the matrix, so the file is built and read once, then planned."""
    data, roster = _roster()
    world.import_token = roster_import.store_plan(actor=world.staff_a, roster=roster, data=data,
                                                  filename="名册.xlsx")


PLAN_TARGETS = {"own": lambda world: {"token": world.import_token}}

MATRIX = {
    "orgs:member_import": Spec(NO_ARGS, allow(OFFICERS)),
    "orgs:member_import_template": Spec(NO_ARGS, allow(OFFICERS), methods=("GET",)),
    "orgs:member_import_preview": Spec(PLAN_TARGETS, {"staff_a": {"own"}}, methods=("GET",)),
    "orgs:member_import_confirm": Spec(PLAN_TARGETS, {"staff_a": {"own"}}, methods=("POST",)),
}
