"""Tests of the settings object: environment, overrides, secrets never shown, README documents all."""

from pathlib import Path

from msonet.graph.backends import describe_backend
from msonet.graph.settings import SETTINGS_HELP, Settings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_use_the_embedded_store():
    settings = Settings.from_env({})
    assert settings.backend == "embedded"
    assert settings.home.name == "msonet"


def test_environment_and_overrides():
    env = {"MSONET_HOME": "/tmp/x", "NEO4J_URI": "neo4j://h:7687", "NEO4J_PASSWORD": "geheim123"}
    settings = Settings.from_env(env)
    assert settings.backend == "neo4j" and settings.home == Path("/tmp/x")
    assert Settings.from_env(env, home="/tmp/y").home == Path("/tmp/y")
    assert Settings.from_env({"FALKORDB_URL": "redis://localhost:1/g"}).backend == "falkordb"


def test_password_never_in_repr_or_description():
    settings = Settings.from_env({"NEO4J_URI": "neo4j://h:7687", "NEO4J_PASSWORD": "geheim123"})
    assert "geheim123" not in repr(settings)
    assert "geheim123" not in describe_backend(settings)
    falkor = Settings.from_env({"FALKORDB_URL": "redis://user:geheim123@host:6379/g"})
    assert "geheim123" not in describe_backend(falkor)


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for _name, variable, _help in SETTINGS_HELP:
        assert variable in readme, f"{variable} fehlt in der README"


def test_hide_password_keeps_everything_but_the_password():
    from msonet.graph.settings import hide_password

    assert hide_password("redis://user:geheim123@host:6379/g") == "redis://user:***@host:6379/g"
    assert hide_password("rediss://:geheim123@host/g") == "rediss://:***@host/g"
    assert hide_password("neo4j://neo4j@host:7687") == "neo4j://neo4j@host:7687"
    assert hide_password("neo4j://host:7687") == "neo4j://host:7687"
    assert hide_password("redis://u:geheim123@host:port/g") == "redis://u:***@host:port/g"  # a bad port too
    assert "geheim123" not in hide_password("u:geheim123@host")


def test_password_in_a_server_address_is_never_shown():
    for env in ({"NEO4J_URI": "neo4j://u:geheim123@h:7687"}, {"FALKORDB_URL": "redis://:geheim123@h:6379/g"}):
        settings = Settings.from_env(env)
        assert "geheim123" not in repr(settings) and "geheim123" not in describe_backend(settings)
        assert "***" in describe_backend(settings)


def test_app_limits_and_reference_date_are_settings():
    import datetime as dt

    import pytest

    settings = Settings.from_env({"MSONET_MAX_TABLE_ROWS": "3", "MSONET_MAX_OPTIONS": " 7 ", "MSONET_MAX_NODES": "9",
                                  "MSONET_TODAY": "2024-06-30", "MSONET_DEBUG": "1", "MSONET_STORE_FORMAT": "JSON"})
    assert (settings.max_table_rows, settings.max_options, settings.max_nodes) == (3, 7, 9)
    assert settings.reference_date() == dt.date(2024, 6, 30) and settings.debug and settings.store_format == "json"
    defaults = Settings.from_env({"MSONET_MAX_TABLE_ROWS": "viele", "MSONET_MAX_OPTIONS": "0", "MSONET_TODAY": ""})
    assert (defaults.max_table_rows, defaults.max_options, defaults.max_nodes) == (1000, 5000, 1000)
    assert defaults.reference_date() == dt.date.today() and not defaults.debug
    with pytest.raises(ValueError, match="MSONET_TODAY „30.6.2024“"):
        Settings.from_env({"MSONET_TODAY": "30.6.2024"}).reference_date()


def test_no_module_reads_the_environment_besides_settings():
    """Every environment variable is a field of Settings: no other module of msonet reads os.environ."""
    import re

    reads = re.compile(r"os\.environ\.get|os\.getenv|os\.environ\[")
    offenders = []
    for folder in ("graph", "loaders", "ui", "msonet"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "settings.py" and folder == "graph":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if reads.search(line):
                    offenders.append(f"{folder}/{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders
