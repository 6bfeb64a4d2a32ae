"""Server tests use the plugin's session server (`zerobus_server`, `zerobus_table`)."""

from __future__ import annotations

import pytest

from zerobus.schema.descriptor import descriptor_proto, message_class
from zerobus.server import LocalZerobusServer


class TableKit:
    """A table made for one test, with its descriptor and message class."""

    def __init__(self, server: LocalZerobusServer, name: str) -> None:
        self.server = server
        self.name = name
        self.schema = server.table_schema(name)
        self.descriptor = descriptor_proto(self.schema).SerializeToString()
        self.cls = message_class(self.schema)

    def encode(self, **fields: object) -> bytes:
        return bytes(self.cls(**fields).SerializeToString())


@pytest.fixture
def make_table(zerobus_server: LocalZerobusServer, zerobus_table):  # type: ignore[no-untyped-def]
    def make(columns: str) -> TableKit:
        return TableKit(zerobus_server, zerobus_table(columns))

    return make
