"""Internal: Emit the Python module of a table's Pydantic models from its `ModelPlan`.

The module imports only the package's stable contract (`zerobus.codegen.model_base`) and
pydantic, embeds the column DDL so ``__zerobus_schema__`` is rebuilt at import, and passes
mypy --strict and ruff. It opens with ``# fmt: off`` so a formatter's settings can never turn
regenerated output into drift for ``zerobus-codegen --check``; it is laid out as ruff format
would lay it out anyway. The view objects carry every line's text; the template only places them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zerobus.codegen.pymodel import (
    AliasPlan,
    ClassPlan,
    FieldPlan,
    ModelPlan,
    TypeRef,
    docstring_safe,
    plan_model,
)
from zerobus.codegen.render import render
from zerobus.schema.ir import TableSchema

__all__ = ["ClassView", "FieldView", "ModuleView", "model_source", "py_string"]

LINE_LENGTH = 88
_MODEL_BASE = "zerobus.codegen.model_base"
_PYDANTIC_NAMES = ("AliasChoices", "AwareDatetime", "Field", "JsonValue", "NaiveDatetime")
_MODEL_BASE_NAMES = (
    "BigInt",
    "Int",
    "SmallInt",
    "TinyInt",
    "ZerobusModel",
    "ZerobusStruct",
    "embedded_schema",
)
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_string(text: str) -> str:
    """A Python string literal, quoted and escaped the way ruff format writes it."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == quote:
            out.append("\\" + ch)
        elif not ch.isprintable():
            code = ord(ch)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _source(ref: TypeRef) -> str:
    if ref.kind == "name":
        return ref.name
    if ref.kind == "alias":
        assert ref.alias is not None
        return ref.alias.name
    if ref.kind == "struct":
        assert ref.struct is not None
        return ref.struct.name
    if ref.kind == "list":
        return f"list[{_source(ref.args[0])}]"
    return f"dict[{_source(ref.args[0])}, {_source(ref.args[1])}]"


def _alias_source(alias: AliasPlan) -> str:
    if alias.base == "decimal":
        constraint = f"max_digits={alias.max_digits}, decimal_places={alias.decimal_places}"
        return f"Annotated[_decimal.Decimal, Field({constraint})]"
    return f"Annotated[str, Field(max_length={alias.max_length})]"


@dataclass(frozen=True)
class FieldView:
    attr: str
    annotation: str  # with `| None` for nullable fields
    field_args: tuple[str, ...]  # arguments of `Field(...)`; empty: plain `= None` or required
    optional: bool


@dataclass(frozen=True)
class ClassView:
    name: str
    base: str
    doc: str
    schema_args: tuple[str, ...]  # arguments of `embedded_schema(...)`, table class only
    column_ddl: tuple[str, ...]  # the embedded column DDL, one literal per column
    message_name: str | None  # a `py_string` literal, when not the table's name
    fields: tuple[FieldView, ...]


@dataclass(frozen=True)
class ModuleView:
    table_name: str
    imports: tuple[str, ...]  # blocks of import lines; "" separates stdlib from the rest
    exports: tuple[str, ...]  # the lines of `__all__ = ...`
    aliases: tuple[str, ...]  # `Name = Annotated[...]` lines
    classes: tuple[ClassView, ...]


def _field_view(plan: FieldPlan) -> FieldView:
    annotation = _source(plan.type) + (" | None" if plan.optional else "")
    args: list[str] = []
    if plan.optional and (plan.renamed or plan.description is not None):
        args.append("default=None")
    if plan.renamed:
        args.append(f"validation_alias=AliasChoices({py_string(plan.column)}, {py_string(plan.attr)})")
        args.append(f"serialization_alias={py_string(plan.column)}")
    if plan.description is not None:
        args.append(f"description={py_string(plan.description)}")
    return FieldView(plan.attr, annotation, tuple(args), plan.optional)


def _class_view(plan: ClassPlan, model: ModelPlan) -> ClassView:
    schema_args: tuple[str, ...] = ()
    column_ddl: tuple[str, ...] = ()
    message_name = None
    if plan.is_table:
        schema_args = (py_string(model.schema.name),)
        column_ddl = tuple(py_string(_column_ddl(model.schema, i)) for i in range(len(model.schema.columns)))
        if model.schema.comment is not None:
            schema_args += (f"comment={py_string(model.schema.comment)}",)
        if model.message_name is not None:
            message_name = py_string(model.message_name)
    base = "ZerobusModel" if plan.is_table else "ZerobusStruct"
    fields = tuple(_field_view(f) for f in plan.fields)
    return ClassView(plan.name, base, plan.doc, schema_args, column_ddl, message_name, fields)


def _column_ddl(schema: TableSchema, index: int) -> str:
    return TableSchema(schema.name, (schema.columns[index],)).ddl()


def _import_line(module: str, names: list[str]) -> list[str]:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import (", *(f"    {name}," for name in names), ")"]


def _imports(model: ModelPlan) -> tuple[str, ...]:
    used = set(model.names_used())
    used.add("ZerobusModel")
    if len(model.classes) > 1:
        used.add("ZerobusStruct")
    used.add("embedded_schema")
    stdlib = []
    if "_datetime" in used:
        stdlib.append("import datetime as _datetime")
    if "_decimal" in used:
        stdlib.append("import decimal as _decimal")
    if "Annotated" in used:
        stdlib.append("from typing import Annotated")
    rest = []
    pydantic_names = [name for name in _PYDANTIC_NAMES if name in used]
    if pydantic_names:
        rest += _import_line("pydantic", pydantic_names)
    rest += _import_line(_MODEL_BASE, [name for name in _MODEL_BASE_NAMES if name in used])
    return (*stdlib, "", *rest) if stdlib else tuple(rest)


def _export_order(name: str) -> tuple[int, list[str | int]]:
    """ruff's isort-style order of `__all__` (RUF022): CONSTANTS, then Classes, then the rest,
    each in natural order (``A2`` before ``A10``), case-sensitive."""
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]
    return kind, parts


def _exports(names: list[str]) -> tuple[str, ...]:
    items = [py_string(name) for name in sorted(names, key=_export_order)]
    line = f"__all__ = [{', '.join(items)}]"
    if len(line) <= LINE_LENGTH:
        return (line,)
    return ("__all__ = [", *(f"    {item}," for item in items), "]")


def module_view(model: ModelPlan) -> ModuleView:
    return ModuleView(
        table_name=docstring_safe(model.schema.name),
        imports=_imports(model),
        exports=_exports([plan.name for plan in model.classes]),
        aliases=tuple(f"{alias.name} = {_alias_source(alias)}" for alias in model.aliases),
        classes=tuple(_class_view(plan, model) for plan in model.classes),
    )


def model_source(schema: TableSchema, class_name: str | None = None, message_name: str | None = None) -> str:
    """The Python module of the table's models (the same classes `model_class()` builds)."""
    return render("model.py.j2", module=module_view(plan_model(schema, class_name, message_name)))
