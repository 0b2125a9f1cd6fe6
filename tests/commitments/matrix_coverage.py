"""Permission-matrix entries for the coverage dashboard and the lists behind its figures.

Without ?org= each page shows the user's top reading root, so every reader gets a page and
everyone else a 404; the scoping of ?org= to the user's subtree is pinned in test_coverage.py.
"""
from tests.matrix_common import NO_ARGS, READERS, Spec, allow

MATRIX = {
    "portal:coverage": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_members": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_orgs": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
    "portal:coverage_commitments": Spec(NO_ARGS, allow(READERS), methods=("GET",)),
}
