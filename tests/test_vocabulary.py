"""Tests of the controlled vocabulary and its German labels."""

import json

import pytest

from msonet.graph import vocabulary as v


@pytest.mark.parametrize(
    ("kind", "text", "key"),
    [
        ("org_type", "mso", "mso"),
        ("org_type", "MSO", "mso"),
        ("org_type", "Kommunales Integrationszentrum (KI)", "municipal_integration_centre"),
        ("org_type", "KI", "municipal_integration_centre"),
        ("org_type", "Integrationsagentur", "integration_agency"),
        ("org_type", "regular service", "regular_service"),
        ("org_type", "Wohlfahrtsverband", "welfare_association"),
        ("sector", "Kinder- und Jugendhilfe", "child_youth"),
        ("sector", "LSBTIQ*", "lgbtiq"),
        ("sector", "Senior*innenarbeit und Pflege", "seniors_care"),
        ("sector", "Flüchtlingshilfe", "refugees"),
        ("sector", "Fluechtlingshilfe", "refugees"),
        ("relation_type", "kooperiert mit", "cooperates_with"),
        ("relation_type", "Tandempartner", "tandem_partner"),
        ("event_type", "Vernetzungstreffen", "networking_meeting"),
        ("funding_kind", "Regelförderung", "regular_funding"),
        ("funding_kind", "Anschubförderung", "startup_funding"),
        ("sector", "Quantenphysik", None),
        ("org_type", "", None),
    ],
)
def test_lookup_key_accepts_keys_and_german_labels(kind, text, key):
    assert v.lookup_key(kind, text) == key


def test_every_key_has_a_label_and_resolves_to_itself():
    for kind in ("org_type", "sector", "relation_type", "event_type", "funding_kind"):
        for key in v.choices(kind):
            assert v.label(kind, key) and v.label(kind, key) != key or key == "mso"
            assert v.lookup_key(kind, key) == key
            assert v.lookup_key(kind, v.label(kind, key)) == key


def test_field_sets_are_subsets_of_the_vocabulary():
    assert v.MSO_TYPES <= v.MIGRATION_FIELD_TYPES <= set(v.ORG_TYPES)
    assert v.COMPLEMENTARY_SECTORS <= set(v.SECTORS)
    assert v.SYMMETRIC_RELATIONS <= set(v.RELATION_TYPES)
    assert v.funding_class("regular_funding") == "regular"
    assert v.funding_class("startup_funding") == "project"


def test_vocabulary_counts_match_the_documented_vocabulary():
    assert len(v.ORG_TYPES) == 20 and len(v.SECTORS) == 20
    assert len(v.RELATION_TYPES) == 11 and len(v.EVENT_TYPES) == 11 and len(v.FUNDING_KINDS) == 10
    json.dumps(v.ORG_TYPES, ensure_ascii=False)  # serialisable for the app and exports


def test_normalise_term_folds_decomposed_umlauts_like_composed_ones():
    import unicodedata

    for word in ("Köln", "Mülheim an der Ruhr", "Grüße", "Äußeres"):
        assert v.normalise_term(unicodedata.normalize("NFD", word)) == v.normalise_term(word)
