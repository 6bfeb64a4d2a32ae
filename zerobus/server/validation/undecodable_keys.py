"""Internal: Find the map whose string keys upb cannot hand over, to name it in the error.

proto2 does not validate the UTF-8 of `string` fields. upb returns such a field's value as
`bytes`, which the value checks name; but a map with such a key raises `UnicodeDecodeError` as
soon as it is read, which says nothing about where the map is. This walk reads the record's
maps one by one and returns the path of the first that cannot be read.
"""

from __future__ import annotations

from typing import Any

from zerobus.schema.descriptor import is_repeated

__all__ = ["undecodable_map_path"]


def undecodable_map_path(message: Any, prefix: str = "") -> str | None:
    """``attrs{?}`` / ``loc.attrs{?}`` / ``items[2].attrs{?}``: the first map that cannot be read."""
    for field in message.DESCRIPTOR.fields:
        target = field.message_type
        if target is None:
            continue
        path = f"{prefix}{field.name}"
        value = getattr(message, field.name)
        if target.GetOptions().map_entry:
            try:
                items = list(value.items())
            except UnicodeDecodeError:
                return f"{path}{{?}}"
            if target.fields_by_name["value"].message_type is not None:
                for key, item in items:
                    found = undecodable_map_path(item, f"{path}[{key!r}].")
                    if found is not None:
                        return found
        elif is_repeated(field):
            for index, item in enumerate(value):
                found = undecodable_map_path(item, f"{path}[{index}].")
                if found is not None:
                    return found
        elif message.HasField(field.name):
            found = undecodable_map_path(value, f"{path}.")
            if found is not None:
                return found
    return None
