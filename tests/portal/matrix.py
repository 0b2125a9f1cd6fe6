"""Permission-matrix entries for the portal app: coverage and the ledger (officers' readers), and the
public noticeboard (everyone, signed in or not, sees what is published on it). Its targets are the
organisations and commitments tests/commitments/matrix.py prepares (published, online or not)."""
from tests.commitments.matrix import NOTICEBOARD_READERS, PUBLIC_ORGS, PUBLISHED
from tests.matrix_common import NO_ARGS, PERSONAS, READERS, Spec, allow

MATRIX = {
    # Coverage and the ledger. Without ?org= each page or download covers the reader's top
    # organisation, so every reader gets one and members and the auditor a 404; the scoping of
    # ?org= is pinned in test_coverage.py, test_coverage_export.py and test_ledger.py.
    "portal:coverage": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_members": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_orgs": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_commitments": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:ledger_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    # A ledger over LEDGER_BACKGROUND_THRESHOLD becomes a job on this POST (smaller ones: back to the
    # download).
    "portal:ledger_job": Spec(NO_ARGS, {}, allow(READERS), methods=("POST",)),

    # The public noticeboard.
    "portal:noticeboard": Spec(NO_ARGS, allow(PERSONAS), methods=("GET",), public=True),
    "portal:public_org": Spec(PUBLIC_ORGS, NOTICEBOARD_READERS, methods=("GET",), public=True),
    "portal:public_commitment": Spec(PUBLISHED, NOTICEBOARD_READERS, methods=("GET",), public=True),
}
