"""The optional 8-digit AGS column places a record exactly and is checked against the city."""

import pytest

from msonet.graph.errors import ValidationError
from msonet.graph.store import EmbeddedStore
from msonet.loaders.load import load_files


def test_ags_places_rows_and_conflicts_are_reported(tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text("name;type;city;ags\nA e.V.;mso;Köln;05315000\nB e.V.;mso;;05911000\n"
                    "C e.V.;mso;Bochum;05315000\nD e.V.;mso;;123\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store")
    with pytest.raises(ValidationError) as info:
        load_files([path], store)
    where = {(p.row, p.column) for p in info.value.problems}
    assert where == {(4, "city"), (5, "ags")}
    report = load_files([path], store, skip_invalid=True)
    assert report.summary.organisations == 2
    placed = {o["name"]: (o["city"], o["district"]) for o in store.find_organisations()}
    assert placed == {"A e.V.": ("Köln", "05315"), "B e.V.": ("Bochum", "05911")}
