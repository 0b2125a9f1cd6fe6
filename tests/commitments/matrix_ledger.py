"""Permission-matrix entry for the 承诺台账 download (portal/views/ledger.py)."""
from tests.matrix_common import NO_ARGS, READERS, Spec, allow

MATRIX = {
    # Without ?org= the ledger covers the reader's top organisation; members and the auditor
    # have none. (An org outside the scope is a 404: tests/commitments/test_ledger.py.)
    "portal:ledger_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
}
