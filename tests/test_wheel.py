"""The package as a user installs it: a wheel in a fresh virtual environment, used from another directory.

Catches what an editable install in the clone hides: data files missing from the wheel, imports of
top-level names that only exist in the repository, pages found relative to the working directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

FIRST_PAGE = """
import os, sys
from streamlit.testing.v1 import AppTest
from streamlit import config
from msonet.app import script_path
# As ``msonet app`` starts it: listening on this computer only (outside the clone no config.toml applies).
config.set_option("server.address", "localhost")
at = AppTest.from_file(str(script_path()), default_timeout=120).run()
assert not at.exception, at.exception
titles = [t.value for t in at.title]
print(json.dumps({"titles": titles, "metrics": [m.label for m in at.metric]}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv outside the repository with msonet installed from a freshly built wheel."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist),
                            str(ROOT)], capture_output=True, text=True, cwd=base)
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(dist.glob("msonet-*.whl"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True,
                             cwd=base)
    assert install.returncode == 0, install.stdout + install.stderr
    return {"python": python, "bin": env_dir / "bin", "wheel": wheel, "cwd": base}


def _env(store: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_URI", "FALKORDB_URL", "PYTHONPATH", "VIRTUAL_ENV")}
    env["MSONET_HOME"] = str(store)
    return env


def test_wheel_carries_data_and_pages(installed):
    import zipfile

    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for needed in ("msonet/data/nrw/districts.geojson", "msonet/data/nrw/municipalities.csv",
                   "msonet/data/nrw/postcodes.csv", "msonet/data/demo/real_actors.csv",
                   "msonet/data/beispiele/organisationen.csv", "msonet/ui/overview.py", "msonet/app.py",
                   "msonet/graph/store.py", "msonet/loaders/geography.py", "msonet/cli.py"):
        assert needed in names, needed
    # No generic top-level names in site-packages any more.
    assert not any(n.split("/")[0] in ("graph", "loaders", "ui", "app.py", "msonet_cli.py") for n in names)


def test_installed_cli_runs_from_another_directory(installed, tmp_path):
    store = tmp_path / "store"
    msonet = str(installed["bin"] / "msonet")
    version = subprocess.run([msonet, "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("msonet "), version.stdout + version.stderr
    demo = subprocess.run([msonet, "demo"], capture_output=True, text=True, cwd=tmp_path, env=_env(store))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    stats = subprocess.run([msonet, "stats", "--json"], capture_output=True, text=True, cwd=tmp_path,
                           env=_env(store))
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["total"] > 100 and counts["relations"] > 100
    # The package was imported from the venv, not from the repository.
    where = subprocess.run([str(installed["python"]), "-c", "import msonet.graph, msonet.data; "
                            "print(msonet.graph.__file__); print(msonet.data.path('nrw'))"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and "site-packages" in where.stdout


def test_installed_app_first_page_from_another_directory(installed, tmp_path):
    store = tmp_path / "store"
    msonet = str(installed["bin"] / "msonet")
    assert subprocess.run([msonet, "demo"], capture_output=True, cwd=tmp_path, env=_env(store)).returncode == 0
    env = _env(store)
    run = subprocess.run([str(installed["python"]), "-c", "import json\n" + FIRST_PAGE], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    page = json.loads(run.stdout.strip().splitlines()[-1])
    assert page["titles"] == ["Übersicht"], page
    assert page["metrics"], page
