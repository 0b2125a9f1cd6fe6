"""Permission-matrix entries for the organisation import (orgs/views_import.py, org_* views).

Only system administrators import organisations; a stored plan belongs to the administrator who
uploaded it.
"""
import functools
import io

import openpyxl

from orgs import org_import
from tests.matrix_common import NO_ARGS, Spec, allow


@functools.cache
def _sheet():
    wb = openpyxl.Workbook()
    wb.active.append(["党组织名称", "上级党组织"])
    wb.active.append(["矩阵测试党支部", "C1"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), org_import.read_org_sheet(buf.getvalue())


def prepare(world):
    """A previewed, not yet applied sheet of the administrator's (one new branch under C1)."""
    data, sheet = _sheet()
    world.org_import_token = org_import.store_org_plan(actor=world.admin, roster=sheet, data=data,
                                                       filename="组织.xlsx")


PLAN_TARGETS = {"own": lambda world: {"token": world.org_import_token}}

MATRIX = {
    "orgs:org_import": Spec(NO_ARGS, allow({"admin"})),
    "orgs:org_import_template": Spec(NO_ARGS, allow({"admin"}), methods=("GET",)),
    "orgs:org_import_preview": Spec(PLAN_TARGETS, {"admin": {"own"}}, methods=("GET",)),
    "orgs:org_import_confirm": Spec(PLAN_TARGETS, {"admin": {"own"}}, methods=("POST",)),
}
