"""The JSON card list keeps to its documented schema (docs/JSON.md).

Every build the tests make through conftest's ``build`` is validated against the schema; these
tests check the schema itself, that it catches what it should, and that the documentation
names exactly the fields it describes.
"""

from __future__ import annotations

import copy
import json
import re

import jsonschema
import pytest

from conftest import ROOT, SCHEMA, cards_json, validate_cards_json
from deckgen.render.jsonlist import FORMAT_VERSION


def test_the_schema_is_a_valid_schema_of_this_version():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["version"] == {"const": FORMAT_VERSION}


def test_the_default_bank_keeps_to_the_schema(seed_build):
    document = cards_json(seed_build)
    validate_cards_json(document)
    assert len(document["cards"]) == 183


@pytest.mark.parametrize("damage", [
    lambda d: d["cards"][0].pop("guid"),
    lambda d: d["cards"][0].update(kind="essay"),
    lambda d: d["cards"][0].update(extra=1),
    lambda d: d["cards"][0]["source"].update(line=0),
    lambda d: d["cards"][0].update(tags=["two words"]),
    lambda d: d["cards"][0].update(media=["../../etc/passwd"]),
    lambda d: d.update(version=FORMAT_VERSION + 1),
], ids=["no-guid", "kind", "extra-field", "line-0", "tag-space", "media-name", "version"])
def test_the_schema_catches_a_damaged_card_list(seed_build, damage):
    document = copy.deepcopy(cards_json(seed_build))
    damage(document)
    with pytest.raises(jsonschema.ValidationError):
        validate_cards_json(document)


def test_the_documentation_names_every_field_of_the_schema():
    schema = json.loads(SCHEMA.read_text())
    doc = (ROOT / "docs" / "JSON.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", doc, re.MULTILINE))
    fields = set(schema["properties"]) | set(schema["$defs"]["card"]["properties"])
    assert documented == fields
