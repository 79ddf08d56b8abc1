"""scipy's compiled routines loaded on their own equal the public scipy API, and spare its import."""

import subprocess
import sys

import numpy as np
import pytest

from msonet.graph.compiled import csr_times_dense, linear_sum_assignment, scipy_module


def test_the_compiled_modules_are_found():
    # if a scipy release moves them, msonet still works (public fallback) but this says it got slower
    assert scipy_module("optimize", "_lsap") is not None
    assert scipy_module("sparse", "_sparsetools") is not None
    assert scipy_module("sparse", "no_such_module") is None


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (7, 3), (40, 40), (25, 60)])
def test_assignment_equals_scipy_optimize(shape):
    from scipy.optimize import linear_sum_assignment as public

    matrix = np.random.default_rng(5).integers(0, 6, size=shape)  # many equal weights: the same pick among optima
    for maximize in (False, True):
        ours = linear_sum_assignment(matrix, maximize=maximize)
        assert [a.tolist() for a in ours] == [a.tolist() for a in public(matrix, maximize=maximize)]
        fallback = linear_sum_assignment(matrix, maximize=maximize, public=True)
        assert [a.tolist() for a in ours] == [a.tolist() for a in fallback]


def test_sparse_product_equals_scipy_sparse():
    from scipy import sparse

    rng = np.random.default_rng(2)
    n = 300
    matrix = sparse.random(n, n, density=0.03, random_state=3, format="csr")
    matrix.data[:] = 1.0
    matrix.sort_indices()
    indptr, indices = matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32)
    for width in (1, 7, 128):
        dense = rng.random((n, width))
        expected = matrix @ dense
        assert np.array_equal(csr_times_dense(indptr, indices, n, dense), expected)
        assert np.array_equal(csr_times_dense(indptr, indices, n, dense, public=True), expected)


def test_neither_scipy_subpackage_is_imported():
    code = ("import sys, numpy as np\n"
            "from msonet.graph.compiled import csr_times_dense, linear_sum_assignment\n"
            "linear_sum_assignment(np.eye(3), maximize=True)\n"
            "csr_times_dense(np.array([0, 1, 1], np.int32), np.array([1], np.int32), 2, np.ones((2, 2)))\n"
            "print(sorted(m for m in ('scipy.optimize', 'scipy.sparse') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
