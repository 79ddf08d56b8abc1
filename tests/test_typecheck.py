"""Keep the analytics (graph/) and the loaders (loaders/) free of mypy errors."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy ist nicht installiert (pip install mypy); Typprüfung übersprungen")
def test_graph_and_loaders_are_type_clean():
    # run from the project root so mypy picks up [tool.mypy] in pyproject.toml
    result = subprocess.run([sys.executable, "-m", "mypy", "graph", "loaders"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"mypy graph loaders meldet Fehler:\n{result.stdout}{result.stderr}"
