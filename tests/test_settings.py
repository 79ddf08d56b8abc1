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
