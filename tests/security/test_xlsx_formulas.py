"""Every workbook the system hands out holds user text as text: a name or a goal typed as
"=1+1", "+cmd", "-2" or "@SUM(A1)" never becomes a live formula (CSV/formula injection)."""
import io

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from orgs.models import Organisation
from tests.conftest import login, make_member
from tests.evaluations.builders import closed_window, pledge, release

HOSTILE = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://evil.example","点此")']


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _rename(org, name):
    Organisation.objects.filter(pk=org.pk).update(name=name, short_name=name[:20])
    org.refresh_from_db()


def test_no_workbook_turns_user_text_into_a_formula(world):
    _rename(world.root, HOSTILE[0])
    _rename(world.committee, HOSTILE[1])
    _rename(world.branch_a, HOSTILE[2])
    make_member(world.branch_a, HOSTILE[3][:20])
    closed_window(world)
    released = pledge(world, world.branch_a, HOSTILE[4][:20])
    release(world, released)

    admin, officer, auditor = (login(Client(), u) for u in (world.admin, world.reviewer, world.auditor))
    downloads = [
        (admin, reverse("orgs:org_import_template"), {}),
        (officer, reverse("orgs:member_import_template"), {"branch": world.branch_a.pk}),
        (officer, reverse("portal:ledger_xlsx"), {"org": world.branch_a.pk}),
        (officer, reverse("portal:coverage_xlsx"), {"org": world.branch_a.pk}),
        (officer, reverse("evaluations:results_xlsx"), {}),
        (officer, reverse("evaluations:awards_xlsx", args=[world.committee.pk]), {}),
        (auditor, reverse("orgs:audit_export"), {}),
    ]
    seen = set()
    for client, url, params in downloads:
        response = client.get(url, params)
        assert response.status_code == 200, url
        book = load_workbook(io.BytesIO(_body(response)))
        formulas = [(url, ws.title, cell.coordinate, cell.value) for ws in book.worksheets
                    for row in ws.iter_rows() for cell in row if cell.data_type == "f"]
        assert formulas == []
        seen |= {value for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                 for value in row if isinstance(value, str)}
    # The hostile text did reach the workbooks, as text.
    for text in (HOSTILE[0], HOSTILE[2]):
        assert any(text in value for value in seen), text
