"""Permission-matrix entry for the 覆盖情况报表 download (portal/views/coverage_export.py)."""
from tests.matrix_common import NO_ARGS, READERS, Spec, allow

MATRIX = {
    # Without ?org= the report covers the reader's top organisation; members and the auditor have
    # none. (An org outside the scope is a 404: tests/commitments/test_coverage_export.py.)
    "portal:coverage_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
}
