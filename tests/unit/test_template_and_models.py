"""infra/template.yaml and the pynamodb models must declare the same table, keys and indexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from luxebrain.errors import ConfigurationError
from luxebrain.storage.items import ENTITY_CLASSES
from luxebrain.storage.items.base import BaseItem
from luxebrain_dev.infra_template import load_template, resources_of_type

REPO = Path(__file__).resolve().parents[2]


def _template_table() -> dict:
    tables = resources_of_type(load_template(), "AWS::DynamoDB::Table")
    assert len(tables) == 1, "the data model is a single table"
    return next(iter(tables.values()))["Properties"]


def test_key_schema_matches_models() -> None:
    table = _template_table()
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    for model in (BaseItem, *ENTITY_CLASSES):
        assert model._hash_keyname == keys["HASH"], model
        assert model._range_keyname == keys["RANGE"], model


def test_every_model_index_is_declared_with_the_same_keys_and_projection() -> None:
    table = _template_table()
    declared = {
        index["IndexName"]: (
            {k["KeyType"]: k["AttributeName"] for k in index["KeySchema"]},
            index["Projection"]["ProjectionType"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    used = set()
    for model in ENTITY_CLASSES:
        for index in model._indexes.values():
            name = index.Meta.index_name
            used.add(name)
            keys = {"HASH": index._hash_key_attribute().attr_name}
            range_attribute = next((a for a in index.Meta.attributes.values() if a.is_range_key), None)
            if range_attribute is not None:
                keys["RANGE"] = range_attribute.attr_name
            assert declared[name][0] == keys, name
            assert declared[name][1] == index.Meta.projection.projection_type, name
    assert used == set(declared), "an index is declared but no model uses it, or the reverse"


def test_attribute_definitions_cover_exactly_the_key_attributes() -> None:
    table = _template_table()
    defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    key_attributes = {k["AttributeName"] for k in table["KeySchema"]}
    for index in table["GlobalSecondaryIndexes"]:
        key_attributes |= {k["AttributeName"] for k in index["KeySchema"]}
    assert set(defined) == key_attributes
    attributes = BaseItem.get_attributes()
    for name, attribute_type in defined.items():
        assert attributes[name].attr_type == attribute_type, name


def test_ttl_attribute_is_a_model_attribute() -> None:
    ttl = _template_table()["TimeToLiveSpecification"]["AttributeName"]
    assert ttl in BaseItem.get_attributes()


def test_template_handlers_exist() -> None:
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    for logical_id, function in functions.items():
        properties = function["Properties"]
        module, _, handler = properties["Handler"].rpartition(".")
        source = REPO / "infra" / properties["CodeUri"] / (module.replace(".", "/") + ".py")
        assert source.exists(), f"{logical_id}: {source} missing"
        assert f"def {handler}" in source.read_text() or f"{handler} =" in source.read_text(), logical_id


def test_template_globals_pin_runtime_and_timeouts() -> None:
    # cfn-lint does not catch a wrong runtime or timeout, so they are asserted here.
    template = load_template()
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    assert function_globals["Architectures"] == ["x86_64"]
    for logical_id, function in resources_of_type(template, "AWS::Serverless::Function").items():
        timeout = function["Properties"].get("Timeout", function_globals["Timeout"])
        assert 1 <= timeout <= 900, logical_id
        assert function["Properties"].get("Runtime", "python3.12") == "python3.12", logical_id


def test_bad_template_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources:\n  A: [unclosed\n")
    with pytest.raises(ConfigurationError, match="not valid YAML at line"):
        load_template(broken)
    with pytest.raises(ConfigurationError, match="cannot read template"):
        load_template(tmp_path / "missing.yaml")
