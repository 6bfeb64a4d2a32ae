"""Internal: The Pydantic shape of a table, planned once and realised twice: as source and at runtime.

`plan_model()` walks the schema IR and decides every name and annotation of the model
(classes for the table and each STRUCT, Python attribute names, bounded and constrained
types). The emitter renders the plan as module source; `runtime_model.model_class()` builds the
same classes with `pydantic.create_model`. Both read the same `TypeRef` trees, so a generated
module and a runtime model of one schema have identical fields and JSON schemas.

Type contract (docs/PROTOCOL.md section 7): TINYINT/SMALLINT/INT/BIGINT -> int bounded to the
column range; FLOAT, DOUBLE -> float; DECIMAL(p,s) -> Decimal (max_digits p, decimal_places s);
STRING -> str, VARCHAR(n)/CHAR(n) -> str (max_length n); BINARY -> bytes; DATE -> date;
TIMESTAMP -> aware datetime; TIMESTAMP_NTZ -> naive datetime; VARIANT -> any JSON value (a str
is taken as JSON text, like the dict path); ARRAY -> list; MAP -> dict; STRUCT -> nested model.
Nullable columns are ``X | None = None``; NOT NULL columns are required.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

from zerobus.errors import SchemaError
from zerobus.schema.delta_types_table import DELTA_TYPES
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    PrimitiveType,
    StringType,
    StructField,
    TableSchema,
)
from zerobus.schema.proto_layout import pascal_case

__all__ = [
    "AliasPlan",
    "ClassPlan",
    "FieldPlan",
    "ModelPlan",
    "TypeRef",
    "plan_model",
    "python_identifier",
]

# Names a module-level annotation may use; a field must not shadow them inside the class body
# (class bodies evaluate annotations eagerly and look names up in the class namespace first).
IMPORTED_NAMES = frozenset(
    {
        "Annotated",
        "AliasChoices",
        "AwareDatetime",
        "BigInt",
        "ClassVar",
        "Field",
        "Int",
        "JsonValue",
        "NaiveDatetime",
        "SmallInt",
        "TinyInt",
        "ZerobusModel",
        "ZerobusStruct",
        "embedded_schema",
    }
)
_BUILTIN_TYPES = frozenset({"bool", "bytes", "dict", "float", "int", "list", "str"})
_NOT_IDENTIFIER_CHAR = re.compile(r"[^0-9A-Za-z_]")


def _model_attributes() -> frozenset[str]:
    from zerobus.codegen.model_base import ZerobusModel

    return frozenset(dir(ZerobusModel))


def python_identifier(name: str) -> str:
    """The nearest plain ASCII identifier to a column name (before clash checks)."""
    text = _NOT_IDENTIFIER_CHAR.sub("_", name)
    if text.startswith("_"):
        # Pydantic treats leading-underscore names as private attributes, not fields.
        text = text.lstrip("_")
        text = text + "_" if text else "field"
    if text[:1].isdigit():
        text = "f" + text
    return text


@dataclass(frozen=True)
class TypeRef:
    """An annotation as a tree: rendered to source text or to a runtime type after naming.

    kind: "name" (a fixed name such as ``str`` or ``TinyInt``), "alias" (a module-level
    constrained alias, `alias` set), "struct" (a nested model, `struct` set), "list", "dict".
    """

    kind: str
    name: str = ""
    alias: AliasPlan | None = None
    struct: ClassPlan | None = None
    args: tuple[TypeRef, ...] = ()


@dataclass(frozen=True)
class AliasPlan:
    """A constrained scalar used by the module: ``Decimal10_2``, ``Varchar20``, ``Char3``."""

    name: str
    base: str  # "decimal" | "str"
    max_digits: int | None = None
    decimal_places: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class FieldPlan:
    column: str  # the column / struct field name: the key on the wire
    attr: str  # the Python attribute
    type: TypeRef  # without the `| None` of nullable fields
    optional: bool
    description: str | None

    @property
    def renamed(self) -> bool:
        return self.attr != self.column


@dataclass(eq=False)
class ClassPlan:
    """One model class. Identity-compared: built once per struct occurrence."""

    name: str
    path: str  # column path of the struct ("" for the table)
    is_table: bool
    doc: str  # one line, safe inside a docstring
    fields: tuple[FieldPlan, ...] = ()


@dataclass(frozen=True)
class ModelPlan:
    schema: TableSchema
    message_name: str | None
    table_class: ClassPlan
    classes: tuple[ClassPlan, ...]  # dependency order: nested models first, the table last
    aliases: tuple[AliasPlan, ...]

    def names_used(self) -> frozenset[str]:
        """Every fixed name the annotations refer to (decides the generated imports)."""
        used: set[str] = set()
        for plan in self.classes:
            for plan_field in plan.fields:
                _collect_names(plan_field.type, used)
                if plan_field.renamed:
                    used.add("AliasChoices")
                if plan_field.renamed or plan_field.description is not None:
                    used.add("Field")
        if self.aliases:
            used |= {"Annotated", "Field"}
        if any(alias.base == "decimal" for alias in self.aliases):
            used.add("_decimal")
        return frozenset(used)


def _collect_names(ref: TypeRef, out: set[str]) -> None:
    if ref.kind == "name":
        out.add(ref.name.split(".", 1)[0])
    for arg in ref.args:
        _collect_names(arg, out)


@dataclass
class _Names:
    """Module-level names handed out so far (classes and aliases), clash-free."""

    taken: set[str] = field(default_factory=lambda: set(IMPORTED_NAMES | _BUILTIN_TYPES))

    def claim(self, wanted: str) -> str:
        name, suffix = wanted, 2
        while name in self.taken or keyword.iskeyword(name) or hasattr(builtins, name):
            name, suffix = f"{wanted}{suffix}", suffix + 1
        self.taken.add(name)
        return name


def docstring_safe(text: str) -> str:
    """Text that reads the same inside a one-line docstring (no quotes, escapes or controls)."""
    return "".join(ch if ch.isprintable() and ch not in '\\"' else "?" for ch in text).strip()


class _Planner:
    def __init__(self, schema: TableSchema) -> None:
        self.table_name = docstring_safe(schema.name)
        self.names = _Names()
        self.aliases: dict[tuple[str, int, int], AliasPlan] = {}
        # (class, its fields, their annotations) in dependency order: nested classes first.
        self.classes: list[tuple[ClassPlan, list[StructField], list[TypeRef]]] = []

    def struct_class(self, wanted: str, path: str, fields: list[StructField], is_table: bool) -> ClassPlan:
        """Plan a class: named before its nested classes (outer names win clashes), listed after them."""
        if is_table:
            doc = f"A row of table {self.table_name}."
        else:
            doc = f"A value of STRUCT column {docstring_safe(path)} of table {self.table_name}."
        plan = ClassPlan(self.names.claim(wanted), path, is_table, doc)
        refs = [self.type_ref(f.type, plan, f"{path}.{f.name}" if path else f.name) for f in fields]
        self.classes.append((plan, fields, refs))
        return plan

    def alias(self, base: str, first: int, second: int = 0) -> AliasPlan:
        key = (base, first, second)
        found = self.aliases.get(key)
        if found is None:
            if base == "decimal":
                found = AliasPlan(self.names.claim(f"Decimal{first}_{second}"), "decimal", first, second)
            else:
                found = AliasPlan(self.names.claim(f"{base.capitalize()}{first}"), "str", max_length=first)
            self.aliases[key] = found
        return found

    def type_ref(self, data_type: DataType, owner: ClassPlan, path: str) -> TypeRef:
        if isinstance(data_type, PrimitiveType):
            return TypeRef("name", DELTA_TYPES[data_type.primitive].pydantic)
        if isinstance(data_type, StringType):
            if data_type.length is None:
                return TypeRef("name", "str")
            return TypeRef("alias", alias=self.alias(data_type.kind, data_type.length))
        if isinstance(data_type, DecimalType):
            return TypeRef("alias", alias=self.alias("decimal", data_type.precision, data_type.scale))
        if isinstance(data_type, ArrayType):
            return TypeRef("list", args=(self.type_ref(data_type.element, owner, path),))
        if isinstance(data_type, MapType):
            key = self.type_ref(data_type.key, owner, path)
            return TypeRef("dict", args=(key, self.type_ref(data_type.value, owner, path)))
        # Named after the field that holds it, like the proto's nested messages.
        field_name = path.rsplit(".", 1)[-1]
        wanted = owner.name + (pascal_case(python_identifier(field_name)) or "Struct")
        return TypeRef("struct", struct=self.struct_class(wanted, path, list(data_type.fields), False))


def _attribute_names(fields: list[StructField], reserved: frozenset[str]) -> list[str]:
    taken: set[str] = set()
    names: list[str] = []
    for struct_field in fields:
        base = python_identifier(struct_field.name)
        name = base
        while keyword.iskeyword(name) or name in reserved or name in taken:
            name += "_"
        taken.add(name)
        names.append(name)
    return names


def plan_model(
    schema: TableSchema, class_name: str | None = None, message_name: str | None = None
) -> ModelPlan:
    """Decide the model classes of `schema`; the table class defaults to PascalCase of its name."""
    wanted = class_name or pascal_case(python_identifier(message_name or schema.short_name)) or "Row"
    if class_name is not None and (not class_name.isidentifier() or keyword.iskeyword(class_name)):
        raise SchemaError(f"model class name {class_name!r} is not a Python identifier")
    planner = _Planner(schema)
    table = planner.struct_class(wanted, "", [c.as_field() for c in schema], True)
    reserved = _model_attributes() | IMPORTED_NAMES | _BUILTIN_TYPES | planner.names.taken
    for plan, fields, refs in planner.classes:
        attrs = _attribute_names(fields, reserved)
        plan.fields = tuple(
            FieldPlan(struct_field.name, attr, ref, struct_field.nullable, struct_field.comment)
            for struct_field, attr, ref in zip(fields, attrs, refs, strict=True)
        )
    classes = tuple(plan for plan, _, _ in planner.classes)
    return ModelPlan(schema, message_name, table, classes, tuple(planner.aliases.values()))
