"""Tests of name/id resolution and the ties list of an organisation."""

import pytest

from msonet.graph.errors import Ambiguous, NotFound
from msonet.graph.lookup import get_organisation, organisation_ties, resolve_event, resolve_organisation, vocabulary_key
from tests._graphs import build, event, funding, org, rel


@pytest.fixture
def G():
    return build(
        orgs=[
            org("coach", name="Coach e.V.", sectors=["child_youth"]),
            org("ronahi", city="Bochum", name="Ronahi e.V."),
            org("awo-koeln", "welfare_association", name="AWO Köln"),
            org("verein-k", name="Kulturverein", city="Köln"),
            org("verein-b", name="Kulturverein", city="Bonn"),
            org("paritaet", "welfare_association", name="Der Paritätische NRW", city="Dortmund"),
        ],
        relations=[rel("coach", "awo-koeln"), rel("coach", "paritaet", "member_of"),
                   rel("ronahi", "coach", "tandem_partner"), rel("coach", "treffen", "attended_event")],
        events=[event("treffen", "2024-12-04", city="Bochum", name="MSO-Netzwerktreffen Bochum")],
        fundings=[funding("f1", "coach", "regular_funding", 1000.0, programme="Landesprogramm")],
    )


@pytest.mark.parametrize("text", ["coach", "Coach e.V.", "coach e-v", "  COACH E.V.  "])
def test_resolve_organisation_by_id_or_normalised_name(G, text):
    assert resolve_organisation(G, text) == "coach"


def test_resolve_organisation_umlauts_fold(G):
    assert resolve_organisation(G, "AWO Koeln") == "awo-koeln"
    assert resolve_organisation(G, "der paritaetische nrw") == "paritaet"


def test_unknown_name_suggests_close_names_with_ids(G):
    with pytest.raises(NotFound) as info:
        resolve_organisation(G, "Ronahy e.V.")
    assert info.value.suggestions[0] == "Ronahi e.V. (ronahi)"
    assert "Keine Organisation" in str(info.value) and "Meinten Sie: Ronahi e.V. (ronahi)" in str(info.value)


def test_unknown_name_suggests_names_containing_the_text(G):
    with pytest.raises(NotFound) as info:
        resolve_organisation(G, "Paritätische")
    assert info.value.suggestions == ["Der Paritätische NRW (paritaet)"]


def test_nothing_similar_gives_no_suggestions(G):
    with pytest.raises(NotFound) as info:
        resolve_organisation(G, "Quantenphysik Institut")
    assert info.value.suggestions == []
    assert not isinstance(info.value, Ambiguous)


def test_ambiguous_name_lists_name_id_and_city(G):
    with pytest.raises(Ambiguous) as info:
        resolve_organisation(G, "kulturverein")
    assert info.value.suggestions == ["Kulturverein (verein-b, Bonn)", "Kulturverein (verein-k, Köln)"]


def test_event_id_is_not_an_organisation(G):
    with pytest.raises(NotFound):
        resolve_organisation(G, "treffen")
    assert resolve_event(G, "treffen") == "treffen"
    assert resolve_event(G, "MSO-Netzwerktreffen Bochum") == "treffen"


def test_empty_input_is_a_clear_error(G):
    with pytest.raises(NotFound, match="leer"):
        resolve_organisation(G, "   ")


def test_get_organisation_with_a_name_points_to_the_id(G):
    assert get_organisation(G, "coach")["name"] == "Coach e.V."
    with pytest.raises(NotFound) as info:
        get_organisation(G, "Coach e.V.")
    assert info.value.suggestions == ["Coach e.V. (coach, Köln)"]


def test_organisation_ties_lists_neighbours_with_relations(G):
    rows = organisation_ties(G, "coach")
    assert [(r["id"], r["kind"]) for r in rows] == [
        ("awo-koeln", "organisation"), ("paritaet", "organisation"), ("ronahi", "organisation"),
        ("treffen", "event"), ("prog-landesprogramm", "programme"),
    ]
    by_id = {r["id"]: r for r in rows}
    assert [(x["type"], x["direction"]) for x in by_id["paritaet"]["relations"]] == [("member_of", "out")]
    assert [(x["type"], x["direction"]) for x in by_id["ronahi"]["relations"]] == [("tandem_partner", "both")]
    assert by_id["awo-koeln"]["type_label"] == "Wohlfahrtsverband"
    assert by_id["treffen"]["date"] == "2024-12-04"
    assert by_id["prog-landesprogramm"]["relations"][0]["label"] == "wird gefördert durch"
    assert [r["id"] for r in organisation_ties(G, "paritaet")] == ["coach"]
    assert by_id["paritaet"]["relations"][0]["label"] == "ist Mitglied von"


def test_vocabulary_key_accepts_labels_and_explains_unknown_values():
    assert vocabulary_key("sector", "Jugendhilfe") == "child_youth"
    assert vocabulary_key("org_type", "KI") == "municipal_integration_centre"
    with pytest.raises(NotFound) as info:
        vocabulary_key("sector", "Sportt")
    assert "Sport (sport)" in info.value.suggestions
