"""The pages that gather every app: the public noticeboard, coverage and the ledger (the home page is
config/urls.py's "home")."""
from django.urls import path

from .views import coverage, coverage_export, ledger, public

app_name = "portal"

urlpatterns = [
    # The public noticeboard (no login).
    path("public/", public.noticeboard, name="noticeboard"),
    path("public/orgs/<int:pk>/", public.org_page, name="public_org"),
    path("public/commitments/<int:pk>/", public.commitment_page, name="public_commitment"),
    # Coverage (覆盖情况) and its Excel report.
    path("coverage/", coverage.coverage_dashboard, name="coverage"),
    path("coverage/members/", coverage.coverage_members, name="coverage_members"),
    path("coverage/orgs/", coverage.coverage_orgs, name="coverage_orgs"),
    path("coverage/commitments/", coverage.coverage_commitments, name="coverage_commitments"),
    path("coverage/report.xlsx", coverage_export.coverage_xlsx, name="coverage_xlsx"),
    # The ledger of every commitment in a subtree (承诺台账).
    path("commitments/ledger.xlsx", ledger.ledger_xlsx, name="ledger_xlsx"),
    path("commitments/ledger-job/", ledger.ledger_job, name="ledger_job"),
]
