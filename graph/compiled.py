"""scipy's compiled routines without importing the scipy subpackage around them.

``import scipy.optimize`` or ``import scipy.sparse`` takes 0.1-0.4 s (they load linear programming,
interpolation, documentation helpers and a copy of numpy's namespace for the array API), a large part of a
command such as ``msonet coverage`` or ``msonet tandems`` on the demo data. The two routines msonet needs –
the assignment solver and the sparse matrix times dense matrix product – live in small compiled modules that
load in milliseconds by themselves. Each function here uses that module and falls back to the public scipy
API (the same routine, only slower to import) should a scipy release move or change it;
tests/test_compiled.py compares both ways.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["linear_sum_assignment", "csr_times_dense", "scipy_module"]


@functools.cache
def scipy_module(subpackage: str, name: str) -> ModuleType | None:
    """The compiled module ``scipy/<subpackage>/<name>`` loaded on its own, or ``None`` if that fails."""
    try:
        import scipy

        spec = importlib.machinery.PathFinder.find_spec(name, [str(Path(scipy.__file__).parent / subpackage)])
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except (ImportError, OSError, AttributeError):
        return None


def linear_sum_assignment(matrix: Any, *, maximize: bool = False, public: bool = False) -> tuple[Any, Any]:
    """``scipy.optimize.linear_sum_assignment(matrix, maximize=maximize)`` (``public``: through scipy.optimize)."""
    module = None if public else scipy_module("optimize", "_lsap")
    solve: Any = getattr(module, "linear_sum_assignment", None)
    if not callable(solve):
        from scipy.optimize import linear_sum_assignment as public_solve

        solve = public_solve
    return solve(matrix, maximize=maximize)  # type: ignore[no-any-return]


def csr_times_dense(indptr: Any, indices: Any, n_cols: int, dense: Any, *, public: bool = False) -> Any:
    """The product of a 0/1 matrix in CSR form (``indptr``, ``indices``; int32, canonical: sorted, no
    duplicates) with the float64 matrix ``dense`` (``n_cols`` rows): ``scipy.sparse.csr_matrix(...) @ dense``,
    by the same compiled routine (``public``: through scipy.sparse)."""
    import numpy as np

    n_rows, width = len(indptr) - 1, dense.shape[1]
    data = np.ones(len(indices), dtype=np.float64)
    dense = np.ascontiguousarray(dense, dtype=np.float64)
    module = None if public else scipy_module("sparse", "_sparsetools")
    matvecs = getattr(module, "csr_matvecs", None)
    if callable(matvecs):
        result = np.zeros((n_rows, width), dtype=np.float64)
        matvecs(n_rows, n_cols, width, indptr, indices, data, dense.ravel(), result.ravel())
        return result
    from scipy import sparse

    return sparse.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols)) @ dense
