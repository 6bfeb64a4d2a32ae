"""Internal: Build a table's Pydantic model at runtime from the IR: the generated module, without a file.

`model_class(schema)` realises the same `ModelPlan` the emitter renders, with
`pydantic.create_model`, so both have the same classes, fields, constraints and JSON schema.
"""

from __future__ import annotations

import datetime
import decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import AliasChoices, AwareDatetime, Field, JsonValue, NaiveDatetime, create_model

from zerobus.codegen import model_base
from zerobus.codegen.model_base import ZerobusModel, ZerobusStruct
from zerobus.codegen.pymodel import AliasPlan, ClassPlan, FieldPlan, TypeRef, plan_model
from zerobus.schema.ir import TableSchema

__all__ = ["model_class"]

_NAMED_TYPES: dict[str, Any] = {
    "TinyInt": model_base.TinyInt,
    "SmallInt": model_base.SmallInt,
    "Int": model_base.Int,
    "BigInt": model_base.BigInt,
    "float": float,
    "bool": bool,
    "bytes": bytes,
    "str": str,
    "_datetime.date": datetime.date,
    "AwareDatetime": AwareDatetime,
    "NaiveDatetime": NaiveDatetime,
    "JsonValue": JsonValue,
}


def _alias_type(alias: AliasPlan) -> Any:
    if alias.base == "decimal":
        return Annotated[
            decimal.Decimal, Field(max_digits=alias.max_digits, decimal_places=alias.decimal_places)
        ]
    return Annotated[str, Field(max_length=alias.max_length)]


class _Realiser:
    def __init__(self) -> None:
        self.classes: dict[int, type[ZerobusStruct]] = {}

    def annotation(self, ref: TypeRef) -> Any:
        if ref.kind == "name":
            return _NAMED_TYPES[ref.name]
        if ref.kind == "alias":
            assert ref.alias is not None
            return _alias_type(ref.alias)
        if ref.kind == "struct":
            assert ref.struct is not None
            return self.classes[id(ref.struct)]
        if ref.kind == "list":
            return list[self.annotation(ref.args[0])]  # type: ignore[misc]
        key, value = (self.annotation(arg) for arg in ref.args)
        return dict[key, value]  # type: ignore[valid-type]

    def field(self, plan: FieldPlan) -> tuple[Any, Any]:
        annotation = self.annotation(plan.type)
        kwargs: dict[str, Any] = {}
        if plan.description is not None:
            kwargs["description"] = plan.description
        if plan.renamed:
            kwargs["validation_alias"] = AliasChoices(plan.column, plan.attr)
            kwargs["serialization_alias"] = plan.column
        if plan.optional:
            return annotation | None, Field(default=None, **kwargs)
        return annotation, Field(**kwargs)

    def build(self, plan: ClassPlan, schema: TableSchema, message_name: str | None) -> type[ZerobusStruct]:
        fields: dict[str, Any] = {f.attr: self.field(f) for f in plan.fields}
        doc = plan.doc
        if plan.is_table:
            model: type[ZerobusStruct] = create_model(
                plan.name, __base__=ZerobusModel, __module__=__name__, __doc__=doc, **fields
            )
            # ClassVars set after creation: pydantic ignores dunder names when it collects fields.
            model.__zerobus_schema__ = schema  # type: ignore[attr-defined]
            model.__zerobus_message_name__ = message_name  # type: ignore[attr-defined]
        else:
            model = create_model(
                plan.name, __base__=ZerobusStruct, __module__=__name__, __doc__=doc, **fields
            )
        self.classes[id(plan)] = model
        return model


@lru_cache(maxsize=128)
def model_class(
    schema: TableSchema, name: str | None = None, message_name: str | None = None
) -> type[ZerobusModel]:
    """The table's model class built at runtime (cached per schema, name and message name).

    Equivalent to importing the module ``zerobus-codegen`` writes for the same schema.
    """
    plan = plan_model(schema, name, message_name)
    realiser = _Realiser()
    for class_plan in plan.classes:
        realiser.build(class_plan, schema, message_name)
    table = realiser.classes[id(plan.table_class)]
    assert issubclass(table, ZerobusModel)
    return table
