"""Permission-matrix entry for the 评诺结果 download (evaluations/views/results_export.py)."""
from tests.matrix_common import NO_ARGS, READERS, Spec, allow

MATRIX = {
    # Readers download the results of their scope; members and the auditor are 404.
    # (An org outside the scope is a 404: tests/evaluations/test_results_export.py.)
    "evaluations:results_xlsx": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
}
