"""Generated model modules import, type-check, lint, and round-trip; runtime models are the same."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pydantic
import pytest

from tests.codegen.codegen_support import corpus_names, import_file, load_case
from tests.support.installed import install_copy
from zerobus.codegen import (
    TableSchema,
    ZerobusModel,
    ZerobusStruct,
    generate,
    load_schema,
    model_class,
    model_source,
    schema_from_ddl,
    write_files,
)
from zerobus.errors import InvalidRecordError, SchemaError

CASES = corpus_names()
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, ModuleType]]:
    """Every corpus table's model module, written by generate() and imported from its file."""
    out = tmp_path_factory.mktemp("models")
    modules = {}
    for name in CASES:
        (models,) = generate(load_case(name), out, proto=False)
        write_files([models])
        modules[name] = (models.path, import_file(models.path, f"generated_{name}_model"))
    return modules


def _table_class(module: ModuleType) -> type[ZerobusModel]:
    tables = [
        obj
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) and issubclass(obj, ZerobusModel)
    ]
    assert len(tables) == 1
    return tables[0]


def _same_columns(a: TableSchema, b: TableSchema) -> bool:
    """Equal up to Spark's containsNull flags, which the embedded DDL cannot spell."""
    return (a.name, a.ddl(), a.comment) == (b.name, b.ddl(), b.comment)


@pytest.mark.parametrize("name", CASES)
def test_generated_module_rebuilds_the_schema_and_equals_the_runtime_model(
    name: str, generated: dict[str, tuple[Path, ModuleType]]
) -> None:
    schema = load_case(name)
    table = _table_class(generated[name][1])
    assert _same_columns(table.zerobus_schema(), schema)
    runtime = model_class(schema)
    assert runtime.__name__ == table.__name__
    assert runtime.model_json_schema() == table.model_json_schema()
    assert table.descriptor_proto() == runtime.descriptor_proto()


def test_generated_modules_pass_mypy_strict_and_ruff(
    generated: dict[str, tuple[Path, ModuleType]], tmp_path: Path
) -> None:
    paths = [str(path) for path, _ in generated.values()]
    # The package as a user has it installed (an editable install maps zerobus.codegen with an
    # import hook, which mypy cannot follow).
    root = install_copy(tmp_path / "site")
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            f"--cache-dir={tmp_path / 'mypy'}",
            *paths,
        ],
        capture_output=True,
        check=False,
        text=True,
        env={**os.environ, "MYPYPATH": str(root)},
        timeout=120,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    # Default rules, then this project's (strict) selection, as the user's repo might have them.
    out_dir = Path(paths[0]).parent
    for selection in ([], ["--select", "E,F,W,I,B,UP,SIM,RUF,PL", "--ignore", "E501"]):
        ruff = subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                "check",
                "--isolated",
                "--target-version",
                "py310",
                *selection,
                *paths,
            ],
            capture_output=True,
            check=False,
            text=True,
            cwd=out_dir,
            timeout=60,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_generated_modules_are_laid_out_as_ruff_format_would(
    generated: dict[str, tuple[Path, ModuleType]], tmp_path: Path
) -> None:
    # `# fmt: off` keeps formatters away; without it, the layout is already ruff's.
    for path, _ in generated.values():
        text = path.read_text()
        assert "\n# fmt: off\n" in text
        (tmp_path / path.name).write_text(text.replace("# fmt: off\n", ""))
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


STRUCTS_ROW: dict[str, Any] = {
    "id": 1,
    "device": {
        "serial": "SN-1",
        "model": "m1",
        "location": {"lat": 1.0, "lon": 2.0, "geo": {"cell": 9, "level": -3}},
        "readings": [
            {"at": dt.datetime(2024, 5, 1, 8, tzinfo=UTC), "value": Decimal("1.250"), "tags": {"k": "v"}},
            {"at": None, "value": None, "tags": {}},
        ],
        "sensors": {"t1": {"kind": "temp", "calibrated": dt.date(2023, 12, 31)}},
    },
    "owner": None,
    "history": [{"version": 2, "changed": dt.datetime(2024, 1, 1, 0, 0, 1), "notes": ["a"]}],
}


def test_generated_model_round_trips_through_proto_and_json(
    generated: dict[str, tuple[Path, ModuleType]],
) -> None:
    table = _table_class(generated["structs"][1])
    row = table(**STRUCTS_ROW)
    assert isinstance(row.device, ZerobusStruct)
    assert table.from_proto_bytes(row.to_proto_bytes()) == row.model_copy(update={"owner": None})
    assert table.from_json(row.to_json()) == row
    assert table.from_wire(row.to_wire()) == row
    assert table.from_wire(row.to_wire(json_mode=True), json_mode=True) == row
    wire = row.to_wire()
    assert wire["device"]["readings"][0] == {"at": 1714550400000000, "value": "1.250", "tags": {"k": "v"}}
    assert wire["device"]["sensors"]["t1"]["calibrated"] == (dt.date(2023, 12, 31) - dt.date(1970, 1, 1)).days
    message = row.to_proto()
    assert message.device.location.geo.level == -3
    assert type(message) is table.message_class()


def test_generated_and_runtime_models_produce_the_same_bytes(
    generated: dict[str, tuple[Path, ModuleType]],
) -> None:
    table = _table_class(generated["structs"][1])
    runtime = model_class(load_case("structs"))
    assert table(**STRUCTS_ROW).to_proto_bytes() == runtime(**STRUCTS_ROW).to_proto_bytes()
    assert table(**STRUCTS_ROW).to_json() == runtime(**STRUCTS_ROW).to_json()


def test_renamed_fields_take_either_name_and_keep_the_column_on_the_wire(
    generated: dict[str, tuple[Path, ModuleType]],
) -> None:
    table = _table_class(generated["names"][1])
    by_column = table.model_validate({"class": "c", "from": 1, "json": "j", "_": {"__": {"b": 2}}, "int": 5})
    by_attr = table(class_="c", from_=1, json_="j", field={"field": {"b": 2}}, int_=5)
    assert by_column == by_attr
    assert by_attr.to_wire() == {"class": "c", "from": 1, "json": "j", "_": {"__": {"b": 2}}, "int": 5}
    assert table.from_proto_bytes(by_attr.to_proto_bytes()) == by_attr


def test_model_fields_are_typed_and_bounded() -> None:
    schema = schema_from_ddl(
        "t TINYINT NOT NULL, s SMALLINT, i INT, b BIGINT, d DECIMAL(5,2), v VARCHAR(3), c CHAR(2), "
        "ts TIMESTAMP, ntz TIMESTAMP_NTZ, day DATE, raw BINARY, doc VARIANT COMMENT 'JSON document'",
        "main.default.typed",
    )
    model = model_class(schema)
    ok = model(t=127, s=-32768, i=2**31 - 1, b=-(2**63), d=Decimal("999.99"), v="abc", c="ab")
    assert ok.to_wire()["d"] == "999.99"
    bad: list[dict[str, Any]] = [
        {"t": 128},
        {"t": 1, "s": 32768},
        {"t": 1, "i": 2**31},
        {"t": 1, "b": 2**63},
        {"t": 1, "d": Decimal("1000")},
        {"t": 1, "d": Decimal("1.234")},
        {"t": 1, "v": "abcd"},
        {"t": 1, "c": "abc"},
        {"t": 1, "ts": dt.datetime(2024, 1, 1)},
        {"t": 1, "ntz": dt.datetime(2024, 1, 1, tzinfo=UTC)},
        {"t": 1, "unknown": 1},
        {},
    ]
    for values in bad:
        with pytest.raises(pydantic.ValidationError):
            model(**values)
    assert model.model_fields["t"].is_required()
    assert not model.model_fields["s"].is_required()
    assert model.model_fields["doc"].description == "JSON document"
    assert model(t=1, doc={"a": [1]}).to_wire()["doc"] == '{"a":[1]}'
    assert model(t=1, doc='"already json"').to_wire()["doc"] == '"already json"'


def test_values_changed_after_validation_are_still_checked() -> None:
    model = model_class(schema_from_ddl("t TINYINT", "main.default.t"))
    row = model(t=1)
    row.t = 1000
    with pytest.raises(InvalidRecordError, match="out of range for TINYINT"):
        row.to_proto_bytes()


def test_message_name_is_kept_in_generated_modules(tmp_path: Path) -> None:
    schema = schema_from_ddl("a INT", "main.default.air_quality")
    (models,) = generate(schema, tmp_path, message_name="AirQualityRecord", proto=False)
    assert models.path.name == "air_quality_record_model.py"
    write_files([models])
    module = import_file(models.path, "generated_message_name_model")
    table = module.AirQualityRecord
    assert table.message_class().DESCRIPTOR.name == "AirQualityRecord"
    assert table.descriptor_proto().name == "AirQualityRecord"
    assert model_class(schema, message_name="AirQualityRecord").descriptor_proto().name == "AirQualityRecord"


def test_class_names_are_configurable_and_checked() -> None:
    schema = schema_from_ddl("a INT", "main.default.t")
    assert model_class(schema, "Reading").__name__ == "Reading"
    assert "class Reading(ZerobusModel):" in model_source(schema, class_name="Reading")
    with pytest.raises(SchemaError, match="not a Python identifier"):
        model_source(schema, class_name="not valid")


def test_json_only_names_work_at_runtime_without_proto() -> None:
    schema = load_schema("main.default.odd", ddl="`odd name` INT, `ünï` STRING, `1st` INT", check=False)
    model = model_class(schema)
    row = model.model_validate({"odd name": 1, "ünï": "x", "1st": 2})
    assert row.to_json() == '{"odd name":1,"ünï":"x","1st":2}'
    assert model.from_json(row.to_json()) == row
    with pytest.raises(SchemaError, match="not a valid protobuf identifier"):
        row.to_proto_bytes()


def test_a_model_without_a_schema_says_so() -> None:
    class Loose(ZerobusModel):
        a: int | None = None

    with pytest.raises(SchemaError, match="Loose has no table schema"):
        Loose(a=1).to_proto_bytes()
