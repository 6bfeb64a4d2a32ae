"""Internal: Find a null where the table's Arrow schema says NOT NULL, before deltalake refuses the commit.

`pyarrow.Table.from_pylist` accepts nulls in non-nullable fields; `write_deltalake` then fails
the whole commit. Checking first lets the materializer tell which log frame holds the null and
quarantine that frame alone, instead of failing (and retrying) every frame of the commit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["null_violation"]


def null_violation(table: Any) -> str | None:
    """``"loc.lat holds a null but is NOT NULL"`` for the first such field of `table`; None if none."""
    for field, column in zip(table.schema, table.columns, strict=True):
        for chunk in column.chunks:
            found = _violation(field, chunk, field.name)
            if found is not None:
                return found
    return None


def _violation(field: Any, array: Any, path: str) -> str | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not field.nullable and array.null_count:
        return f"{path} holds a null but is NOT NULL"
    kind = field.type
    if pa.types.is_struct(kind):
        # Members of a null struct are null too; only present structs must fill NOT NULL members.
        present = array.filter(pc.is_valid(array)) if array.null_count else array
        for index, member in enumerate(present.flatten()):
            child = kind.field(index)
            found = _violation(child, member, f"{path}.{child.name}")
            if found is not None:
                return found
    elif pa.types.is_map(kind):
        found = _violation(kind.key_field, array.keys, f"{path}{{key}}")
        return found or _violation(kind.item_field, array.items, f"{path}[value]")
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _violation(kind.value_field, array.flatten(), f"{path}[]")
    return None
