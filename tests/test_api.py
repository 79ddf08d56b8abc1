"""The Python API (msonet.api): same results as the analyses and the CLI, typed rows, DataFrames, the
docstring examples, the example in docs/api.md, and mypy --strict on the public API."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import doctest
import importlib.util
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import msonet
from msonet import api
from msonet.cli import main
from msonet.graph.errors import GraphError, NotFound
from msonet.graph.isolation import isolated_organisations
from msonet.graph.meeting import plan_meeting
from msonet.graph.partners import propose_partners

ROOT = Path(__file__).resolve().parent.parent
GOOD = Path(__file__).parent / "data" / "good"
FILES = [GOOD / n for n in ("organisationen.csv", "veranstaltungen.csv", "beziehungen.csv", "teilnahme.csv",
                            "foerderungen.csv")]
TODAY = dt.date(2025, 1, 15)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-demo")
    with msonet.open_network(home=home) as net:
        net.load_demo()
    return home


@pytest.fixture
def small(tmp_path):
    net = msonet.open_network(home=tmp_path / "store", today=TODAY)
    report = net.load(FILES)
    assert not report.problems
    yield net
    net.close()


def _json(value):
    return json.loads(json.dumps(value, default=str))


def test_results_are_the_analyses_results(small):
    G = small.graph()
    assert small.isolation().as_dicts() == isolated_organisations(G, today=TODAY)
    mso = "Frauenforum Morgenrot"
    org_id = small.organisation_id(mso)
    assert _json(small.partners(mso, top=5).as_dicts()) == _json(propose_partners(G, org_id, top=5))
    plan = small.meeting(4, tables=2)
    assert _json(plan.as_dict()) == _json(plan_meeting(G, 4, today=TODAY, tables=2))


def test_results_are_typed_and_frozen(small):
    rows = small.isolation()
    row = rows[0]
    assert isinstance(row, api.IsolatedOrganisation) and isinstance(row.reasons[0], api.Reason)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.name = "anders"  # type: ignore[misc]
    proposal = small.partners("Frauenforum Morgenrot")[0]
    assert isinstance(proposal.parts, api.ScoreParts) and 0 <= proposal.parts.distance <= 1
    plan = small.meeting(4, tables=2)
    assert isinstance(plan.invitees[0], api.Invitee) and plan.summary.invited == len(plan.invitees)
    assert isinstance(small.stats(), api.NetworkStats)


def test_rows_convert_to_data_frames(small):
    frame = small.partners("Frauenforum Morgenrot").to_frame()
    assert len(frame) > 0 and {"id", "name", "score", "parts.distance", "reasons"} <= set(frame.columns)
    assert isinstance(frame["reasons"].iloc[0], str)
    iso = small.isolation().to_frame()
    assert list(iso.columns) == [f.name for f in dataclasses.fields(api.IsolatedOrganisation)]
    empty = small.isolation(district="Münster").to_frame()
    assert len(empty) == 0
    stats = small.stats().to_frame()
    assert set(stats["gliederung"]) == {"org_type", "district", "sector"} and stats["anzahl"].sum() > 0
    coverage = small.coverage(network=False)
    assert coverage.network is None and len(coverage.to_frame()) == 53


def test_today_is_fixed_once_and_can_be_given_per_call(small, tmp_path):
    assert small.today == TODAY
    assert small.isolation().as_dicts() == small.isolation(today="2025-01-15").as_dicts()
    assert small.meeting(4, today=dt.date(2030, 1, 1)).filters.today == "2030-01-01"
    with pytest.raises(GraphError, match="JJJJ-MM-TT"):
        small.isolation(today="15.01.2025")


def test_german_errors_for_unknown_names(small):
    with pytest.raises(GraphError, match="Organisationstyp „Raumschiff“ ist unbekannt"):
        small.isolation(org_type="Raumschiff")
    with pytest.raises(NotFound, match="Frauenforum Morgenrot"):
        small.partners("Frauenforum Morgenrod")
    with pytest.raises(GraphError, match="bereits 5 Organisationen"):
        small.load_demo()


def test_open_network_reads_the_same_settings_as_the_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MSONET_HOME", str(tmp_path / "env-store"))
    assert main(["load", *map(str, FILES)]) == 0
    capsys.readouterr()
    with msonet.open_network() as net:
        assert net.stats().total == 5
        assert "env-store" in repr(net)
    assert main(["stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == msonet.open_network().stats().as_dict()


def test_docstring_examples(demo_home):
    """The examples in msonet.api's docstrings (numpydoc ``Examples``) run and give what they show."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(api, extraglobs={"demo_home": demo_home}) if t.examples]
    out = io.StringIO()
    for test in tests:
        runner.run(test, out=out.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, out.getvalue()
    public = {"open_network", "Network.stats", "Network.isolation", "Network.partners", "Network.cohort",
              "Network.meeting", "Network.coverage", "Network.load_demo"}
    assert public <= {t.name.removeprefix("msonet.api.") for t in tests}


def test_the_example_in_docs_api_runs(demo_home, monkeypatch, tmp_path):
    """docs/api.md: every ``python`` block after „## Beispiel“ runs on the demo data as it is written."""
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    example = text.split("## Beispiel", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", example, flags=re.S)
    assert blocks
    monkeypatch.setenv("MSONET_HOME", str(demo_home))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in blocks:
            exec(compile(block, "docs/api.md", "exec"), {"__name__": "docs_api"})  # noqa: S102 - our own docs
    printed = out.getvalue()
    assert "Organisationen, davon" in printed and "Einladungen" in printed and "plausible neue Paare" in printed


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                    reason="mypy ist nicht installiert (pip install mypy); Typprüfung übersprungen")
def test_public_api_is_mypy_strict_clean(tmp_path):
    """mypy --strict on msonet/__init__.py and msonet/api.py, with msonet.graph and msonet.loaders where the
    installed package has them (mypy does not follow setuptools' package-dir mapping of an editable install)."""
    package = tmp_path / "msonet"
    package.mkdir()
    for name in ("__init__.py", "api.py"):
        shutil.copy(ROOT / "msonet" / name, package / name)
    for part in ("graph", "loaders"):
        shutil.copytree(ROOT / part, package / part, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--strict",
                             "--follow-imports=silent", "--cache-dir", str(tmp_path / ".mypy_cache"),
                             "msonet/__init__.py", "msonet/api.py"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"mypy --strict meldet Fehler:\n{result.stdout}{result.stderr}"


def test_cli_commands_are_callable_from_python(small, capsys):
    """The CLI's commands work on an opened Network, without parsing a command line."""
    from msonet.cli import cmd_isolated, cmd_stats

    assert cmd_stats(small, fmt="json") == 0
    assert json.loads(capsys.readouterr().out) == small.stats().as_dict()
    assert cmd_isolated(small, district="Bochum", fmt="csv") == 0
    assert capsys.readouterr().out.startswith("\ufeffName;Typ;Ort;Kreis")
