"""Tests of the ``msonet`` command line: every command, its exit codes, --json output and German errors."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from msonet.cli import build_parser, main
from msonet.graph.store import STORE_FILE

GOOD = Path(__file__).parent / "data" / "good"
FILES = [GOOD / n for n in ("organisationen.csv", "veranstaltungen.csv", "beziehungen.csv", "teilnahme.csv",
                            "foerderungen.csv")]
TODAY = "2025-01-15"


def run(capsys, store, *args):
    code = main(["--store", str(store), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def loaded(tmp_path, capsys):
    store = tmp_path / "store"
    code, out, err = run(capsys, store, "load", *map(str, FILES))
    assert code == 0, err
    return store


def _store_bytes(store: Path) -> bytes:
    """The database file and its write-ahead log (if any), byte for byte."""
    wal = store / (STORE_FILE + "-wal")
    return (store / STORE_FILE).read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _digest(store: Path) -> str:
    return hashlib.sha256(_store_bytes(store)).hexdigest()


def test_every_command_has_german_help(capsys):
    commands = build_parser().commands  # the click group's commands
    assert set(commands) == {"demo", "load", "stats", "export", "isolated", "partners", "tandems", "meeting",
                             "attend", "coverage", "forget", "migrate", "user", "geocode", "app"}
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        assert "Aufruf: msonet" in capsys.readouterr().out
    result = subprocess.run([sys.executable, "-m", "msonet", "--help"], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, check=True)
    assert "Netzwerk-Explorer" in result.stdout


def test_load_is_idempotent_and_stats_count_everything(loaded, capsys):
    before = _digest(loaded)
    code, out, _ = run(capsys, loaded, "load", *map(str, FILES))
    assert code == 0 and "Geladen: 0 Organisationen" in out
    assert _digest(loaded) == before
    code, out, _ = run(capsys, loaded, "stats", "--json")
    stats = json.loads(out)
    assert stats["total"] == 5 and stats["events"] == 2
    assert stats["by_type"] == {"mso": 2, "municipal_integration_centre": 1, "regular_service": 2}
    assert stats["by_district"] == {"05315": 2, "05911": 2, "05978": 1}
    assert stats["by_sector"]["child_youth"] == 2
    code, out, _ = run(capsys, loaded, "stats")
    assert "Organisationen: 5" in out and "Köln (05315)" in out


def test_invalid_file_loads_nothing_and_exits_non_zero(loaded, tmp_path, capsys):
    bad = tmp_path / "neu.csv"
    bad.write_text("name;type;city\nGut e.V.;mso;Köln\nSchlecht e.V.;Raumschiff;Kölle\n", encoding="utf-8")
    before = _digest(loaded)
    code, _, err = run(capsys, loaded, "load", str(bad))
    assert code == 1
    assert "neu.csv, Zeile 3, Spalte „type“" in err and "neu.csv, Zeile 3, Spalte „city“" in err
    assert "--skip-invalid" in err
    assert _digest(loaded) == before
    code, out, _ = run(capsys, loaded, "load", "--skip-invalid", "--json", str(bad))
    report = json.loads(out)
    assert code == 1 and report["written"]["organisations"] == 1 and len(report["problems"]) == 2


def test_demo_refuses_to_overwrite_then_replaces(loaded, tmp_path, capsys):
    code, _, err = run(capsys, loaded, "demo")
    assert code == 1 and "--replace" in err
    code, out, _ = run(capsys, loaded, "demo", "--if-empty")
    assert code == 0 and "bereits 5 Organisationen" in out
    code, out, _ = run(capsys, loaded, "demo", "--replace")
    assert code == 0 and "Demodaten geladen" in out
    stats = json.loads(run(capsys, loaded, "stats", "--json")[1])
    assert stats["total"] > 4000 and stats["by_type"]["municipal_integration_centre"] == 54
    assert "Brückenbauer e.V.".encode() not in _store_bytes(loaded)


@pytest.mark.parametrize("fmt", ["csv", "json", "graphml"])
def test_export_round_trips_through_load(loaded, tmp_path, capsys, fmt):
    target = tmp_path / ("out" if fmt == "csv" else f"out.{fmt}")
    code, out, _ = run(capsys, loaded, "export", "--format", fmt, "--out", str(target))
    assert code == 0 and "geschrieben" in out
    if fmt == "graphml":
        assert "<graphml" in target.read_text(encoding="utf-8")
        return
    fresh = tmp_path / "fresh"
    paths = sorted(target.iterdir()) if fmt == "csv" else [target]
    code, _, err = run(capsys, fresh, "load", *map(str, paths))
    assert code == 0, err
    assert json.loads(run(capsys, fresh, "stats", "--json")[1]) == json.loads(
        run(capsys, loaded, "stats", "--json")[1])


def test_isolated_json_rows_have_codes(loaded, capsys):
    code, out, _ = run(capsys, loaded, "isolated", "--json", "--today", TODAY)
    rows = json.loads(out)
    assert code == 0 and rows
    for row in rows:
        assert {"id", "name", "reasons"} <= set(row)
        assert all({"code", "text"} <= set(r) for r in row["reasons"])
    codes = {r["code"] for row in rows for r in row["reasons"]}
    assert codes <= {"no_ties", "no_regular_service_tie", "no_recent_event", "small_component"}
    code, out, _ = run(capsys, loaded, "isolated", "--raw", "--district", "Bochum", "--today", TODAY)
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and table and all(r["district"] == "05911" for r in table)
    assert not out.startswith("\ufeff")


def test_csv_for_people_is_excel_ready_and_german(loaded, capsys):
    """``--csv`` (the README's ``> einladung.csv``): BOM, semicolons, CRLF, German headings and labels."""
    code, out, _ = run(capsys, loaded, "isolated", "--csv", "--district", "Bochum", "--today", TODAY)
    assert code == 0 and out.startswith("\ufeff") and "\r\n" in out
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff")), delimiter=";"))
    assert rows and list(rows[0]) == ["Name", "Typ", "Ort", "Kreis", "Gründe", "Erläuterung", "Id"]
    assert {r["Kreis"] for r in rows} == {"Bochum"}
    code, out, _ = run(capsys, loaded, "meeting", "--capacity", "4", "--csv", "--today", TODAY)
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff")), delimiter=";"))
    assert code == 0 and out.startswith("\ufeff") and rows
    assert {"Tisch", "Name", "Typ", "Rolle", "Begründung"} <= set(rows[0])
    assert not {r["Typ"] for r in rows} & {"mso", "regular_service", "municipal_integration_centre"}
    code, out, _ = run(capsys, loaded, "coverage", "--csv")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff")), delimiter=";"))
    bochum = next(r for r in rows if r["Kreis"] == "Bochum")
    assert bochum["Kreisschlüssel"] == "05911" and bochum["Einwohner*innen"] == "354.288"
    assert "," in bochum["MSO je 100.000 Einwohner*innen"] and "." not in bochum["MSO je 100.000 Einwohner*innen"]


def test_text_output_speaks_german(loaded, capsys):
    """District names instead of keys, German type labels, German numbers, lines within the width."""
    code, out, _ = run(capsys, loaded, "isolated", "--today", TODAY)
    assert code == 0 and "Bochum" in out and "Kreis 05911" not in out and "05911" not in out
    assert max(len(line) for line in out.splitlines()) <= 100
    code, out, _ = run(capsys, loaded, "meeting", "--capacity", "4", "--today", TODAY)
    assert code == 0
    for key in ("mso", "regular_service", "municipal_integration_centre"):
        assert f" {key} " not in out
    code, out, _ = run(capsys, loaded, "partners", "Frauenforum Morgenrot")
    assert code == 0 and " km" in out
    scores = [line.split()[0] for line in out.splitlines()[4:] if line[:1].isdigit()]
    assert scores and all("," in s and "." not in s for s in scores)
    code, out, _ = run(capsys, loaded, "coverage")
    density = out.split("Dichte ")[1].split()[0]
    assert "," in density and "." not in density


def test_click_speaks_german(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for english in ("usage:", "positional arguments", "options:", "show this help message", "Usage:", "Options:",
                    "Commands:", "Show this message"):
        assert english not in out
    assert "Aufruf: msonet" in out and "Optionen:" in out and "diese Hilfe zeigen" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["isolated", "--years", "drei"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Fehler: --years: „drei“ ist keine ganze Zahl" in err
    with pytest.raises(SystemExit):
        main(["meeting"])
    assert "diese Angaben fehlen: --capacity" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--format", "pdf"])
    assert "„pdf“ ist nicht vorgesehen" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", "--schnell"])
    assert exit_info.value.code == 2 and "unbekannte Angabe: --schnell" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["isolated", "--json", "--csv"])
    assert exit_info.value.code == 2 and "--csv: nicht zusammen mit --json möglich" in capsys.readouterr().err
    import click.core

    assert click.core._("Usage:") == "Usage:"  # other click users (Streamlit) keep English


def test_partners_by_name_and_unknown_name(loaded, capsys):
    code, out, _ = run(capsys, loaded, "partners", "Frauenforum Morgenrot", "--json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert all({"id", "name", "score", "reasons"} <= set(r) for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    code, _, err = run(capsys, loaded, "partners", "Frauenforum Morgenrod")
    assert code == 1 and "Frauenforum Morgenrot" in err  # suggestion
    code, _, err = run(capsys, loaded, "partners", "x", "--sector", "Raumfahrt")
    assert code == 1


def test_tandems_meeting_coverage(loaded, capsys):
    code, out, _ = run(capsys, loaded, "tandems", "--count", "2", "--max-km", "100", "--json")
    pairs = json.loads(out)
    assert code == 0 and pairs
    used = [p["mso_id"] for p in pairs] + [p["partner_id"] for p in pairs]
    assert len(used) == len(set(used))
    code, out, _ = run(capsys, loaded, "meeting", "--capacity", "4", "--tables", "2", "--json", "--today", TODAY)
    plan = json.loads(out)
    assert code == 0 and 0 < len(plan["invitees"]) <= 4 and len(plan["tables"]) == 2
    code, out, _ = run(capsys, loaded, "meeting", "--capacity", "4", "--csv", "--today", TODAY)
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) >= 2
    code, out, _ = run(capsys, loaded, "coverage", "--json")
    data = json.loads(out)
    assert code == 0 and len(data["districts"]) == 53
    koeln = next(d for d in data["districts"] if d["district"] == "05315")
    assert koeln["mso_count"] == 1
    code, out, _ = run(capsys, loaded, "coverage", "--raw")
    assert code == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 53


def test_attend_records_new_ties(loaded, tmp_path, capsys):
    attendance = tmp_path / "teilnahme.csv"
    attendance.write_text("organisation\nSeniorentreff Am Markt\nFrauenforum Morgenrot\n", encoding="utf-8")
    code, out, err = run(capsys, loaded, "attend", "Fachtag Teilhabe", str(attendance))
    assert code == 0, err
    assert "1 neu" in out  # Frauenforum was already recorded
    attendance.write_text("organisation\nNiemand e.V.\n", encoding="utf-8")
    code, _, err = run(capsys, loaded, "attend", "Fachtag Teilhabe", str(attendance))
    assert code == 1 and "Zeile 2" in err


def test_attendance_is_recorded_without_reading_the_whole_graph(loaded, tmp_path, capsys, monkeypatch):
    """``attend`` and a loaded attendance file naming a stored event read the events and organisations, not the
    graph with all its ties (at 100,000 organisations 10 s and 1.7 GB instead of 2 s)."""
    from msonet.graph.store import EmbeddedStore

    def whole_graph(self, *args, **kwargs):
        raise AssertionError("der ganze Graph wurde gelesen")

    for method in ("graph_view", "to_networkx", "tie_view", "funding_view"):
        monkeypatch.setattr(EmbeddedStore, method, whole_graph)
    attendance = tmp_path / "teilnahme.csv"
    attendance.write_text("organisation\nSeniorentreff Am Markt\nFrauenforum Morgenrot\n", encoding="utf-8")
    code, out, err = run(capsys, loaded, "attend", "Fachtag Teilhabe", str(attendance))
    assert code == 0 and "1 neu" in out, err
    later = tmp_path / "nachgetragen.csv"
    later.write_text("Veranstaltung;Organisation\nFachtag Teilhabe;Seniorentreff Am Markt\n", encoding="utf-8")
    code, out, err = run(capsys, loaded, "load", str(later))
    assert code == 0 and "nachgetragen.csv (Teilnahme): 1 Zeilen, 1 gültig" in out, err


def test_forget_removes_organisation_and_personal_data(tmp_path, capsys):
    source = tmp_path / "orgs.csv"
    source.write_text("name;type;city;email\nGeheim e.V.;mso;Köln;vorstand@geheim.example\n"
                      "Offen e.V.;mso;Köln;\n", encoding="utf-8")
    store = tmp_path / "store"
    assert run(capsys, store, "load", str(source))[0] == 0
    assert b"vorstand@geheim.example" in _store_bytes(store)
    code, out, _ = run(capsys, store, "forget", "Geheim e.V.", "--yes")
    assert code == 0 and "Gelöscht" in out
    assert b"vorstand@geheim.example" not in _store_bytes(store)
    assert json.loads(run(capsys, store, "stats", "--json")[1])["total"] == 1


def test_unreadable_store_and_unreachable_server_exit_3(tmp_path, capsys):
    (tmp_path / STORE_FILE).write_text("kaputt", encoding="utf-8")
    code, _, err = run(capsys, tmp_path, "stats")
    assert code == 3 and "kann nicht gelesen werden" in err
    code = main(["--falkordb", "redis://:streng-geheim@127.0.0.1:1/g", "stats"])
    _, err = capsys.readouterr()
    assert code == 3 and "streng-geheim" not in err and "Fehler" in err


def test_console_script_is_installed():
    exe = shutil.which("msonet")
    assert exe, "msonet ist nicht installiert (pip install -e .)"


def test_default_export_loaded_back_changes_nothing(tmp_path):
    """Issue 14.1: the export leaves out contact data; loading it back must not delete it ("0 geändert")."""
    exe = str(Path(sys.executable).with_name("msonet"))
    env_store = ["--store", str(tmp_path / "store")]
    people = tmp_path / "p.csv"
    people.write_text("id;Name;Typ;Ort;Handlungsfelder;Ansprechperson;E-Mail;Telefon\n"
                      "q1;Brücke e.V.;MSO;Köln;Bildung;Max Muster;max@example.org;0221 1\n"
                      "q2;Kita Sonne;Regeldienst;Köln;;;;\n", encoding="utf-8")

    def cli(*args):
        done = subprocess.run([exe, *env_store, *args], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("load", str(people))
    cli("export", "--out", str(tmp_path / "X"))
    out = cli("load", str(tmp_path / "X"))
    assert out.startswith("Geladen: 0 Organisationen, 0 Veranstaltungen, 0 Beziehungen, 0 Förderungen"), out
    # a file with fewer columns for a known id keeps the others
    (tmp_path / "q.csv").write_text("id;Name;Typ;Ort\nq1;Brücke e.V.;MSO;Köln\n", encoding="utf-8")
    assert cli("load", str(tmp_path / "q.csv")).startswith("Geladen: 0 Organisationen")
    cli("export", "--include-personal", "--out", str(tmp_path / "Y"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "Y" / "organisations.csv").read_text("utf-8-sig")),
                               delimiter=";"))
    assert [(r["id"], r["sectors"], r["contact_person"], r["email"], r["phone"]) for r in rows] == [
        ("q1", "education", "Max Muster", "max@example.org", "0221 1"), ("q2", "", "", "", "")]
    # "#leer" clears one value on purpose
    (tmp_path / "c.csv").write_text("id;Name;Typ;E-Mail\nq1;Brücke e.V.;MSO;#leer\n", encoding="utf-8")
    assert cli("load", str(tmp_path / "c.csv")).startswith("Geladen: 1 Organisationen")
    cli("export", "--include-personal", "--out", str(tmp_path / "Z"))
    row = next(csv.DictReader(io.StringIO((tmp_path / "Z" / "organisations.csv").read_text("utf-8-sig")),
                              delimiter=";"))
    assert (row["email"], row["phone"], row["city"]) == ("", "0221 1", "Köln")


def test_a_long_list_of_possible_duplicates_goes_to_a_file(tmp_path, capsys, monkeypatch):
    """Issue 14.11: more than 20 pairs print one summary line; the pairs are in a CSV file."""
    monkeypatch.chdir(tmp_path)
    rows = "".join(f"Kulturverein Nummer{i} Köln;MSO;Köln\nKulturverein Nummer{i} e.V.;MSO;Köln\n" for i in range(25))
    (tmp_path / "viele.csv").write_text("Name;Typ;Ort\n" + rows, encoding="utf-8")
    code, out, _ = run(capsys, tmp_path / "store", "load", str(tmp_path / "viele.csv"))
    assert code == 0 and "Mögliche Dubletten: 25 Paare – die vollständige Liste steht in msonet-dubletten.csv" in out
    assert "Mögliche Dublette:" not in out
    written = list(csv.DictReader(io.StringIO((tmp_path / "msonet-dubletten.csv").read_text("utf-8-sig")),
                                  delimiter=";"))
    assert len(written) == 25 and {"erste_id", "zweite_id", "begruendung"} <= set(written[0])
    # loaded again unchanged: the pairs are known and not reported again
    code, out, _ = run(capsys, tmp_path / "store", "load", str(tmp_path / "viele.csv"))
    assert code == 0 and "Dublette" not in out
    # a nightly "msonet load *.csv" in this folder also finds the list: it is named and skipped, not an error
    code, out, _ = run(capsys, tmp_path / "store", "load", *sorted(map(str, tmp_path.glob("*.csv"))))
    assert code == 0 and "Geladen: 0 Organisationen" in out
    assert "msonet-dubletten.csv ist eine Liste möglicher Dubletten, wie msonet sie beim Laden schreibt, und wurde " \
           "nicht geladen." in out
    code, out, _ = run(capsys, tmp_path / "store", "load", str(tmp_path))  # the folder: the same
    assert code == 0 and "msonet-dubletten.csv ist eine Liste möglicher Dubletten" in out


def test_app_command_and_repository_config_agree():
    """``msonet app`` passes the settings of .streamlit/config.toml (which only applies inside the clone),
    including no full garbage collection after every page run (docs/performance.md, many sessions)."""
    import tomllib

    from msonet.cli import APP_OPTIONS, app_command
    from msonet.graph.settings import Settings

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    for key, value in APP_OPTIONS.items():
        section, name = key.split(".")
        assert str(config[section][name]).lower() == value.lower(), key
    command = app_command(Settings.from_env({}))
    assert command[command.index("--runner.postScriptGC") + 1] == "false"
    given = app_command(Settings.from_env({}), ["--runner.postScriptGC", "true"])
    assert given.count("--runner.postScriptGC") == 1 and given[-1] == "true"
